"""The loaded model kept out of Python's garbage collector's way (issue 12: p95).

Once its model is loaded, a Rasa server holds about half a million Python objects
(TensorFlow's graphs, the featurisers' vocabularies, the domain) for the life of the
process. Python's cyclic garbage collector still walks every one of them in each full
(generation 2) collection, which it runs whenever the long-lived objects have grown by a
quarter: every few hundred turns under load. Measured in `make bench` (SQLite, 8 and 32
concurrent conversations): 2 such collections in about 500 turns, 410-430 ms each, during
which the event loop answers nobody, so every conversation in flight waits: enough to
decide the p95.

:func:`freeze_loaded_heap` runs once the model is loaded (Sanic's ``after_server_start``, in
each worker) and moves every object alive then into the permanent generation the collector
does not walk (``gc.freeze``): a full collection then took 34 ms. Objects made later are
collected as before; a frozen object that becomes garbage is still freed by reference
counting (only a frozen reference cycle would stay, and the model's objects live as long as
the server).
"""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

from sanic import Blueprint, Sanic

logger = logging.getLogger(__name__)


def freeze_loaded_heap() -> int:
    """Collect once, then freeze every object alive; how many are frozen now."""
    start = time.perf_counter()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    logger.info("heap: %d objects frozen out of the garbage collector (the full collection "
                "before it took %.0f ms)", frozen, 1000 * (time.perf_counter() - start))
    return frozen


def attach(bp: Blueprint) -> None:
    """Freeze the heap once the agent is loaded (Rasa loads it before the server starts)."""

    @bp.listener("after_server_start")
    async def freeze(_app: Sanic, _loop: Any) -> None:
        freeze_loaded_heap()
