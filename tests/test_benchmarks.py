"""The benchmark suite's machinery runs (benchmarks are not tests: no time is asserted, only that rows come out)."""

import importlib.util
import json
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


def test_limits_are_the_issue_targets():
    """Each row's per-loss target: from 1e5 elements forward+backward <= 1.2 (no per-loss target for the forward
    alone); below, <= 2.5, the dynamic programs' forward+backward <= 4; the transforms' where they apply."""
    report = _script("report")
    cases = {("small", "forward", "mse_loss"): 2.5, ("1e4", "forward+backward", "mse_loss"): 2.5,
             ("small", "forward+backward", "ctc_loss"): 4.0,
             ("1e4", "fwd+bwd, input grad", "linear_cross_entropy"): 4.0,
             ("small", "forward", "ctc_loss"): 2.5, ("medium", "forward", "mse_loss"): None,
             ("medium", "forward+backward", "ctc_loss"): 1.2, ("large", "fwd+bwd, input grad", "mse_loss"): 1.2}
    for (size, pass_, loss), expected in cases.items():
        assert report.limit({"size": size, "pass": pass_, "loss": loss}) == expected, (size, pass_, loss)
    row = {"size": "small", "pass": "forward", "loss": "mse_loss"}
    assert report.transform_limits({**row, "jax peer": "jnp formula"}) == {"memory": 1.2}
    assert report.transform_limits({**row, "size": "1e6", "jax peer": "optax.squared_error"}) == {
        "memory": 1.2, "jax": 1.05, "compiled/eager": 1.0}


def _counts(ours_calls, ours_ms, peer_ms):
    side = {"python calls": 20, "ops": 3, "ops ms": peer_ms, "syncs": 0, "costliest": ["mse_loss 0.1"]}
    return {"ours": {**side, "python calls": ours_calls, "ops ms": ours_ms}, "peer": side}


def test_misses_reasons_follow_the_split_of_the_gap():
    """A fixed cost of at least half the gap is 'per call'; of the part that grows, Python calls that grow too
    name 'calls per piece or step', operations slower by half of it 'passes', else 'outside the ops'."""
    misses = _script("misses")
    row = {"loss": "mse_loss", "size": "1e6", "pass": "forward+backward", "torch ours ms": 3.0, "torch peer ms": 1.0}
    small, big_fixed = {"torch ours ms": 0.2, "torch peer ms": 0.1}, {"torch ours ms": 1.2, "torch peer ms": 0.1}
    at_small = _counts(90, 0.01, 0.01)
    assert misses.reason(row, big_fixed, _counts(90, 2.0, 1.0), at_small)[0] == "per call"
    assert misses.reason(row, small, _counts(900, 2.0, 1.0), at_small)[0] == "calls per piece or step"
    assert misses.reason(row, small, _counts(90, 2.0, 1.0), at_small)[0] == "passes"
    assert misses.reason(row, small, _counts(90, 1.2, 1.0), at_small)[0] == "outside the ops"
    assert misses.reason(row, None, _counts(90, 2.0, 1.0))[0] == "no small row"
    assert misses.reason({**row, "size": "small"}, None, _counts(90, 2.0, 1.0))[0] == "per call"
    negative = misses.reason(row, {"torch ours ms": 0.1, "torch peer ms": 0.2}, _counts(90, 2.0, 1.0), at_small)
    assert negative[1].startswith("2 of the 2 ms gap")  # a small row where ours is quicker: no fixed cost


def test_misses_select_the_rows_over_their_targets(tmp_path, monkeypatch):
    """Only the rows over their target are listed, each with its reason; the small row's counts are taken once."""
    misses = _script("misses")
    env = {"date": "2026-12-07"}
    rows = [{"loss": "mse_loss", "size": "small", "pass": "forward", "torch ours ms": 0.02, "torch peer ms": 0.01,
             "torch": 2.0},
            {"loss": "mse_loss", "size": "1e4", "pass": "forward", "torch ours ms": 0.03, "torch peer ms": 0.01,
             "torch": 3.0},
            {"loss": "mse_loss", "size": "1e6", "pass": "forward", "torch ours ms": 9.0, "torch peer ms": 1.0,
             "torch": 9.0}]
    transforms = [{"loss": "mse_loss", "size": "1e6", "pass": "forward", "jax peer": "optax.squared_error",
                   "jax": 1.5, "jax ours ms": 1.5, "jax peer ms": 1.0, "compiled/eager": 2.0, "compile": 0.5,
                   "memory": 1.1, "memory ours MB": 1.1, "memory peer MB": 1.0},
                  {"loss": "mse_loss", "size": "1e4", "pass": "forward+backward", "jax peer": "jnp formula",
                   "jax": 9.0, "memory": 3.0, "memory ours MB": 0.03, "memory peer MB": 0.01}]
    (tmp_path / "s.json").write_text(json.dumps({"environment": env, "rows": rows}))
    (tmp_path / "t.json").write_text(json.dumps({"environment": env, "rows": transforms}))
    monkeypatch.setattr(misses, "RESULTS", tmp_path)
    asked = []
    monkeypatch.setattr(misses, "counted", lambda bench, size, pass_: asked.append(size) or _counts(90, 0.1, 0.1))
    _, n, found = misses.torch_misses("s")
    assert n == 3 and [(f["size"], f["reason"]) for f in found] == [("1e4", "per call")]
    assert asked == ["1e4", "small"]
    _, found = misses.transform_misses("t", again=False)
    assert [(f["column"], f["reason"]) for f in found] == [("jax", "not profiled"),
                                                           ("compiled/eager", "torch's compiled loss"),
                                                           ("memory", "resolution")]


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed")
def test_misses_counts_both_sides_of_a_call(suite):
    """One row's call profiled on each side: Python calls, computing operations, their time, host reads."""
    misses = _script("misses")
    counts = misses.counted(suite.BY_NAME["nll_loss"], "small", "forward")
    for side in ("ours", "peer"):
        assert counts[side]["python calls"] > 0 and counts[side]["ops"] > 0 and counts[side]["ops ms"] > 0
        assert 1 <= len(counts[side]["costliest"]) <= 3
    assert counts["peer"]["syncs"] == 0 and counts["ours"]["syncs"] >= 1  # ours reads the class indices' range
    assert counts["ours"]["python calls"] > counts["peer"]["python calls"]


def test_misses_transforms_measured_again():
    """A jax row that holds its target when timed again is drift; else the programs' cost analysis names more
    traffic, more arithmetic or XLA's code; a memory row with a run under the target varies."""
    misses = _script("misses")
    row = {"loss": "kl_div", "size": "1e6", "pass": "forward+backward", "jax peer": "optax.kl_divergence",
           "jax": 1.5, "jax ours ms": 1.5, "jax peer ms": 1.0}
    same = {"ratio": 1.3, "ours ms": 1.3, "peer ms": 1.0, "ours bytes": 4e7, "peer bytes": 4e7, "ours flops": 1e7,
            "peer flops": 1e7, "ours fusions": 4, "peer fusions": 4}
    assert misses.transform_reason(row, "jax", {**same, "ratio": 1.02})[0] == "drift"
    assert misses.transform_reason(row, "jax", {**same, "ours bytes": 6e7})[0] == "more traffic"
    assert misses.transform_reason(row, "jax", {**same, "ours flops": 2e7})[0] == "more arithmetic"
    assert misses.transform_reason(row, "jax", same)[0] == "XLA's code"
    assert misses.transform_reason(row, "jax")[0] == "not profiled"
    memory = {**row, "memory": 1.5, "memory ours MB": 15.0, "memory peer MB": 10.0}
    assert misses.transform_reason(memory, "memory", {"ratios": [1.5, 1.1], "ours MB": [15.0, 11.0],
                                                      "peer MB": [10.0, 10.0]})[0] == "varies"
    assert misses.transform_reason(memory, "memory", {"ratios": [1.5, 1.4], "ours MB": [15.0, 14.0],
                                                      "peer MB": [10.0, 10.0]})[0] == "not profiled"


def test_misses_compiled_rows():
    """A compiled row splits into torch's own compiled loss against its eager one and ours against torch's
    compiled; timed again, a row under the target is drift."""
    misses = _script("misses")
    row = {"loss": "mse_loss", "size": "1e6", "pass": "forward", "jax peer": "jnp formula"}
    reason = misses.transform_reason
    assert reason({**row, "compiled/eager": 2.0, "compile": 0.8}, "compiled/eager")[0] == "torch's compiled loss"
    assert reason({**row, "compiled/eager": 2.0, "compile": 1.5}, "compiled/eager")[0] == "both compiled"
    ours = {**row, "compiled/eager": 1.5, "compile": 2.0}
    assert misses.transform_reason(ours, "compiled/eager")[0] == "compiled"
    assert misses.transform_reason(ours, "compiled/eager", {"compiled/eager": 0.9, "compile": 1.2})[0] == "drift"
    assert misses.transform_reason(ours, "compiled/eager", {"compiled/eager": 1.4, "compile": 1.6})[0] == "compiled"
    timed = {"compiled/eager": 1.4, "compile": 1.6, "compiled ours ms": 0.06, "compiled peer ms": 0.04}
    at_small = {"compiled ours ms": 0.035, "compiled peer ms": 0.02}  # 0.015 of the 0.02 ms gap: a call's cost
    assert reason(ours, "compiled/eager", timed, at_small)[0] == "compiled call"
    at_small = {"compiled ours ms": 0.025, "compiled peer ms": 0.02}
    assert reason(ours, "compiled/eager", timed, at_small)[0] == "compiled"
