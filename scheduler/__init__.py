"""Scheduling: the injected clock, pure planning of who is due when, job callbacks
(``*_job``) and the outbox sender.  Imports ``storage``; never ``handlers``."""
