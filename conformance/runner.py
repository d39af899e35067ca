"""Run catalogue cases on backends and compare them with torch.nn.

For each case the exact answer is ``torch.nn.functional`` in float64 on the
CPU (on the case's inputs rounded to its dtype; its results rounded to that
dtype), and the yardstick is ``torch.nn.functional`` on the backend's device in
the case's dtype.  Ours must have torch's output dtype and shape, and match the
exact answer in value and in the gradient of every differentiable array (a
vector-Jacobian product with a seeded random cotangent) within the dtype's
tolerance, or at least as closely as torch's own result does.
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


def error(ours, ref, dtype, normwise: bool = False) -> float:
    """The worst elementwise error of ``ours`` against ``ref`` (see tolerances.py); inf on mismatch.

    ``normwise``: every element's error relative to the largest ``|ref|`` (the
    measure for the results of a matrix product, see tolerances.py).
    """
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
    scale = np.abs(ref[finite])
    return float((diff / np.maximum(scale.max() if normwise else scale, atol / rtol)).max())


def round_to(a: np.ndarray, dtype: str) -> np.ndarray:
    """``a`` rounded to ``dtype`` (bfloat16 included), kept as float64; integer arrays as they are."""
    import torch

    if not np.issubdtype(a.dtype, np.floating):
        return a
    return torch.from_numpy(np.asarray(a, dtype=np.float64)).to(getattr(torch, dtype)).double().numpy()


def _rounded(case: Case) -> dict:
    """The case's arrays with floating ones rounded to the case's dtype (kept as float64)."""
    return {k: round_to(v, case.dtype) for k, v in case.arrays.items()}


def _torch_reference(case, arrays, dtype, device, cotangent):
    import torch

    fn = getattr(torch.nn.functional, case.loss)
    return B.Torch(device).evaluate(fn, arrays, case.torch_options, dtype, case.grads, cotangent)["eager"]


def output_shape(fn, arrays, options) -> tuple:
    """The shape of ``fn``'s output on float64 torch tensors of ``arrays``."""
    import torch

    with torch.no_grad():
        return tuple(fn(**B.Torch().native(arrays, "float64"), **options).shape)


def _torch_same(case, arrays, device, cotangent):
    """torch's own result in the case's dtype on ``device``; None where torch cannot compute it
    (no such device, or no kernel for the dtype: multi_margin_loss has no float16 CPU kernel)."""
    if B.Torch(device).unavailable():
        return None
    try:
        return _torch_reference(case, arrays, case.dtype, device, cotangent)
    except (NotImplementedError, RuntimeError):
        return None


def _cotangent(case, arrays):
    """A seeded random cotangent of the output's shape, rounded to the case's dtype."""
    import torch

    shape = output_shape(getattr(torch.nn.functional, case.loss), arrays, case.torch_options)
    return round_to(np.random.default_rng(case.seed + 1).standard_normal(shape), case.dtype)


def run_case(case: Case, backends) -> list[Result]:
    """``case`` on every backend in ``backends``, one Result each."""
    arrays = _rounded(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's and our broadcast warnings, NumPy's 0/0
        cotangent = _cotangent(case, arrays)
        value, grads, _ = _torch_reference(case, arrays, "float64", "cpu", cotangent)
        # the exact answer, correctly rounded to the case's dtype (what overflows there is inf)
        exact = (round_to(value, case.dtype), {k: round_to(g, case.dtype) for k, g in grads.items()})
        same = {}
        results = []
        for backend in backends:
            if case.dtype not in backend.dtypes:
                continue
            if backend.device not in same:
                same[backend.device] = _torch_same(case, arrays, backend.device, cotangent)
            results.append(_check(case, backend, arrays, cotangent, exact, same[backend.device]))
    return results


def _check(case, backend, arrays, cotangent, exact, torch_same) -> Result:
    """Ours on ``backend`` against the exact answer; torch's own error in the same dtype is the slack.

    A value or gradient passes when its error against ``exact`` is within the
    dtype's tolerance, or no larger than torch's own result's error in the
    same dtype and device (torch in float16 may overflow or round where the
    exact answer does not; being as good as torch is the promise).
    """
    ours_fn = getattr(agnostic_losses, case.loss)
    grads = case.grads if backend.differentiates else ()
    result = Result(case.loss, case.id, backend.name, backend.device, case.dtype, False,
                    float("inf"), float("inf") if grads else None)
    try:
        variants = backend.evaluate(ours_fn, arrays, case.options, case.dtype, grads, cotangent)
    except Exception as exc:  # a failure of ours is a failed case, reported with its cause
        result.message = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-3)}"
        return result
    rtol = TOLERANCES[case.dtype][0]

    def judged(ours, ref, torchs, what):
        err = error(ours, ref, case.dtype, case.normwise)
        allowed = max(rtol, error(torchs, ref, case.dtype, case.normwise) if torchs is not None else 0.0)
        if err > allowed:
            problems.append(f"{what} error {err:.3g} > {allowed:.3g}")
        return err

    problems = []
    expected_dtype = torch_same[2] if torch_same else case.dtype
    value_errors, grad_errors = [], []
    for variant, (value, grad, out_dtype) in variants.items():
        if out_dtype != expected_dtype:
            problems.append(f"{variant}: output dtype {out_dtype}, torch gives {expected_dtype}")
        value_errors.append(judged(value, exact[0], torch_same and torch_same[0], f"{variant} value"))
        grad_errors += [judged(grad[k], exact[1][k], torch_same and torch_same[1][k], f"{variant} d/d{k}")
                        for k in grads]
    result.value_error = max(value_errors)
    result.grad_error = max(grad_errors, default=0.0) if grads else None
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
