"""The benchmark suite's machinery runs (benchmarks are not tests: no time is asserted, only that rows come out)."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def suite():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import suite as module
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


def test_every_entry_is_known_and_drawn(suite):
    for bench in suite.BENCHES:
        arrays = suite.make_arrays(bench, "small")
        assert list(arrays) == list(bench.arrays), bench.name
        assert set(bench.grads) <= set(arrays), bench.name


def test_one_loss_small(suite):
    columns = ["numpy"] + (["torch"] if importlib.util.find_spec("torch") else [])
    rows = suite.run_entry(suite.BY_NAME["mse_loss"], "small", "cpu", columns, log=lambda *a: None)
    assert [r["pass"] for r in rows] == list(suite.PASSES)
    forward = rows[0]
    assert "errors" not in forward, forward.get("errors")
    assert forward["numpy ours ms"] > 0 and forward["numpy formula ms"] > 0 and forward["numpy"] > 0
    assert forward["numpy difference"] < 1e-5
    if "torch" in columns:
        for row in rows:
            assert row["torch ours ms"] > 0 and row["torch peer ms"] > 0 and row["torch"] > 0
        small = [s for s in suite.summary(rows) if s["target"].startswith("torch eager, small")]
        assert small and small[0]["holds"] is not None
