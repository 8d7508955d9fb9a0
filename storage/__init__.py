"""Storage: SQLAlchemy models, engine and session factories, services and policy.

Services are plain async functions ``verb_noun(*, session, ...)`` that may ``flush()`` but
never ``commit()``: the caller (a handler or job) owns the one transaction of its update.
This package never imports ``telegram``.
"""
