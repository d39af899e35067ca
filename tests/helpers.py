"""Small shared helpers for the tests."""

from __future__ import annotations

import importlib
import importlib.util

import numpy as np
import pytest

from conformance import backends as B
from conformance.runner import error, output_shape
from conformance.tolerances import TOLERANCES


def need(module: str):
    """Import ``module`` or skip the test, naming what is missing."""
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")
    return importlib.import_module(module)


def assert_close(ours, ref, dtype="float64", what="value"):
    """``ours`` equals ``ref`` within the conformance tolerance of ``dtype`` (NaN meets NaN)."""
    err = error(ours, ref, dtype)
    assert err <= TOLERANCES[dtype][0], f"{what}: error {err:.3g}\nours={ours}\nref={ref}"


def torch_reference(fn, arrays, options=(), grads=(), cotangent=None):
    """Value and gradients of a torch function on float64 CPU tensors of ``arrays`` (cotangent: ones)."""
    options = dict(options)
    cot = np.ones(output_shape(fn, arrays, options)) if cotangent is None else cotangent
    value, g, _ = B.Torch().evaluate(fn, arrays, options, "float64", tuple(grads), cot)["eager"]
    return value, g, cot
