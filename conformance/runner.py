"""Run catalogue cases on backends and compare them with torch.nn.

For each case the references are ``torch.nn.functional`` in float64 on the CPU
(on the case's inputs rounded to its dtype) and ``torch.nn.functional`` on the
backend's device in the case's dtype.  Ours must match both, in value, output
dtype and shape, and in the gradient of every differentiable array (a
vector-Jacobian product with a seeded random cotangent).
"""

from __future__ import annotations

import traceback
import warnings
from dataclasses import dataclass

import numpy as np

import agnostic_losses

from . import backends as B
from .catalogue import Case
from .tolerances import TOLERANCES


@dataclass
class Result:
    loss: str
    case: str
    backend: str
    device: str
    dtype: str
    passed: bool
    value_error: float
    grad_error: float | None  # None where the backend has no autodiff
    message: str = ""


def error(ours, ref, dtype) -> float:
    """The worst elementwise error of ``ours`` against ``ref`` (see tolerances.py); inf on mismatch."""
    rtol, atol = TOLERANCES[dtype]
    ours = np.asarray(ours, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if ours.shape != ref.shape:
        return float("inf")
    nan = np.isnan(ref)
    if (nan != np.isnan(ours)).any():
        return float("inf")
    finite = np.isfinite(ref) & np.isfinite(ours)
    if ((ours != ref) & ~finite & ~nan).any():  # an infinity on one side, not equal on the other
        return float("inf")
    if not finite.any():
        return 0.0
    diff = np.abs(ours[finite] - ref[finite])
    return float((diff / np.maximum(np.abs(ref[finite]), atol / rtol)).max())


def _rounded(case: Case) -> dict:
    """The case's arrays with floating ones rounded to the case's dtype (kept as float64)."""
    import torch

    dtype = getattr(torch, case.dtype)
    return {k: torch.from_numpy(v).to(dtype).double().numpy() if np.issubdtype(v.dtype, np.floating) else v
            for k, v in case.arrays.items()}


def _torch_reference(case, arrays, dtype, device, cotangent):
    import torch

    fn = getattr(torch.nn.functional, case.loss)
    return B.Torch(device).evaluate(fn, arrays, case.options, dtype, case.grads, cotangent)["eager"]


def _cotangent(case, arrays):
    """A seeded random cotangent of the output's shape, rounded to the case's dtype."""
    import torch

    fn = getattr(torch.nn.functional, case.loss)
    with torch.no_grad():
        shape = fn(**B.Torch().native(arrays, "float64"), **case.options).shape
    c = np.random.default_rng(case.seed + 1).standard_normal(tuple(shape))
    return torch.from_numpy(c).to(getattr(torch, case.dtype)).double().numpy()


def run_case(case: Case, backends) -> list[Result]:
    """``case`` on every backend in ``backends``, one Result each."""
    arrays = _rounded(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's and our broadcast warnings, NumPy's 0/0
        cotangent = _cotangent(case, arrays)
        references = [_torch_reference(case, arrays, "float64", "cpu", cotangent)]
        same = {}
        results = []
        for backend in backends:
            if backend.device not in same:
                torch_here = B.Torch(backend.device)
                same[backend.device] = (None if torch_here.unavailable() else
                                        _torch_reference(case, arrays, case.dtype, backend.device, cotangent))
            refs = references + ([same[backend.device]] if same[backend.device] else [])
            results.append(_check(case, backend, arrays, cotangent, refs))
    return results


def _check(case, backend, arrays, cotangent, refs) -> Result:
    ours_fn = getattr(agnostic_losses, case.loss)
    grads = case.grads if backend.differentiates else ()
    result = Result(case.loss, case.id, backend.name, backend.device, case.dtype, False,
                    float("inf"), float("inf") if grads else None)
    try:
        variants = backend.evaluate(ours_fn, arrays, case.options, case.dtype, grads, cotangent)
    except Exception as exc:  # a failure of ours is a failed case, reported with its cause
        result.message = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-3)}"
        return result
    value_errors, grad_errors, problems = [], [], []
    expected_dtype = refs[-1][2] if len(refs) > 1 else case.dtype
    for variant, (value, grad, out_dtype) in variants.items():
        if out_dtype != expected_dtype:
            problems.append(f"{variant}: output dtype {out_dtype}, torch gives {expected_dtype}")
        for ref_value, ref_grads, _ in refs:
            value_errors.append(error(value, ref_value, case.dtype))
            grad_errors += [error(grad[k], ref_grads[k], case.dtype) for k in grads]
    result.value_error = max(value_errors)
    result.grad_error = max(grad_errors, default=0.0) if grads else None
    rtol = TOLERANCES[case.dtype][0]
    if result.value_error > rtol:
        problems.append(f"value error {result.value_error:.3g} > {rtol:g}")
    if grads and result.grad_error > rtol:
        problems.append(f"gradient error {result.grad_error:.3g} > {rtol:g}")
    result.passed = not problems
    result.message = "; ".join(problems)
    return result


def run(cases, backends, *, generic=False, progress=None) -> list[Result]:
    """Every case on every backend; ``generic`` forces the generic primitives."""
    results = []
    with agnostic_losses.generic_primitives(generic):
        for i, case in enumerate(cases):
            results += run_case(case, backends)
            if progress:
                progress(i + 1, len(cases))
    return results
