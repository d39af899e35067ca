"""The conformance suite under pytest: every catalogue case on every installed backend.

One test per (loss, backend), native primitives, and the same for the
forced-generic primitives on the backends whose native paths differ (torch,
JAX).  Also: the command line and its reports, and a check that the suite
does fail a loss that breaks torch's kink convention.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import re
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from conformance import backends, catalogue, runner
from conformance.__main__ import main

from helpers import need

need("torch")  # the reference


# `python -m conformance` runs every case (the committed report); the tests run a fixed sample of the cases where
# a backend is slow to run them all: JAX compiles each case twice (eager and jit; the scan-based losses most),
# Dask builds a graph per step of the scans, and kornia's and MONAI's many cases are judged by finite differences
# of the oracle.  One case in STEP, chosen by a hash of its name, and at least one of every group of cases that
# differ only in shape: no option, optional array, edge (a kink, a tie) or dtype is left out.
STEP = {
    "default": {"focal_loss": 3, "dice_loss": 3, "tversky_loss": 3, "generalized_dice_loss": 3},
    "jax": {"default": 2, "ctc_loss": 4, "linear_cross_entropy": 4, "sigmoid_focal_loss": 4, "focal_loss": 4,
            "generalized_box_iou_loss": 4, "distance_box_iou_loss": 4, "complete_box_iou_loss": 4,
            "cosine_distance": 4, "dice_loss": 8, "tversky_loss": 8, "generalized_dice_loss": 8},
    "dask": {"ctc_loss": 4, "linear_cross_entropy": 4},
}
GENERIC_STEP = {"jax": 4}  # the generic primitives again, in float32: their numerics do not depend on the case


def _group(case) -> tuple:
    """The case's name without its shape: ``loss[shape|options|optional arrays|edge]dtype``."""
    head, rest = case.id.split("[", 1)
    return head, rest.split("|", 1)[1]


@functools.lru_cache(maxsize=4)
def _catalogue(loss, dtypes=catalogue.DTYPES):
    return catalogue.cases([loss], dtypes=dtypes)


def _cases(loss, backend, generic=False, **kwargs):
    steps = {**STEP["default"], **STEP.get(backend.name, {})}
    step = max(steps.get(loss, steps.get("default", 1)), GENERIC_STEP.get(backend.name, 1) if generic else 1)
    cases = _catalogue(loss, **kwargs)
    kept = {c.id for c in cases if zlib.crc32(c.id.encode()) % step == 0}
    groups = {}
    for c in cases:
        groups.setdefault(_group(c), []).append(c)
    kept |= {members[0].id for members in groups.values() if not any(m.id in kept for m in members)}
    return [c for c in cases if c.id in kept]


def test_the_sample_keeps_every_group_of_cases():
    """Every (options, optional arrays, edge, dtype) of every loss has a case on every backend's sample."""
    for loss in catalogue.loss_names():
        everything = {_group(c) for c in _catalogue(loss)}
        for name, generic in (("jax", False), ("jax", True), ("dask", False)):
            assert {_group(c) for c in _cases(loss, backends.make(name), generic)} == everything, (name, loss, generic)


def _failures(results):
    return "\n".join(f"{r.case}: {r.message}" for r in results if not r.passed)


def _oracle(loss):
    """Skip a loss whose oracle library (scikit-learn, scoringrules, optax) is not installed."""
    from conformance import oracles

    if oracles.missing(loss):
        pytest.skip(oracles.missing(loss))


@pytest.mark.parametrize("loss", catalogue.loss_names())
def test_catalogue_passes(backend, loss):
    _oracle(loss)
    results = runner.run(_cases(loss, backend), [backend])
    assert results and all(r.passed for r in results), _failures(results)


@pytest.mark.parametrize("loss", catalogue.loss_names())
def test_catalogue_passes_with_generic_primitives(ad_backend, loss):
    """float32 only: the generic primitives' numerics do not depend on the dtype, and JAX's jit is slow to compile."""
    _oracle(loss)
    results = runner.run(_cases(loss, ad_backend, generic=True, dtypes=("float32",)), [ad_backend], generic=True)
    assert results and all(r.passed for r in results), _failures(results)


def test_the_suite_fails_a_wrong_kink_gradient(ad_backend, monkeypatch):
    """An l1_loss whose |d|'(0) is 1 (jnp.abs's convention) must fail the tie cases, and only those."""
    import agnostic_losses as al
    from agnostic_losses._primitives import array_namespace

    def one_sided_sign(d):
        return array_namespace(d).where(d >= 0, 1.0, -1.0)

    from conformance.backends import _value_and_vjp

    def one_sided_derivatives(wanted, input, target):
        return al.regression._of_difference(wanted, one_sided_sign(input - target))

    wrong = al.loss(al.regression._absolute, name="l1_loss", derivatives=one_sided_derivatives, targets=("target",),
                    weighted_mean="given")
    monkeypatch.setattr(al.regression, "_L1", wrong)
    cases = [c for c in catalogue.cases(["l1_loss"]) if "tie_d=0" in c.id or "random" in c.id][:60]
    _value_and_vjp.cache_clear()  # no jit trace of the right l1_loss may be reused, nor this one kept
    try:
        results = runner.run(cases, [ad_backend])
    finally:
        _value_and_vjp.cache_clear()
    failed = {r.case for r in results if not r.passed}
    assert failed and all("tie_d=0" in c for c in failed)
    assert any(r.passed for r in results if "random" in r.case)


def test_cases_are_reproducible():
    a, b = catalogue.cases(["huber_loss"]), catalogue.cases(["huber_loss"])
    assert [c.id for c in a] == [c.id for c in b]
    for x, y in zip(a, b):
        for k in x.arrays:
            np.testing.assert_array_equal(x.arrays[k], y.arrays[k])


def test_command_line_writes_reports(tmp_path, capsys):
    js, md = tmp_path / "r.json", tmp_path / "r.md"
    code = main(["--backend", "numpy", "--loss", "l1_loss,mse_loss", "--dtype", "float64",
                 "--json", str(js), "--markdown", str(md)])
    out = capsys.readouterr().out
    assert code == 0
    assert "l1_loss" in out and "mse_loss" in out and "0 failed" in out
    report = json.loads(js.read_text())
    assert {row["loss"] for row in report["summary"]} == {"l1_loss", "mse_loss"}
    assert all(row["passed"] == row["total"] > 0 for row in report["summary"])
    assert "| l1_loss | torch.nn.functional.l1_loss | numpy (cpu) |" in md.read_text()


def test_oracle_entries_name_their_oracle_in_the_report(tmp_path, capsys):
    js = tmp_path / "r.json"
    assert main(["--backend", "numpy", "--loss", "metrics.r2_score,log_cosh_loss", "--dtype", "float64",
                 "--json", str(js)]) == 0
    report = json.loads(js.read_text())
    assert {(row["loss"], row["reference"]) for row in report["summary"]} == {
        ("metrics.r2_score", "sklearn.metrics.r2_score"), ("log_cosh_loss", "optax.losses.log_cosh")}
    assert "sklearn.metrics.r2_score" in capsys.readouterr().out


def test_an_oracle_formula_that_drifts_from_its_oracle_fails_its_cases(monkeypatch):
    """The catalogue's torch formula of an oracle is checked against the oracle itself: a formula with the right
    value and a wrong gradient fails the random cases (finite differences), one with a wrong value every case."""
    import dataclasses

    from conformance import oracles

    right = oracles.ORACLES["mape_loss"]
    cases = [c for c in catalogue.cases(["mape_loss"], dtypes=("float64",)) if "|random]" in c.id][:4]
    backend = backends.make("numpy")
    assert all(r.passed for r in runner.run(cases, [backend]))

    def no_gradient(input, target, **options):  # the value, detached, plus 0 * input: a gradient of 0
        return right.formula(input.detach(), target.detach(), **options) + 0 * input.sum() + 0 * target.sum()

    def off_by_a_little(input, target, **options):
        return right.formula(input, target, **options) * (1 + 1e-6)

    for wrong, message in ((no_gradient, "is not the finite differences"), (off_by_a_little, "formula gives")):
        monkeypatch.setitem(oracles.ORACLES, "mape_loss", dataclasses.replace(right, formula=wrong))
        monkeypatch.setattr(runner, "_ORACLE_ANSWERS", {})  # answers are kept per case: not the right formula's
        results = runner.run(cases, [backend])
        assert results and not any(r.passed for r in results)
        assert all(r.message.startswith("oracle: ") and message in r.message for r in results), results[0].message


def test_command_line_exit_status_is_nonzero_on_failure(monkeypatch, capsys):
    import agnostic_losses as al

    monkeypatch.setattr(al, "mse_loss", lambda input, target, **kw: al.l1_loss(input, target, **kw))
    assert main(["--backend", "numpy", "--loss", "mse_loss", "--dtype", "float64"]) == 1
    assert "FAILED" in capsys.readouterr().out


def _help_dtypes(text: str) -> list:
    """The default that ``--help`` states for ``--dtype``."""
    found = re.search(r"--dtype DTYPE\s.*?default:?\s*([\w,]+)", " ".join(text.split()))
    assert found, text
    return found.group(1).split(",")


def test_help_states_the_dtypes_a_default_run_takes(monkeypatch):
    """From issue 25: ``--help`` once said the ``--dtype`` default was float32,float64 while a run took all
    four; the default it states is the catalogue's DTYPES, which a run without ``--dtype`` passes on."""
    done = subprocess.run([sys.executable, "-m", "conformance", "--help"], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent, env={**os.environ, "COLUMNS": "100"})
    assert done.returncode == 0, done.stderr
    stated = _help_dtypes(done.stdout)
    default = inspect.signature(catalogue.cases).parameters["dtypes"].default  # the catalogue's own default
    taken = []

    class Stop(Exception):
        pass

    def cases(losses=None, dtypes=None):
        taken.extend(dtypes)
        raise Stop

    monkeypatch.setattr(catalogue, "cases", cases)
    with pytest.raises(Stop):
        main(["--backend", "numpy"])
    assert stated == taken == list(catalogue.DTYPES) == list(default)


def test_unknown_backend_and_loss_are_errors():
    with pytest.raises(ValueError, match="unknown backend 'tensorflow'"):
        main(["--backend", "tensorflow"])
    with pytest.raises(ValueError, match="no conformance entry"):
        catalogue.cases(["nope_loss"])
