"""How long the suite times each call: interleaved repeats (``_common.compare``), as many as a size's budget allows."""

from __future__ import annotations

import time

from _common import compare

BUDGET = {"small": (0.3, 20, 200), "1e4": (0.5, 10, 100), "medium": (1.0, 5, 50), "1e6": (1.5, 5, 30),
          "4e6": (2.0, 3, 15), "large": (2.0, 3, 10)}  # seconds, min, max repeats
QUICK_BUDGET = {"small": (0.1, 15, 100), "1e4": (0.2, 10, 50), "medium": (0.3, 5, 30), "1e6": (0.5, 3, 10),
                "4e6": (1.0, 3, 5), "large": (1.0, 3, 5)}
_budget = BUDGET  # the suite's run(quick=True) switches it for the whole run


def use_quick_budget(quick):
    global _budget
    _budget = QUICK_BUDGET if quick else BUDGET


def timed(fns, size):
    """Median seconds per call (``compare``), with as many repeats as the size's budget allows."""
    once = {}
    for name, fn in fns.items():  # a warm-up call each, timed, picks the repeats
        start = time.perf_counter()
        fn()
        once[name] = time.perf_counter() - start
    budget, low, high = _budget[size]
    repeats = max(low, min(high, int(budget / max(sum(once.values()), 1e-9))))
    return compare(fns, repeats=repeats, warmup=0)  # the timed call above was the warm-up
