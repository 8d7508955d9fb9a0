"""Garbage-collector settings for a long-running bot process (``bot.py run``)."""

from __future__ import annotations

import gc

#: Allocations (net) between young collections; CPython's default is 700.
YOUNG = 10_000


def settle_heap() -> None:
    """Freeze what was loaded at start and collect the young generation less often.

    Everything loaded at start (the FAQ index, jieba's dictionary, the catalogs) moves out
    of the collector's sight: a full collection then walks only what updates create. With
    it included, full collections paused the bot for 150–190 ms every few seconds under load
    (``benchmarks/load_bench.py``, ``/report`` at 100 a second); frozen, 15–80 ms, every
    ~7 s — each one touching a few of the updates in flight. With young collections every
    10,000 allocations instead of 700, the full ones come about ten times less often (the
    same open loop: one 35 ms pause in 20 s). Memory only waits longer for cyclic garbage;
    everything else is freed by reference counting as before.
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG, older, oldest)
