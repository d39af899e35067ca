"""Run catalogue cases on backends and compare them with torch.nn (or another oracle).

For each case the exact answer is ``torch.nn.functional`` in float64 on the
CPU (on the case's inputs rounded to its dtype; its results rounded to that
dtype), and the yardstick is ``torch.nn.functional`` on the backend's device in
the case's dtype.  An entry of ``oracles.ORACLES`` takes its exact value from
its oracle library (scikit-learn, scoringrules, optax) and its exact gradients
from the oracle's torch formula, with no yardstick (no slack).  Ours must have torch's output dtype and shape, and match the
exact answer in value and in the gradient of every differentiable array (a
vector-Jacobian product with a seeded random cotangent) within the dtype's
tolerance, or at least as closely as torch's own result does.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import math
import pickle
import traceback
import warnings
from dataclasses import dataclass

import numpy as np

import agnostic_losses
from agnostic_losses import _primitives as P

from . import backends as B
from .catalogue import Case
from .oracles import ORACLES
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


def error(ours, ref, dtype, normwise=False) -> float:
    """The worst elementwise error of ``ours`` against ``ref`` (see tolerances.py); inf on mismatch.

    ``normwise``: each difference relative to the largest ``|ref|`` instead of its own
    element's.  For the outputs of a matrix product (linear_cross_entropy, see
    tolerances.py), and for gradients taken through log_softmax (``Case.through``): its
    backward ``g - softmax * sum(g)`` subtracts terms of the size of the largest gradient, so
    one rounding of ``g`` to float16 moves small results by that size's rounding error.
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
    scale = np.abs(ref[finite]).max() if normwise else np.abs(ref[finite])
    return float((diff / np.maximum(scale, atol / rtol)).max())


def round_to(a: np.ndarray, dtype: str) -> np.ndarray:
    """``a`` rounded to ``dtype`` (bfloat16 included), kept as float64; integer arrays as they are."""
    if not np.issubdtype(a.dtype, np.floating):
        return a
    if dtype != "bfloat16":  # NumPy rounds once, to nearest even (torch's float64 to float16 goes through float32)
        with np.errstate(over="ignore"):  # what overflows the dtype is inf, as in torch
            return np.asarray(a, dtype=np.float64).astype(dtype).astype(np.float64)
    import torch

    return torch.from_numpy(np.asarray(a, dtype=np.float64)).to(getattr(torch, dtype)).double().numpy()


def _rounded(case: Case) -> dict:
    """The case's arrays with floating ones rounded to the case's dtype (kept as float64)."""
    return {k: round_to(v, case.dtype) for k, v in case.arrays.items()}


def loss_function(library: str, loss: str, through: tuple = (), rounding: str = ""):
    """See ``_loss_function``; a loss with nothing passed through is looked up afresh each time
    (a test may replace it).  An oracle's entry: ours, or (as 'torch') the oracle's torch formula."""
    if loss in ORACLES:
        return ORACLES[loss].ours if library == "ours" else ORACLES[loss].formula
    if not through:
        if library == "torch":
            import torch

            return getattr(torch.nn.functional, loss)
        return getattr(agnostic_losses, loss)
    return _loss_function(library, loss, through, rounding)


@functools.cache
def _loss_function(library: str, loss: str, through: tuple = (), rounding: str = ""):
    """``library``'s loss ('torch': torch.nn.functional, 'ours': agnostic_losses), with the
    arrays named in ``through`` passed through that library's log_softmax over the last axis
    first (CTC's gradients are compared that way, docs/design.md, "What matches torch.nn means"); one object per key,
    so that JAX's jit cache holds.

    ``rounding`` (the reference's): the log_softmax, and the gradient coming back into it, are
    rounded to that dtype; ours computes a float16/bfloat16 log_softmax in
    float32 and rounds it once.  So the loss is judged on the log-probabilities it gets, as
    every other loss is on its inputs, not on float16 arithmetic in log_softmax's backward.
    """
    if library == "torch":
        import torch

        fn = getattr(torch.nn.functional, loss)

        class Rounded(torch.autograd.Function):  # rounded to ``rounding`` both ways
            forward = staticmethod(lambda ctx, y: y.to(getattr(torch, rounding)).to(y.dtype))
            backward = staticmethod(lambda ctx, g: g.to(getattr(torch, rounding)).to(g.dtype))

        def log_softmax(x):
            y = torch.log_softmax(x, dim=-1)
            return Rounded.apply(y) if rounding else y
    else:
        fn = getattr(agnostic_losses, loss)

        def log_softmax(x):  # float16/bfloat16: in float32, rounded once, as the reference
            with P.quiet(x) or contextlib.nullcontext():  # torch's log_softmax is silent about inf and NaN too
                return _log_softmax(x)

        def _log_softmax(x):
            xp = P.array_namespace(x)
            if xp.finfo(x.dtype).bits >= 32:
                return P.log_softmax(x, axis=-1)
            return xp.astype(P.log_softmax(xp.astype(x, xp.float32), axis=-1), x.dtype)
    if not through:
        return fn

    def composed(**arrays):
        return fn(**{k: log_softmax(v) if k in through else v for k, v in arrays.items()})

    return composed


def _torch_reference(case, arrays, dtype, device, cotangent):
    fn = loss_function("torch", case.loss, case.through, case.dtype if dtype != case.dtype else "")
    return B.Torch(device).evaluate(fn, arrays, case.torch_options, dtype, case.grads, cotangent)["eager"]


def output_shape(fn, arrays, options) -> tuple:
    """The shape of ``fn``'s output on float64 torch tensors of ``arrays``."""
    import torch

    with torch.no_grad():
        return tuple(fn(**B.Torch().native(arrays, "float64"), **options).shape)


def _torch_same(case, arrays, device, cotangent):
    """torch's own result in the case's dtype on ``device``; None where torch cannot compute it
    (no such device, or no kernel for the dtype: multi_margin_loss has no float16 CPU kernel)."""
    if B.Torch(device).unavailable() or case.loss in ORACLES:
        return None
    try:
        return _torch_reference(case, arrays, case.dtype, device, cotangent)
    except (NotImplementedError, RuntimeError):
        return None
    except (TypeError, AttributeError):  # an older torch without the option or the loss: no slack
        if _REFERENCE:
            return None
        raise


def _cotangent(case, arrays):
    """A seeded random cotangent of the output's shape, rounded to the case's dtype."""
    shape = output_shape(loss_function("torch", case.loss, case.through), arrays, case.torch_options)
    return round_to(np.random.default_rng(case.seed + 1).standard_normal(shape), case.dtype)


# Exact answers read from a file made where torch 2.13 runs (``--save-reference``), for
# machines whose torch is another version (a GPU image): case id -> (cotangent, exact).
_REFERENCE: dict = {}


def exact_answer(case: Case, arrays=None):
    """``(cotangent, (value, {name: gradient}))``: the exact answer, correctly rounded to the
    case's dtype (what overflows there is inf), from the loaded reference file or computed."""
    if case.id in _REFERENCE:
        return _REFERENCE[case.id]
    arrays = _rounded(case) if arrays is None else arrays
    if case.loss in ORACLES:
        if case.id not in _ORACLE_ANSWERS:  # finite differences of the oracle: once per case, not per backend
            _ORACLE_ANSWERS[case.id] = _oracle_answer(case, arrays)
        return _ORACLE_ANSWERS[case.id]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cotangent = _cotangent(case, arrays)
        value, grads, _ = _torch_reference(case, arrays, "float64", "cpu", cotangent)
    return cotangent, (round_to(value, case.dtype), {k: round_to(g, case.dtype) for k, g in grads.items()})


_ORACLE_ANSWERS: dict = {}  # case id -> the exact answer of an oracle's case


class OracleMismatch(Exception):
    """The catalogue's torch formula of an oracle disagrees with the oracle: no exact answer for the case."""


def _oracle_answer(case: Case, arrays):
    """The exact answer of an oracle's entry: the oracle's value, and the gradients of its torch formula, which
    must give the oracle's value (1e-10) and, on random draws, its central finite differences (1e-6)."""
    oracle = ORACLES[case.loss]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's "rows do not sum to one" of a rounded float32 draw
        try:
            value = oracle.value(**arrays, **case.options)
        except Exception as exc:  # the catalogue drew what the oracle refuses: the case cannot be judged
            raise OracleMismatch(f"{oracle.reference} refused the case: {type(exc).__name__}: {exc}") from exc
        cotangent = round_to(np.random.default_rng(case.seed + 1).standard_normal(value.shape), case.dtype)
        formula, grads, _ = B.Torch().evaluate(oracle.formula, arrays, case.options, "float64", case.grads,
                                               cotangent)["eager"]
        if error(formula, value, "float64") > TOLERANCES["float64"][0]:
            raise OracleMismatch(f"the catalogue's torch formula gives {formula}, {oracle.reference} {value}")
        # finite differences of a NaN (the mean of nothing) say nothing of the gradient
        if "|random]" in case.id and oracle.derivative and np.all(np.isfinite(value)):
            for name in case.grads:
                fd = finite_differences(lambda a: float(np.sum(cotangent * oracle.value(
                    **{**arrays, name: a}, **case.options))), arrays[name])
                err = np.abs(grads[name] - fd).max(initial=0.0) / max(np.abs(fd).max(initial=0.0), 1e-3)
                if not err <= 1e-6:
                    raise OracleMismatch(f"the torch formula's d/d{name} {grads[name]} is not the finite differences "
                                         f"{fd} of {oracle.reference} (error {err:.2g})")
    return cotangent, (round_to(value, case.dtype), {k: round_to(g, case.dtype) for k, g in grads.items()})


def finite_differences(f, x, h=1e-6):
    """The central finite differences of the scalar function ``f`` at the float64 NumPy array ``x``."""
    g = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += h
        down[index] -= h
        g[index] = (f(up) - f(down)) / (2 * h)
    return g


def save_reference(cases, path):
    """Write the exact answers of ``cases`` to ``path`` (gzip'd pickle) for ``load_reference``."""
    import torch

    table = {"torch": torch.__version__, "answers": {c.id: exact_answer(c) for c in cases}}
    with gzip.open(path, "wb") as f:
        pickle.dump(table, f, protocol=pickle.HIGHEST_PROTOCOL)


def load_reference(path) -> str:
    """Use the exact answers in ``path``; returns the torch version that computed them."""
    with gzip.open(path, "rb") as f:
        table = pickle.load(f)
    _REFERENCE.update(table["answers"])
    return table["torch"]


def run_case(case: Case, backends) -> list[Result]:
    """``case`` on every backend in ``backends``, one Result each."""
    arrays = _rounded(case)
    try:
        cotangent, exact = exact_answer(case, arrays)
    except OracleMismatch as exc:  # the catalogue is wrong, not (necessarily) ours: every backend's case fails
        return [Result(case.loss, case.id, b.name, b.device, case.dtype, False, math.inf, None, f"oracle: {exc}")
                for b in backends if case.dtype in b.dtypes]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's and our broadcast warnings, NumPy's 0/0
        same = {}
        results = []
        for backend in backends:
            if case.dtype not in backend.dtypes:
                continue
            if backend.torch_device not in same:
                same[backend.torch_device] = _torch_same(case, arrays, backend.torch_device, cotangent)
            results.append(check(case, backend, arrays, cotangent, exact, same[backend.torch_device]))
    return results


def check(case, backend, arrays, cotangent, exact, torch_same, ours_fn=None, infinite_slack=True) -> Result:
    """Ours on ``backend`` against the exact answer; torch's own error in the same dtype is the slack.

    ``ours_fn``: the function to check (default: the case's loss of agnostic_losses).  ``infinite_slack``:
    where torch's own result is infinitely wrong (it overflows where the exact answer does not), anything
    passes (torch.nn is the promise); ``check_loss`` turns that off, as a user's reference is no promise.
    A value or gradient passes when its error against ``exact`` is within the
    dtype's tolerance, or no larger than torch's own result's error in the
    same dtype and device (torch in float16 may overflow or round where the
    exact answer does not; being as good as torch is the promise).
    """
    ours_fn = ours_fn or loss_function("ours", case.loss, case.through)
    grads = case.grads if backend.differentiates else ()
    result = Result(case.loss, case.id, backend.name, backend.device, case.dtype, False,
                    float("inf"), float("inf") if grads else None)
    try:
        variants = backend.evaluate(ours_fn, arrays, case.options, case.dtype, grads, cotangent)
    except Exception as exc:  # a failure of ours is a failed case, reported with its cause
        result.message = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-3)}"
        return result
    rtol = TOLERANCES[case.dtype][0]

    def judged(ours, ref, torchs, what, normwise=False):
        err = error(ours, ref, case.dtype, normwise)
        slack = error(torchs, ref, case.dtype, normwise) if torchs is not None else 0.0
        allowed = max(rtol, slack if infinite_slack or math.isfinite(slack) else 0.0)
        if err > allowed:
            problems.append(f"{what} error {err:.3g} > {allowed:.3g}")
        return err

    problems = []
    expected_dtype = torch_same[2] if torch_same else case.dtype
    value_errors, grad_errors = [], []
    for variant, (value, grad, out_dtype) in variants.items():
        if out_dtype != expected_dtype:
            problems.append(f"{variant}: output dtype {out_dtype}, torch gives {expected_dtype}")
        value_errors.append(judged(value, exact[0], torch_same and torch_same[0], f"{variant} value",
                                   normwise=case.normwise))
        grad_errors += [judged(grad[k], exact[1][k], torch_same and torch_same[1][k], f"{variant} d/d{k}",
                               normwise=case.normwise or k in case.through)
                        for k in grads]
    result.value_error = max(value_errors)
    result.grad_error = max(grad_errors, default=0.0) if grads else None
    result.passed = not problems
    result.message = "; ".join(problems)
    return result


def run(cases, backends, *, generic=False, jobs=1) -> list[Result]:
    """Every case on every backend; ``generic`` forces the generic primitives; ``jobs``
    worker processes share the cases (each with its own torch/JAX/CuPy context)."""
    if jobs > 1:
        import multiprocessing

        parts = [cases[i::jobs] for i in range(jobs)]
        with multiprocessing.get_context("spawn").Pool(jobs) as pool:
            done = pool.starmap(_worker, [(p, backends, generic, dict(_REFERENCE)) for p in parts])
        return [r for part in done for r in part]
    results = []
    with agnostic_losses.generic_primitives(generic):
        for case in cases:
            results += run_case(case, backends)
    return results


def _worker(cases, backends, generic, reference):
    _REFERENCE.update(reference)
    for backend in backends:
        backend.unavailable()  # per-process set-up (JAX's float64 switch)
    return run(cases, backends, generic=generic)
