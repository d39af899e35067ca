"""Small shared helpers for the tests."""

from __future__ import annotations

import importlib
import importlib.util

import numpy as np
import pytest

from conformance import backends as B
from conformance.runner import error, output_shape
from conformance.tolerances import TOLERANCES


def installed(module: str) -> bool:
    """Whether an optional backend is installed (for the parts of a test that run only then)."""
    return importlib.util.find_spec(module) is not None


def need(module: str):
    """Import ``module`` or skip the test, naming what is missing."""
    if not installed(module):
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


def hessian_diagonal(backend: str, fn, x, t):
    """The diagonal of the Hessian in ``x`` of ``sum(fn(x, t))`` (float64; torch: double backward, JAX:
    ``grad`` of ``grad``); for an elementwise loss, the whole Hessian."""
    if backend == "torch":
        import torch

        x = torch.tensor(x, requires_grad=True)
        (g,) = torch.autograd.grad(fn(x, torch.tensor(t)).sum(), x, create_graph=True)
        if not g.requires_grad:  # piecewise linear: the gradient does not depend on x
            return np.zeros(x.shape)
        return torch.autograd.grad(g.sum(), x)[0].numpy(force=True)
    jax = need("jax")
    grad = jax.grad(lambda x: fn(x, jax.numpy.asarray(t)).sum())
    return np.asarray(jax.jit(jax.grad(lambda x: grad(x).sum()))(jax.numpy.asarray(x)))
