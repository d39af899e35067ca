"""The benchmark suite's machinery runs (benchmarks are not tests: no time is asserted, only that rows come out)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _script(name):
    """The module of ``benchmarks/<name>.py``."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def suite():
    return _script("suite")


def test_every_entry_is_known_and_drawn(suite):
    for bench in suite.BENCHES:
        arrays = suite.make_arrays(bench, "small")
        assert list(arrays) == list(bench.arrays), bench.name
        assert set(bench.grads) <= set(arrays), bench.name


def test_bench_data_are_the_catalogue_draws(suite):
    """The benches draw their arrays with the conformance catalogue's draw functions (in float32), so that the
    two never drift apart; only the lengths of full-length CTC sequences are the benchmarks' own."""
    from conformance import catalogue

    own = {"full_length"}
    for bench in suite.BENCHES:
        shapes = bench.shapes["small"]
        for name, draw in bench.arrays.items():
            source = getattr(draw, "catalogue", None)
            if source is None:
                assert draw.__qualname__.split(".")[0] in own, (bench.name, name)
                continue
            assert getattr(catalogue, source.__name__) is source, (bench.name, name)
            if hasattr(draw, "dtype"):  # the catalogue's draw as it is, in the dtype the benches time
                drawn = draw(np.random.default_rng(0), shapes[name], shapes)
                expected = source(np.random.default_rng(0), shapes[name], draw.dtype)
                assert drawn.dtype == np.float32 and np.array_equal(drawn, expected), (bench.name, name)


def test_one_loss_small(suite):
    columns = ["numpy"] + (["torch"] if importlib.util.find_spec("torch") else [])
    rows = suite.run_entry(suite.BY_NAME["mse_loss"], "small", "cpu", columns, log=lambda *a: None)
    assert [r["pass"] for r in rows] == list(suite.PASSES) + ([suite.INPUT_GRAD] if "torch" in columns else [])
    forward = rows[0]
    assert "errors" not in forward, forward.get("errors")
    assert forward["numpy ours ms"] > 0 and forward["numpy formula ms"] > 0 and forward["numpy"] > 0
    assert forward["numpy difference"] < 1e-5
    if "torch" in columns:
        for row in rows:
            assert row["torch ours ms"] > 0 and row["torch peer ms"] > 0 and row["torch"] > 0
        small = [s for s in suite.summary(rows) if s["target"].startswith("torch eager, small")]
        assert small and all(s["holds"] is not None for s in small)


def test_every_size_of_the_sweep_is_drawn_or_left_out(suite):
    """Each entry has shapes at the sweep's ends and draws them at each size it has; a size it lacks gives no
    rows (multilabel_margin_loss's formulas at 1e6 would hold 1e9 elements)."""
    for bench in suite.BENCHES:
        assert {"small", "medium", "large"} <= set(bench.shapes) <= set(suite.SIZES), bench.name
    assert suite.run_entry(suite.BY_NAME["multilabel_margin_loss"], "1e6", "cpu", ["numpy"]) == []
    sizes = {size: sum(a.size for a in suite.make_arrays(suite.BY_NAME["mse_loss"], size).values()) // 2
             for size in suite.SIZES}
    assert sizes == {"small": 64, "1e4": 10**4, "medium": 10**5, "1e6": 10**6, "4e6": 4 * 10**6, "large": 10**7}


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed")
def test_misses_profiles_a_row_and_names_its_reason(suite):
    """misses.py counts one row's Python calls and operations on both sides, and its reason follows the split
    of the gap: a fixed cost of at least half the gap is 'per call', else the ops' time decides."""
    misses = _script("misses")
    counts = misses.counted(suite.BY_NAME["mse_loss"], "small", "forward+backward")
    for side in ("ours", "peer"):
        assert counts[side]["python calls"] > 0 and counts[side]["ops"] > 0 and counts[side]["ops ms"] > 0
    assert counts["ours"]["syncs"] == 0 and len(counts["ours"]["costliest"]) <= 3
    row = {"loss": "mse_loss", "size": "1e6", "pass": "forward+backward", "torch ours ms": 3.0, "torch peer ms": 1.0}
    assert misses.reason(row, {"torch ours ms": 1.2, "torch peer ms": 0.1}, counts)[0] == "per call"
    slower = {side: {**c, "ops ms": {"ours": 2.0, "peer": 1.0}[side]} for side, c in counts.items()}
    assert misses.reason(row, {"torch ours ms": 0.2, "torch peer ms": 0.1}, slower)[0] == "passes"
    quicker = {side: {**c, "ops ms": {"ours": 1.0, "peer": 2.0}[side]} for side, c in counts.items()}
    assert misses.reason(row, {"torch ours ms": 0.2, "torch peer ms": 0.1}, quicker)[0] == "outside the ops"
    assert misses.limit({**row, "pass": "forward"}) is None and misses.limit(row) == 1.2
