"""Small shared helpers for the tests."""

from __future__ import annotations

import importlib
import importlib.util
import inspect

import numpy as np
import pytest

import agnostic_losses as al
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


def parameters(fn):
    """``fn``'s parameters as (name, kind, default): what a comparison of signatures compares."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def assert_common_errors(name: str, args, allowed="'none', 'mean', 'sum'"):
    """The errors every loss ``name`` gives on ``args`` (NumPy, ``input`` first) changed one way: a bad
    reduction (``allowed`` lists the good ones), an integer ``input``, an ``input`` from torch."""
    torch = need("torch")
    fn = getattr(al, name)
    with pytest.raises(ValueError, match=rf"{name}: reduction must be one of {allowed}, got 'avg'"):
        fn(*args, reduction="avg")
    with pytest.raises(TypeError, match=rf"{name}: input must have a real floating dtype, got int64"):
        fn(np.ones(args[0].shape, np.int64), *args[1:])
    with pytest.raises(TypeError, match=rf"{name}: all arrays must come from one array library, got input from torch"):
        fn(torch.tensor(args[0]), *args[1:])


def assert_value_checks(backend, expectations):
    """Each ``(call, message)`` raises its ValueError where ``backend``'s data is on the host, and is not
    checked under ``value_checks("never")``."""
    host = backend.name in ("numpy", "array_api_strict", "torch", "jax") and backend.device == "cpu"
    for call, message in expectations:
        if host:
            with pytest.raises(ValueError, match=message):
                call()
        with al.value_checks("never"):
            try:  # not checked: computed (NaN or garbage, as the data is), or the library's own error
                call()
            except Exception as exc:
                assert "must hold" not in str(exc)


def assert_compiled_gradients_are_eager(calls, x):
    """Each of ``calls`` (name -> function of the torch tensor ``x``) compiles with ``fullgraph=True`` (no
    graph break) and gives its eager gradient."""
    torch = need("torch")
    for name, call in calls.items():
        compiled = torch.compile(call, fullgraph=True, backend="aot_eager")
        (g,) = torch.autograd.grad(compiled(x), x)
        (g_eager,) = torch.autograd.grad(call(x), x)
        assert_close(g.numpy(), g_eager.numpy(), what=name)


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
