"""The offline demo console: the real Application against an in-process Bot API stand-in,
a sample organisation and a simulated clock.  Tests drive the same stand-in."""
