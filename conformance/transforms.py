"""Every loss under every transform: one representative case per catalogue entry, each transform
checked against torch.nn (float64, CPU unless a device is named).

A check returns ``(status, detail)`` with status "pass", "fail" or "n/a" (the
transform does not apply: torch has no double backward for the loss, a
backend or device is missing); the tests run each check, and
``python -m conformance --transforms`` prints the loss x transform matrix.

- ``jax.jit``, ``jax.grad``: value and vector-Jacobian product under jit.
- ``jax.vmap``, ``torch.func.vmap``: the loss of three stacked cases at once
  equals the three losses one by one.
- ``jax.hvp``, ``torch double backward``: the derivative of the gradient along
  a random direction (``jax.jvp`` of ``jax.grad``; ``autograd.grad`` with
  ``create_graph=True``) equals torch.nn's double backward, where torch has one.
- ``torch.compile``: ``fullgraph=True`` (no graph break), value and gradient.
- ``torch.compile, no grad``: ``fullgraph=True`` with no input requiring a
  gradient (grad mode on: a validation loss, metrics code), under
  ``torch.no_grad()`` and under ``torch.inference_mode()``: the value.
- ``jax.jit, optional arrays``: ``jax.jit`` with each optional array
  (``weight``, ``pos_weight``, ``linear_bias``; ``var`` as an array) passed
  as a traced argument: the value.
- ``torch.func.grad``: the gradient by torch.func.
- ``dask``: on chunked arrays, built lazily (nothing computed by the call),
  equal to NumPy, and no task's result is as large as the largest input (the
  input is never materialised whole on one worker).
- ``cupy``: on the GPU, the result a CuPy array on the inputs' device.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import warnings

import numpy as np

from . import backends as B
from . import catalogue, runner
from .oracles import ORACLES
from .tolerances import TOLERANCES

DTYPE = "float64"


@functools.cache
def representative_cases() -> dict:
    """One float64 case per catalogue entry: random data, default options, the first shape of two or
    more axes of two or more (so that vmap, Dask chunks and sharding have something to split)."""
    chosen = {}
    for case in catalogue.cases(dtypes=(DTYPE,)):
        name = case.id.split("[")[0]
        default = all(case.options.get(k) == v[0] for k, v in _entry(case).options.items())
        first = next(iter(case.arrays.values()))
        if case.loss in ORACLES:  # a metric's labels or observations come first: its array of most axes
            first = max(case.arrays.values(), key=lambda a: a.ndim)
        if name in chosen or "random" not in case.id or not default or first.ndim < 2 or min(first.shape) < 2:
            continue
        if any(np.issubdtype(a.dtype, np.floating) and a.size == 0 for a in case.arrays.values()):
            continue
        chosen[name] = case
    return chosen


def with_reductions(options: dict) -> list[dict]:
    """``options``, and with reduction 'sum' and 'mean' where the loss has a reduction: reductions
    across chunks and shards must add up."""
    if "reduction" not in options:
        return [options]
    return [options] + [{**options, "reduction": r} for r in ("sum", "mean") if r != options["reduction"]]


def _entry(case):
    return next(e for e in catalogue.CATALOGUE if e.name == case.loss
                and case.id.startswith(f"{e.name}/{e.variant}[" if e.variant else f"{e.name}["))


def _close(ours, ref, what):
    err = runner.error(ours, ref, DTYPE)
    if err > TOLERANCES[DTYPE][0]:
        raise AssertionError(f"{what}: error {err:.3g}")


def _need(*modules):
    for m in modules:
        if importlib.util.find_spec(m) is None:
            return f"{m} is not installed"
    return None


def _reference(case):
    """torch.nn's value and vector-Jacobian product (float64, CPU) and the cotangent."""
    cot, _ = runner.exact_answer(case)
    fn = runner.loss_function("torch", case.loss, case.through)
    value, grads, _ = B.Torch().evaluate(fn, case.arrays, case.torch_options, DTYPE, case.grads, cot)["eager"]
    return value, grads, cot


def _stacked(case, copies=3):
    """``copies`` versions of the case's arrays (floating ones shifted by 1e-3 per copy), stacked on a new axis 0."""
    versions = [{k: a + 1e-3 * i if np.issubdtype(a.dtype, np.floating) else a for k, a in case.arrays.items()}
                for i in range(copies)]
    return versions, {k: np.stack([v[k] for v in versions]) for k in case.arrays}


# --- JAX --------------------------------------------------------------------------

def _jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax, jax.numpy


def jax_jit(case):
    jax, jnp = _jax()
    value, grads, cot = _reference(case)
    fn = runner.loss_function("ours", case.loss, case.through)
    arrays = {k: jnp.asarray(a) for k, a in case.arrays.items()}
    out = jax.jit(lambda a: fn(**a, **case.options))(arrays)
    _close(np.asarray(out), value, "value")


@functools.cache
def _float64_cases() -> dict:
    return {c.id: c for c in catalogue.cases(dtypes=(DTYPE,))}


def jax_jit_optional(case):
    """``jax_jit`` on the case's siblings with each optional array present, every array a traced argument."""
    entry = _entry(case)
    if not entry.optional:
        if "var" not in case.arrays:
            return "n/a", "no optional array"
        return jax_jit(case)  # var as an array: one of the traced arguments
    for name in entry.optional:
        sibling = _float64_cases().get(case.id.replace("|-|random]", f"|{name}|random]"))
        if sibling is None or name not in sibling.arrays:
            raise AssertionError(f"no catalogue case with {name} beside {case.id}")
        try:
            jax_jit(sibling)
        except AssertionError as exc:
            raise AssertionError(f"with {name}: {exc}") from None
    return None


def jax_grad(case):
    if not case.grads:
        return "n/a", "no differentiable array"
    jax, jnp = _jax()
    value, grads, cot = _reference(case)
    fn = runner.loss_function("ours", case.loss, case.through)
    diff = {k: jnp.asarray(case.arrays[k]) for k in case.grads}
    fixed = {k: jnp.asarray(a) for k, a in case.arrays.items() if k not in case.grads}
    scalar = lambda d: jnp.sum(fn(**d, **fixed, **case.options) * jnp.asarray(cot))
    got = jax.jit(jax.grad(scalar))(diff)
    for k in case.grads:
        _close(np.asarray(got[k]), grads[k], f"d/d{k}")


def jax_vmap(case):
    jax, jnp = _jax()
    fn = runner.loss_function("ours", case.loss, case.through)
    versions, stacked = _stacked(case)
    out = jax.jit(jax.vmap(lambda a: fn(**a, **case.options)))({k: jnp.asarray(a) for k, a in stacked.items()})
    for i, v in enumerate(versions):
        one = fn(**{k: jnp.asarray(a) for k, a in v.items()}, **case.options)
        _close(np.asarray(out[i]), np.asarray(one), f"batch element {i}")


def _direction(case, name):
    return np.random.default_rng(case.seed + 2).standard_normal(case.arrays[name].shape)


def _torch_hvp(fn, case, name, direction, options):
    """The derivative of fn's cotangent-weighted gradient along ``direction``, by torch's double backward."""
    import torch

    cot, _ = runner.exact_answer(case)
    arrays = {k: torch.tensor(a, requires_grad=(k == name)) for k, a in case.arrays.items()}
    out = (fn(**arrays, **options) * torch.tensor(cot)).sum()
    (g,) = torch.autograd.grad(out, arrays[name], create_graph=True)
    if not g.requires_grad:  # piecewise linear: the gradient does not depend on the input
        return np.zeros(case.arrays[name].shape)
    (h,) = torch.autograd.grad(g, arrays[name], torch.tensor(direction), allow_unused=True)
    return np.zeros(case.arrays[name].shape) if h is None or h._is_zerotensor() else h.numpy()


def _torch_second_order(case):
    """torch.nn's Hessian-vector product for the first differentiable array, or an n/a reason."""
    if not case.grads:
        return None, "no differentiable array"
    name = case.grads[0]
    try:
        return _torch_hvp(runner.loss_function("torch", case.loss, case.through), case, name,
                          _direction(case, name), case.torch_options), None
    except (RuntimeError, NotImplementedError) as exc:
        return None, f"torch has no double backward for {case.loss} ({str(exc).splitlines()[0][:80]})"


def jax_hvp(case):
    ref, reason = _torch_second_order(case)
    if reason:
        return "n/a", reason
    jax, jnp = _jax()
    name = case.grads[0]
    cot, _ = runner.exact_answer(case)
    fn = runner.loss_function("ours", case.loss, case.through)
    fixed = {k: jnp.asarray(a) for k, a in case.arrays.items() if k != name}
    grad = jax.grad(lambda x: jnp.sum(fn(**{name: x}, **fixed, **case.options) * jnp.asarray(cot)))
    _, hvp = jax.jit(lambda x, v: jax.jvp(grad, (x,), (v,)))(jnp.asarray(case.arrays[name]),
                                                              jnp.asarray(_direction(case, name)))
    _close(np.asarray(hvp), ref, f"Hessian-vector product in {name}")


# --- torch ------------------------------------------------------------------------

def torch_compile(case):
    import torch

    value, grads, cot = _reference(case)
    fn = runner.loss_function("ours", case.loss, case.through)
    torch._dynamo.reset()
    compiled = torch.compile(lambda **a: fn(**a, **case.options), fullgraph=True)
    got = B.Torch().evaluate(compiled, case.arrays, {}, DTYPE, case.grads, cot)["eager"]
    _close(got[0], value, "value")
    for k in case.grads:
        _close(got[1][k], grads[k], f"d/d{k}")


def torch_compile_no_grad(case):
    """The compiled loss's value where no input requires a gradient: with grad mode on, under
    ``torch.no_grad()`` and under ``torch.inference_mode()``."""
    import torch

    value, _, _ = _reference(case)
    fn = runner.loss_function("ours", case.loss, case.through)
    arrays = {k: torch.tensor(a) for k, a in case.arrays.items()}
    for mode in (contextlib.nullcontext, torch.no_grad, torch.inference_mode):
        torch._dynamo.reset()
        compiled = torch.compile(lambda **a: fn(**a, **case.options), fullgraph=True)
        with mode():
            out = compiled(**arrays)
        _close(out.numpy(), value, f"value ({mode.__name__})")


def torch_func_grad(case):
    if not case.grads:
        return "n/a", "no differentiable array"
    import torch

    value, grads, cot = _reference(case)
    fn = runner.loss_function("ours", case.loss, case.through)
    diff = {k: torch.tensor(case.arrays[k]) for k in case.grads}
    fixed = {k: torch.tensor(a) for k, a in case.arrays.items() if k not in case.grads}
    got = torch.func.grad(lambda d: (fn(**d, **fixed, **case.options) * torch.tensor(cot)).sum())(diff)
    for k in case.grads:
        _close(got[k].numpy(), grads[k], f"d/d{k}")


def torch_func_vmap(case):
    import torch

    fn = runner.loss_function("ours", case.loss, case.through)
    versions, stacked = _stacked(case)
    out = torch.func.vmap(lambda a: fn(**a, **case.options))({k: torch.tensor(a) for k, a in stacked.items()})
    for i, v in enumerate(versions):
        one = fn(**{k: torch.tensor(a) for k, a in v.items()}, **case.options)
        _close(out[i].numpy(), one.numpy(), f"batch element {i}")


def torch_double_backward(case):
    ref, reason = _torch_second_order(case)
    if reason:
        return "n/a", reason
    name = case.grads[0]
    ours = _torch_hvp(runner.loss_function("ours", case.loss, case.through), case, name, _direction(case, name),
                      case.options)
    _close(ours, ref, f"Hessian-vector product in {name}")


# --- Dask, CuPy ---------------------------------------------------------------------

def dask_lazy(case):
    for options in with_reductions(case.options):
        _dask_lazy(case, options)


def _dask_lazy(case, options):
    import dask.array as da
    from dask.callbacks import Callback

    fn = runner.loss_function("ours", case.loss, case.through)
    expected = np.asarray(fn(**case.arrays, **options))
    sizes, calls = [], []

    class Watch(Callback):
        def _posttask(self, key, result, dsk, state, worker_id):
            calls.append(key)
            if key not in inputs and "finalize" not in str(key):  # not the inputs, not compute()'s assembly
                sizes.append(getattr(result, "nbytes", 0))

    chunked = {k: da.from_array(a, chunks=tuple(max(1, (n + 1) // 2) for n in a.shape)) for k, a in case.arrays.items()}
    inputs = {key for a in chunked.values() for key in a.__dask_graph__()}  # from_array's own tasks
    with Watch():
        out = fn(**chunked, **options)
        if calls:
            raise AssertionError(f"the call computed {len(calls)} tasks; it should only build the graph")
        got = np.asarray(out.compute(scheduler="sync"))
    _close(got, expected, f"value ({options})")
    biggest = max(a.nbytes for a in case.arrays.values()) * WHOLE_ROWS.get(case.loss, 1)
    if max(sizes, default=0) >= biggest:
        raise AssertionError(f"{options}: a task's result has {max(sizes)} bytes, as much as the largest input"
                             + (f" times {WHOLE_ROWS[case.loss]}" if case.loss in WHOLE_ROWS else ""))


# Losses that rank each row together with as many values again (multilabel_margin_loss: C classes and up to
# C target slots, int64 ranks): a task holds a block of whole rows twice the input's width.  The bound still
# fails a task holding every row of those ranks, not one holding every row of an (N, C) array:
# tests/test_primitives.py checks that the row primitives keep Dask's row chunks.
WHOLE_ROWS = {"multilabel_margin_loss": 2}


def cupy_device(case):
    reason = B.CuPy().unavailable()
    if reason:
        return "n/a", reason
    import cupy

    fn = runner.loss_function("ours", case.loss, case.through)
    arrays = {k: cupy.asarray(a) for k, a in case.arrays.items()}
    out = fn(**arrays, **case.options)
    if not isinstance(out, cupy.ndarray) or out.device != next(iter(arrays.values())).device:
        raise AssertionError(f"the result is {type(out).__name__} on {getattr(out, 'device', '?')}")
    _close(cupy.asnumpy(out), np.asarray(fn(**case.arrays, **case.options)), "value")


TRANSFORMS = {  # name: (check, modules it needs)
    "jax.jit": (jax_jit, ("jax",)),
    "jax.jit, optional arrays": (jax_jit_optional, ("jax",)),
    "jax.grad": (jax_grad, ("jax",)),
    "jax.vmap": (jax_vmap, ("jax",)),
    "jax.hvp": (jax_hvp, ("jax",)),
    "torch.compile": (torch_compile, ()),
    "torch.compile, no grad": (torch_compile_no_grad, ()),
    "torch.func.grad": (torch_func_grad, ()),
    "torch.func.vmap": (torch_func_vmap, ()),
    "torch double backward": (torch_double_backward, ()),
    "dask": (dask_lazy, ("dask",)),
    "cupy": (cupy_device, ()),
}


def check(transform: str, case) -> tuple[str, str]:
    """Run one transform's check on one case: ("pass" | "fail" | "n/a", detail)."""
    fn, modules = TRANSFORMS[transform]
    missing = _need("torch", *modules)
    if missing:
        return "n/a", missing
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fn(case)
    except Exception as exc:  # a failure of ours under the transform
        return "fail", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]
    return result or ("pass", "")


def matrix(transforms=None, losses=None) -> list[dict]:
    """Every representative case (of ``losses``, default all) under every transform."""
    rows = []
    for name, case in representative_cases().items():
        if losses and name.split("/")[0] not in losses:
            continue
        for t in transforms or TRANSFORMS:
            status, detail = check(t, case)
            rows.append({"loss": name, "transform": t, "status": status, "detail": detail})
    return rows


def markdown(rows) -> str:
    transforms = list(dict.fromkeys(r["transform"] for r in rows))
    cells = {(r["loss"], r["transform"]): {"pass": "pass", "fail": "**FAIL**", "n/a": "n/a"}[r["status"]]
             for r in rows}
    losses = list(dict.fromkeys(r["loss"] for r in rows))
    lines = ["| loss | " + " | ".join(transforms) + " |", "|---|" + "---|" * len(transforms)]
    lines += [f"| {loss} | " + " | ".join(cells[loss, t] for t in transforms) + " |" for loss in losses]
    reasons = sorted({f"{r['loss']}, {r['transform']}: {r['detail']}" for r in rows if r["status"] != "pass"})
    return "\n".join(lines) + ("\n\n" + "\n".join(f"- {x}" for x in reasons) if reasons else "") + "\n"
