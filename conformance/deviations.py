"""Where ours differs from torch.nn.functional on purpose: the one list.

Each :class:`Deviation` says where (the losses, the condition on a call), what
torch does, what ours does and why.  The differential fuzz
(tests/test_fuzz.py) accepts exactly these and nothing else; docs/deviations.md
("Deviations from torch, on purpose") lists them by ``id`` (a test keeps the two
the same).

Kinds:

- ``accepts``: torch raises, ours returns (judged against torch's float64
  answer, rounded to the dtype ours returns);
- ``refuses``: torch returns, ours raises a ValueError naming the argument;
- ``elements``: both return; the listed elements of the value or of a
  gradient may differ (``where`` gives a mask per output);
- ``dtype``: both return; ours has torch's dtype or the floating arrays' promotion.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

FLOATS = ("float64", "float32", "float16", "bfloat16")


@dataclass(frozen=True)
class Call:
    """A call as the fuzz made it: the arrays' values (float64 or integer NumPy, as every library holds them),
    their dtype names, the options, torch's errors in those dtypes and in float64 (None: it returned), and
    the names of the arrays where a real number belongs."""
    loss: str
    arrays: dict
    dtypes: dict
    options: dict
    torch_error: Exception | None = None
    exact_error: Exception | None = None
    real: tuple = ()  # the arrays where a real number belongs (whatever dtype they were given)

    def option(self, name, default=None):
        return self.options.get(name, default)


@dataclass(frozen=True)
class Deviation:
    id: str
    losses: tuple  # () for every loss
    kind: str  # "accepts" | "refuses" | "elements"
    torch: str
    ours: str
    why: str
    applies: Callable  # Call -> bool; for "elements", Call -> {output name ("value" or an array): mask} or None
    warns: bool = False  # ours may warn here where torch does not
    unsafe: bool = False  # torch's call is undefined behaviour here (it may corrupt memory): not to be made
    nan_only: bool = False  # "elements": only those where torch's answer is NaN
    reference: Callable | None = None  # "accepts": the arrays of the call torch answers instead (Call -> arrays)


def _float_dtype(call):
    """The floating dtype ours computes in: the array-API promotion of the floating arrays' dtypes."""
    order = {"float16": 0, "bfloat16": 0, "float32": 1, "float64": 2}
    floats = [d for d in call.dtypes.values() if d in order]
    if not floats:
        return None
    widest = max(floats, key=order.get)
    return "float32" if order[widest] == 0 and len(set(floats)) > 1 else widest


def _no_half_kernel(call):
    return (call.exact_error is None and call.torch_error is not None
            and all(call.dtypes[n] == "int64" for n in call.dtypes if n not in call.real)
            and re.search(r"not implemented for '(Half|BFloat16)'", str(call.torch_error)) is not None)


def _mixed_floats(call):
    floats = {call.dtypes[n] for n in call.real if call.dtypes[n] in FLOATS}
    return call.exact_error is None and call.torch_error is not None and len(floats) > 1 and re.search(
        r"(dtype|scalar type|same dtype|expected .* to have)", str(call.torch_error), re.I) is not None


def _narrow_indices(call, names):
    return call.exact_error is None and call.torch_error is not None and any(
        call.dtypes.get(n) in ("int32", "int16", "uint8") for n in names)


def _elementwise_target_grad(condition):
    """A mask over ``target``'s gradient where ``condition(input, target, call)`` holds."""
    def where(call):
        if "target" not in call.arrays or "input" not in call.arrays:
            return None
        try:
            x, t = np.broadcast_arrays(call.arrays["input"], call.arrays["target"])
        except ValueError:  # shapes torch refuses: nothing to excuse
            return None
        mask = condition(x, t, call)
        if mask.shape != call.arrays["target"].shape:  # the target broadcast: any element of its row
            return {"target": np.True_} if mask.any() else None
        return {"target": mask} if mask.any() else None
    return where


DEVIATIONS = (
    Deviation(
        "half-precision-on-cpu", (), "accepts",
        "has no CPU kernel for float16 or bfloat16 in some losses (NotImplementedError, RuntimeError)",
        "computes them in float32 and rounds to the input dtype, as torch does on CUDA",
        "the dtype is a property of the data, not of the device it happens to be on",
        _no_half_kernel),
    Deviation(
        "mixed-float-dtypes", (), "accepts",
        "raises for floating arrays of different dtypes in some losses (binary_cross_entropy, the kernels "
        "that want one scalar type)",
        "promotes them as the array API standard does, as torch's other losses do",
        "one promotion rule for every loss and every library",
        _mixed_floats),
    Deviation(
        "integer-or-bool-target", (), "accepts",
        "raises for an integer or boolean target (or var) in some losses and takes it in others "
        "(binary_cross_entropy, kl_div; `-` on a bool tensor in l1_loss, gaussian_nll_loss, ...)",
        "takes it in the input's floating dtype in every loss whose target is a real number (in cross_entropy an "
        "integer target holds class indices)",
        "labels come as integers or booleans; one rule for every loss",
        lambda call: call.exact_error is None and call.torch_error is not None
        and call.loss not in ("cross_entropy", "linear_cross_entropy")  # there an integer target is indices
        and all(call.dtypes[n] in FLOATS for n in call.real if n not in TARGETS)
        and any(call.dtypes[n] not in FLOATS for n in call.real if n in TARGETS),
        reference=lambda call: targets_in_input_dtype(call)),
    Deviation(
        "integer-class-indices", ("cross_entropy", "nll_loss", "multi_margin_loss", "multilabel_margin_loss",
                                  "ctc_loss", "linear_cross_entropy"), "accepts",
        "wants int64 class indices (and lengths)",
        "takes class indices of any integer dtype",
        "NumPy and JAX users hold int32 labels; the value does not depend on the dtype",
        lambda call: _narrow_indices(call, ("target", "targets", "input_lengths", "target_lengths"))),
    Deviation(
        "kl-div-target-gradient", ("kl_div",), "elements",
        "gives a NaN gradient with respect to target where target == 0 (0/0 in xlogy's backward) or +inf, and "
        "with log_target where exp(target) overflows",
        "gives -input there (+inf at +inf: the limit of log(target) + 1 - input; with log_target, "
        "exp(target) (target + 1 - input), +-inf)",
        "the value is finite there; the NaN is an artifact of how the backward is written",
        _elementwise_target_grad(lambda x, t, call: (t > 709.0) if call.option("log_target")
                                 else (t == 0) | (t == math.inf)), nan_only=True),
    Deviation(
        "poisson-full-target-gradient", ("poisson_nll_loss",), "elements",
        "gives a NaN gradient with respect to target where target <= 0 with full=True (its Stirling term is "
        "masked after it is computed, and its log is -inf or NaN there)",
        "gives the gradient of the formula without the term there",
        "the value is finite there",
        _elementwise_target_grad(lambda x, t, call: np.full(t.shape, bool(call.option("full"))) & (t <= 0)),
        nan_only=True),
    Deviation(
        "bce-target-gradient", ("binary_cross_entropy",), "elements",
        "gives the unclamped -logit(x) as the gradient with respect to target (infinite at x = 0 or 1)",
        "gives the derivative of the clamped forward, -(max(log x, -100) - max(log(1 - x), -100))",
        "the gradient of the value torch computes; they differ only within 4e-44 of 0 and 1",
        _elementwise_target_grad(lambda x, t, call: (x < 1e-43) | (1 - x < 1e-43))),
)

def _soft_margin_overflow(call):
    """Where ``-t x`` is past float64's ``exp`` range (torch's reference is float64): the value, and both gradients."""
    try:
        x, t = np.broadcast_arrays(call.arrays["input"], call.arrays["target"].astype(np.float64))
    except ValueError:
        return None
    with np.errstate(all="ignore"):
        z = -t * x
    over = np.isfinite(z) & (z > 700.0)
    if not over.any():
        return None
    whole = (call.option("reduction", "mean") != "none" or over.shape != call.arrays["input"].shape
             or any(call.option(k) is not None for k in ("size_average", "reduce")))  # legacy: maybe reduced
    return {"value": np.True_ if whole else over, "input": np.True_ if whole else over, "target": np.True_}


def _ctc_rows(call):
    """Each sequence's target labels (within its length) and its input length, as NumPy."""
    lp, targets = call.arrays["log_probs"], call.arrays["targets"]
    inputs = np.atleast_1d(call.arrays["input_lengths"]).reshape(-1)
    lengths = np.atleast_1d(call.arrays["target_lengths"]).reshape(-1)
    if lp.ndim not in (2, 3) or len(inputs) != len(lengths) or not all(
            np.issubdtype(a.dtype, np.integer) for a in (targets, inputs, lengths)):
        return None
    if targets.ndim == 1 and lp.ndim == 3:
        if lengths.sum() != len(targets) or (lengths < 0).any():
            return None
        ends = np.cumsum(lengths)
        rows = [targets[e - n:e] for e, n in zip(ends, lengths)]
    else:
        rows2 = targets.reshape(1, -1) if targets.ndim == 1 else targets
        if rows2.ndim != 2 or len(rows2) != len(lengths) or (lengths < 0).any() or (lengths > rows2.shape[1]).any():
            return None
        rows = [r[:n] for r, n in zip(rows2, lengths)]
    return rows, inputs


def _ctc_sequences(call, which):
    """The log_probs rows of the sequences for which ``which(labels, input_length)`` holds."""
    found = _ctc_rows(call)
    if found is None:
        return None
    hit = np.array([bool(which(r, n)) for r, n in zip(*found)])
    lp = call.arrays["log_probs"]
    if not hit.any() or (lp.ndim == 3 and len(hit) != lp.shape[1]):  # no such sequence, or shapes torch refuses
        return None
    mask = np.zeros(lp.shape, dtype=bool)
    if lp.ndim == 3:
        mask[:, hit, :] = True
    else:
        mask[...] = True
    return {"log_probs": mask}


def _ctc_out_of_range(call):
    """A label outside [0, C) within its length, or a length outside its bounds: torch's kernel reads (and its
    backward writes) out of bounds there."""
    arrays = dict(call.arrays)
    for n in ("targets", "input_lengths", "target_lengths"):
        a = arrays.get(n)
        if a is not None and a.dtype.kind in "fb":  # torch reads them as integers (ours refuses them)
            if not np.isfinite(a).all():
                return True
            arrays[n] = a.astype(np.int64)
    call = replace(call, arrays=arrays)
    lp, inputs, lengths = (call.arrays.get(n) for n in ("log_probs", "input_lengths", "target_lengths"))
    if lp is None or lp.ndim not in (2, 3) or inputs is None or lengths is None:
        return False
    if (inputs < 0).any() or (inputs > lp.shape[0]).any() or (lengths < 0).any():
        return True
    found = _ctc_rows(call)
    if found is None or call.exact_error is not None:
        return False
    classes = lp.shape[-1]
    return any(((r < 0) | (r >= classes)).any() for r in found[0])


def _ctc_impossible(call):
    """The log_probs rows of the sequences whose target needs more steps than their input has."""
    if call.option("zero_infinity"):
        return None
    return _ctc_sequences(call, lambda r, n: len(r) + int(np.sum(r[1:] == r[:-1])) > n)


def _ctc_blank_in_target(call):
    return _ctc_sequences(call, lambda r, n: (r == call.option("blank", 0)).any())


def _ctc_huge_log_probs(call):
    """Every gradient where a logit (log_softmax is applied before the loss) is past 1e15 in magnitude."""
    lp = call.arrays["log_probs"]
    return {"log_probs": np.True_} if np.issubdtype(lp.dtype, np.floating) and (np.abs(lp) > 1e15).any() else None


def _empty_batch_reduced(call):
    x = call.arrays.get("input")
    empty = x is not None and x.ndim == 2 and x.shape[0] == 0 and call.option("reduction", "mean") != "none"
    return {"value": np.True_} if empty else None


def _ctc_padded_unbatched(call):
    lp, targets, lengths = (call.arrays.get(n) for n in ("log_probs", "targets", "target_lengths"))
    return (call.exact_error is not None and lp is not None and lp.ndim == 2 and targets.ndim == 1
            and lengths.size == 1 and np.issubdtype(lengths.dtype, np.integer) and 0 <= lengths.reshape(-1)[0]
            < targets.shape[0] and "target" in str(call.exact_error))


def _p_not_finite_positive(call):
    p = call.option("p", 2)
    return call.torch_error is None and not (isinstance(p, (int, float)) and math.isfinite(p) and p > 0)


ROW_LOSSES = ("pairwise_distance", "triplet_margin_loss", "triplet_margin_with_distance_loss",
              "cosine_embedding_loss", "multilabel_soft_margin_loss", "cross_entropy", "linear_cross_entropy")


def _nonfinite_arguments(call):
    """Each gradient's elements whose element (or row, for the losses over a row) of some real argument is
    infinite or NaN (``nan_only``: where torch's is NaN)."""
    real = [n for n in call.real if np.issubdtype(call.arrays[n].dtype, np.floating)]
    if all(np.isfinite(call.arrays[n]).all() for n in real):
        return None
    if call.loss == "ctc_loss":  # a sequence's every step and class enter its every gradient
        return {n: np.True_ for n in call.real}
    try:
        shape = np.broadcast_shapes(*(call.arrays[n].shape for n in real))
    except ValueError:  # shapes torch refuses, or a class weight beside a batch: every element
        return {n: np.True_ for n in call.real}
    bad = np.zeros(shape, bool)
    for n in real:
        bad = bad | ~np.isfinite(call.arrays[n])
    if call.loss in ROW_LOSSES and bad.ndim:
        bad = np.broadcast_to(bad.any(axis=-1, keepdims=True), shape)
    out = {}
    for n in call.real:
        a = call.arrays[n]
        rows = math.prod(bad.shape[:bad.ndim - a.ndim])
        lead = bad.reshape((rows,) + a.shape) if a.ndim and bad.shape[bad.ndim - a.ndim:] == a.shape else None
        out[n] = lead.any(axis=0) if lead is not None else np.True_
    return out


TARGETS = ("target", "var")  # the real arrays ours takes of any numeric dtype


def _empty_broadcast(call):
    """Every gradient, where the real arrays broadcast to an empty shape (``nan_only``)."""
    try:
        shape = np.broadcast_shapes(*(call.arrays[n].shape for n in call.real))
    except ValueError:
        return None
    return {n: np.True_ for n in call.real} if 0 in shape else None


def targets_in_input_dtype(call):
    """The arrays, each integer or boolean real target rounded through the first floating array's dtype, as type
    promotion takes it into the arithmetic (an int64 beyond float16's range is infinite there, as in torch's
    ``input - target``; torch's ``1 - target`` in int64 first wraps around at its minimum); NumPy has no
    bfloat16, whose range holds every int64 (its rounding is within its tolerance)."""
    dtype = next((call.dtypes[n] for n in call.dtypes if call.dtypes[n] in FLOATS and n not in TARGETS), None)
    if dtype not in ("float16", "float32"):
        return call.arrays
    with np.errstate(over="ignore"):
        return {n: a.astype(dtype).astype(np.float64) if n in TARGETS and n in call.real
                and call.dtypes[n] not in FLOATS else a for n, a in call.arrays.items()}


def _logits_beyond_the_matmul(call):
    """Everything, where a row's logits ``x W^T`` round by more than 1 in the matmul (``D eps max|x| max|W|``)."""
    x, w = call.arrays.get("input"), call.arrays.get("linear_weight")
    dtype = _float_dtype(call)
    if x is None or w is None or dtype is None or not x.ndim or not x.size or not w.size:
        return None
    eps = 2.0 ** -8 if dtype == "bfloat16" else float(np.finfo(dtype).eps)
    with np.errstate(all="ignore"):  # the finite elements: an inf or NaN is judged as torch's
        error = x.shape[-1] * eps * np.abs(x[np.isfinite(x)]).max(initial=0) * np.abs(w[np.isfinite(w)]).max(initial=0)
    if not error > 1:
        return None
    return {n: np.True_ for n in ("value", *call.real)}


def _integer_input(call):
    return call.torch_error is None and any(call.dtypes[n] not in FLOATS for n in call.real if n not in TARGETS)


def _promoted_dtype(call):
    """The cases named: binary_cross_entropy_with_logits (the target's dtype), a 0-d array beside a larger one
    (torch's rule for 0-d tensors), float16 with bfloat16."""
    floats = [n for n in call.real if call.dtypes[n] in FLOATS]
    kinds = {call.dtypes[n] for n in floats}
    if call.torch_error is not None or len(kinds) < 2:
        return False
    zero_d = {call.arrays[n].ndim == 0 for n in floats} == {True, False}
    return call.loss == "binary_cross_entropy_with_logits" or zero_d or {"float16", "bfloat16"} <= kinds


def _flat_class_weight(call):
    x, w = call.arrays.get("input"), call.arrays.get("weight")
    return (call.torch_error is None and x is not None and w is not None and x.ndim >= 3 and w.ndim != 1
            and w.size == x.shape[1])


def _no_classes(call):
    x = call.arrays.get("input")
    t = call.arrays.get("target")
    return (call.torch_error is None and x is not None and x.shape == (0,) and t is not None and t.ndim != 0
            and call.dtypes["target"] not in FLOATS)  # class indices (a floating target is probabilities)


def _smoothed_sum_of_nothing(call):
    """cross_entropy's class-index 'sum' with label smoothing over logits of no class at no position."""
    x, t = call.arrays.get("input"), call.arrays.get("target")
    if x is None or t is None or call.dtypes.get("target") in FLOATS or not call.option("label_smoothing", 0.0) > 0:
        return None
    w = call.arrays.get("linear_weight")
    classes = (w.shape[0] if w is not None and w.ndim else None) if call.loss == "linear_cross_entropy" \
        else (x.shape[1] if x.ndim >= 2 else x.shape[0] if x.ndim else None)
    return {"value": np.True_} if classes == 0 and t.size == 0 else None


def _weighted_overflow(call):
    """l1, mse and huber with ``weight``: every gradient, where a weight times a derivative (or the loss)
    overflows the dtype."""
    names = ("input", "target", "weight")
    if call.arrays.get("weight") is None or any(call.dtypes.get(n) not in FLOATS for n in names):
        return None
    top = min(float(np.finfo(np.float32 if call.dtypes[n] != "float64" else np.float64).max) for n in names)
    with np.errstate(all="ignore"):
        try:
            d = np.abs(call.arrays["input"].astype(np.float64) - call.arrays["target"])
            # the derivative, and the loss itself (the weights' gradient holds the weighted sum)
            slope = {"l1_loss": np.maximum(d, 1), "mse_loss": np.maximum(2 * d, d * d)}.get(
                call.loss, np.maximum(d, 1) * call.option("delta", 1.0))
            product = np.abs(call.arrays["weight"]) * slope
        except ValueError:  # shapes torch refuses: nothing to excuse
            return None
    return {n: np.True_ for n in names} if (product > top).any() else None


def _tiny_weight_sum(call):
    """l1/mse's weighted mean where the weights' sum squared is below the dtype's range (JAX's -a / b**2)."""
    w = call.arrays.get("weight")
    if w is None or call.option("reduction", "mean") != "mean" or call.dtypes.get("weight") not in FLOATS:
        return None
    limit = 1e-150 if call.dtypes["weight"] == "float64" else 1e-18
    return {"weight": np.True_} if abs(float(np.sum(w))) < limit else None


def _p_norm_range(call):
    """0 < p < 1 and a row of differences spanning more than 1e30 (float32 and narrower)."""
    p, names = call.option("p", 2), [n for n in ("x1", "x2", "anchor", "positive", "negative") if n in call.arrays]
    if not (isinstance(p, (int, float)) and 0 < p < 1) or any(call.dtypes[n] == "float64" for n in names):
        return None
    with np.errstate(all="ignore"):
        size = [np.abs(a[np.isfinite(a)]) for a in (call.arrays[n] for n in names)]  # an inf in another row aside
        wide = any(a.size and a.max() > 1e30 * max(a[a > 0].min(initial=1.0), 1e-6) for a in size)
    return {n: np.True_ for n in names} if wide else None


def _smoothed_one_sample(call):
    x, t = call.arrays.get("input"), call.arrays.get("target")
    return (any("broadcast shape" in str(e) for e in (call.torch_error, call.exact_error) if e is not None)
            and x is not None
            and x.ndim == 1 and t is not None and t.shape == (1,) and call.dtypes["target"] not in FLOATS)


def _bce_logits_cancellation(call):
    """The input's gradient where pos_weight * target dwarfs 1 - target at x > 0."""
    if "pos_weight" not in call.arrays or any(call.dtypes[n] not in FLOATS for n in ("input", "target", "pos_weight")):
        return None
    try:
        x, t, p = np.broadcast_arrays(call.arrays["input"], call.arrays["target"], call.arrays["pos_weight"])
    except ValueError:
        return None
    with np.errstate(all="ignore"):
        mask = (x > 0) & (np.abs(p * t) > 1e8 * np.abs(1 - t))
    return {"input": mask if mask.shape == call.arrays["input"].shape else np.True_} if mask.any() else None


DEVIATIONS += (
    Deviation(
        "linear-logits-rounding", ("linear_cross_entropy",), "elements",
        "rounds the logits x W^T in its matmul's order; where that rounding exceeds 1 (logits beyond about 1e16 in "
        "float64, 1e7 in float32) an ulp of a logit is a whole log-probability, so the order decides the softmax",
        "computes them in the library's own matmul (XLA's fused multiply-adds round a tie of torch's apart): not "
        "compared where D eps max|x| max|W| > 1",
        "no answer follows from the inputs there; torch's rounding order is not part of its contract",
        _logits_beyond_the_matmul),
    Deviation(
        "bce-logits-pos-weight-cancellation", ("binary_cross_entropy_with_logits",), "elements",
        "computes the input's gradient as (1 + (p - 1) t) sigmoid(x) - p t, which cancels where p t dwarfs 1 - t "
        "at x > 0 (with p t = 1e34 all of 1 - t is lost: 0 for -9999)",
        "computes (1 - t) sigmoid(x) - p t sigmoid(-x), each sigmoid exact: not compared where p t > 1e8 |1 - t|",
        "the derivative, without the cancellation",
        _bce_logits_cancellation),
    Deviation(
        "smoothed-one-sample", ("cross_entropy",), "accepts",
        "raises for a (C,) input with a (1,) target and label_smoothing > 0 (an in-place update of its smoothing "
        "term), and takes that target without smoothing",
        "takes it either way: the loss of the 0-d target",
        "one rule for the (1,) target",
        _smoothed_one_sample, reference=lambda call: {**call.arrays, "target": call.arrays["target"].reshape(())}),
    Deviation(
        "p-norm-gradient-range", ("pairwise_distance", "triplet_margin_loss"), "elements",
        "computes the p-norm's gradient in one kernel, finite wherever it is representable",
        "computes it, where the library has no p-norm of its own (JAX, Dask, CuPy, the generic primitives), by "
        "autodiff of a scaled sum of powers: for 0 < p < 1 in float32 it overflows to +-inf where a row's "
        "differences span more than 30 orders of magnitude; not compared there",
        "a limitation of ours, listed so that the fuzz keeps checking everything else",
        _p_norm_range),
    Deviation(
        "no-classes", ("cross_entropy", "nll_loss"), "refuses",
        "returns for a (0,) input (no class) with a 1-d class-index target, a shape it refuses with classes",
        "applies the same shape rules whatever C, and raises a ValueError",
        "there is no class to score",
        _no_classes),
    Deviation(
        "smoothed-sum-of-nothing", ("cross_entropy", "linear_cross_entropy"), "elements",
        "gives NaN for the 'sum' of class-index targets with label_smoothing > 0 where the logits have no class "
        "and no position (its smoothing term, a sum over nothing, times label_smoothing / C = inf)",
        "gives 0, the sum over no position",
        "a sum over no element is 0; the mean stays NaN, as torch's",
        _smoothed_sum_of_nothing, nan_only=True),
    Deviation(
        "weighted-gradient-overflow", ("l1_loss", "mse_loss", "huber_loss"), "elements",
        "multiplies the upstream gradient by the weight, then by the loss's derivative",
        "multiplies the derivative by the weight, then by the upstream gradient: where a weight times a derivative "
        "is beyond the dtype's range (1e30 and 1e30 in float32) that product is inf, though the gradient, divided "
        "by the weights' sum, is not (and JAX's gradient of the weights is NaN where a weighted loss overflows); "
        "not compared there",
        "a limitation of ours, listed so that the fuzz keeps checking everything else",
        _weighted_overflow),
    Deviation(
        "tiny-weight-sum", ("l1_loss", "mse_loss"), "elements",
        "differentiates the weighted mean sum(w l) / sum(w) as -(a / b) / b",
        "takes each library's derivative of the quotient: JAX's -a / b**2 overflows to inf where sum(w) is "
        "below 1e-18 in float32 (1e-150 in float64); not compared there",
        "the quotient is the formula; its derivative is the library's own",
        _tiny_weight_sum),
    Deviation(
        "class-weight-shape", ("cross_entropy", "nll_loss"), "refuses",
        "takes a class weight of any shape with C elements ((1, C), (C, 1)) where the input is K-dimensional, "
        "and only (C,) otherwise",
        "wants (C,) for every input, and raises a ValueError otherwise",
        "one shape for one weight per class",
        _flat_class_weight),
    Deviation(
        "gradient-at-nonfinite-arguments", (), "elements",
        "gives a NaN gradient in some elements whose arguments (or row, in the losses over a row) hold an "
        "infinity or NaN, from how its backward is written: inf - inf where an infinite weight multiplies two "
        "terms (multilabel_soft_margin_loss), 0 * inf (soft_margin_loss at x = t = -inf), a NaN norm spread "
        "over a row's zero differences (pairwise_distance), a NaN log-probability over its sequence (ctc_loss)",
        "gives the derivative of the formula there: a number, or +-inf (never NaN where torch's is not)",
        "torch's NaN there comes from its intermediate terms, not from the loss",
        _nonfinite_arguments, nan_only=True),
    Deviation(
        "gradient-over-an-empty-batch", (), "elements",
        "gives a NaN gradient for an array broadcast over an empty batch in some losses (the 'mean' of nothing, "
        "NaN, times the derivative)",
        "gives the sum of no terms there, 0",
        "the loss does not depend on an array whose every use is in no element",
        _empty_broadcast, nan_only=True),
    Deviation(
        "integer-input", (), "refuses",
        "computes some losses of an integer or boolean input (or weight) where another argument is floating "
        "(type promotion), and raises in others",
        "wants floating inputs and weights, and raises a TypeError otherwise (targets: see integer-or-bool-target)",
        "a loss is differentiated with respect to its input; one rule for every loss",
        _integer_input),
    Deviation(
        "mixed-float-dtypes-result", (), "dtype",
        "returns one argument's dtype in some losses given floating arrays of different dtypes: the target's "
        "in binary_cross_entropy_with_logits (its in-place updates keep it), the input's where the other is a "
        "0-d tensor (torch's rule for 0-d tensors), float16 for float16 with bfloat16",
        "returns their promotion as the array API standard defines it (float32 for float16 with bfloat16), "
        "or torch's dtype where that is a documented rule of the loss (huber_loss: the input's)",
        "one promotion rule for every loss and every library (NumPy and JAX do not treat 0-d arrays apart)",
        _promoted_dtype),
    Deviation(
        "soft-margin-overflow", ("soft_margin_loss",), "elements",
        "computes log1p(exp(-t x)), which overflows to inf where -t x > 709 in float64 (88 in float32)",
        "computes softplus(-t x): finite there, and its gradient too",
        "the loss is finite there: ours is the exact value",
        _soft_margin_overflow),
    Deviation(
        "ctc-impossible-alignment-gradient", ("ctc_loss",), "elements",
        "gives a NaN gradient for a sequence whose target needs more steps than its input has "
        "(an infinite loss, zero_infinity=False)",
        "gives 0 there",
        "the loss is +inf whatever log_probs are: no direction changes it",
        _ctc_impossible, nan_only=True),
    Deviation(
        "ctc-blank-in-target", ("ctc_loss",), "elements",
        "gives a gradient that is not the derivative of its value for a sequence whose target holds the blank "
        "label (its backward assumes it does not; central differences of its own value agree with ours)",
        "gives the derivative of the value",
        "a gradient is the derivative of the value",
        _ctc_blank_in_target),
    Deviation(
        "ctc-huge-log-probs", ("ctc_loss",), "elements",
        "loses its gradient where log-probabilities reach 1e15 in magnitude (NaN, and values out of [-1, 1] "
        "through log_softmax, from exp of differences of such numbers)",
        "computes it in shifted log space; not compared there",
        "the value is the same; torch's gradient there has no correct digit to compare with",
        _ctc_huge_log_probs),
    Deviation(
        "ctc-lengths-shape", ("ctc_loss",), "refuses",
        "takes input_lengths and target_lengths of any shape with one element per sequence ((1, N), (N, 1))",
        "wants (N,) (or a tuple of N ints; () or an int unbatched), and raises a ValueError otherwise",
        "one length per sequence is a vector",
        lambda call: call.exact_error is None and any(
            n in call.arrays and call.arrays[n].ndim > 1 for n in ("input_lengths", "target_lengths"))),
    Deviation(
        "empty-non-integer-indices", ("nll_loss", "multi_margin_loss", "multilabel_margin_loss"), "refuses",
        "takes a boolean or floating target of class indices where it holds no element (it checks the dtype "
        "only on data)",
        "wants integer class indices whatever the target's size, and raises a TypeError otherwise",
        "one rule for class indices",
        lambda call: call.torch_error is None and call.dtypes.get("target") in FLOATS + ("bool",)),
    Deviation(
        "ctc-non-integer-targets", ("ctc_loss",), "refuses",
        "takes boolean and floating targets (read as labels)",
        "wants integer class indices, as every loss with class indices, and raises a TypeError otherwise",
        "one rule for class indices",
        lambda call: call.torch_error is None and call.dtypes.get("targets") in FLOATS + ("bool",)),
    Deviation(
        "ctc-target-out-of-range", ("ctc_loss",), "refuses",
        "reads memory out of bounds for a target label outside [0, C) within its target length, or a negative "
        "length (a value that changes from call to call, or a crash)",
        "raises a ValueError where the data can be read",
        "there is no right value to return",
        _ctc_out_of_range, unsafe=True),
    Deviation(
        "margin-empty-batch", ("multi_margin_loss", "multilabel_margin_loss"), "elements",
        "returns uninitialised memory for the 'mean' and the 'sum' of an empty batch (torch 2.13: a different "
        "number at each call)",
        "returns NaN for the 'mean' and 0 for the 'sum', as torch's other losses do",
        "the mean of nothing is 0 / 0, the sum of nothing 0",
        _empty_batch_reduced),
    Deviation(
        "ctc-unbatched-padding", ("ctc_loss",), "accepts",
        "wants exactly target_length labels in unbatched targets",
        "takes padded unbatched targets (S >= target_length), as it takes batched ones",
        "one rule for batched and unbatched targets",
        _ctc_padded_unbatched),
    Deviation(
        "ctc-leaf-gradient", ("ctc_loss",), "elements",
        "adds exp(log_probs) to the gradient with respect to a leaf log_probs at every step before the input "
        "length (pytorch issue 52241); through log_softmax, the way CTC is used, it is the true derivative",
        "gives the true derivative with respect to log_probs either way (tests/test_sequence.py checks the "
        "relation)",
        "a gradient is the derivative of the value; the fuzz and the conformance suite compare through "
        "log_softmax, where both agree",
        lambda call: None),
    Deviation(
        "distance-p", ("pairwise_distance", "triplet_margin_loss"), "refuses",
        "takes any p, also inf, 0 and negative p",
        "takes a finite p > 0 and raises a ValueError otherwise",
        "p-norms are norms for p >= 1 (and usable for 0 < p < 1); the others are not distances",
        _p_not_finite_positive),
)

BY_ID = {d.id: d for d in DEVIATIONS}


@dataclass
class Excused:
    """What the deviations that apply to a call allow."""
    accepts: bool = False
    accepts_dtype: str | None = None
    reference: Callable | None = None
    refuses: bool = False
    warns: bool = False
    dtype: str | None = None
    masks: dict = field(default_factory=dict)
    ids: list = field(default_factory=list)

    def mask(self, output, reference):
        """Where ``output`` may differ from ``reference`` (torch's answer, float64): None for nowhere."""
        found = None
        for mask, nan_only in self.masks.get(output, ()):
            try:
                m = np.broadcast_to(mask, np.shape(reference))
            except ValueError:
                continue
            m = m & np.isnan(reference) if nan_only else m
            found = m if found is None else found | m
        return found


def unsafe(call: Call) -> bool:
    """Whether torch's function must not be called on ``call`` (an ``unsafe`` deviation applies)."""
    return any(d.unsafe and (not d.losses or call.loss in d.losses) and d.applies(call) for d in DEVIATIONS)


def excused(call: Call) -> Excused:
    out = Excused()
    for d in DEVIATIONS:
        if d.losses and call.loss not in d.losses:
            continue
        hit = d.applies(call)
        if not hit:
            continue
        out.ids.append(d.id)
        out.warns |= d.warns
        if d.kind == "accepts":
            out.accepts = True
            out.accepts_dtype = _float_dtype(call)
            out.reference = d.reference or out.reference
        elif d.kind == "refuses":
            out.refuses, out.accepts = True, False  # ours refuses, also where torch lacks a half-precision kernel
        elif d.kind == "dtype":
            out.dtype = _float_dtype(call)
        else:
            for name, mask in hit.items():
                out.masks.setdefault(name, []).append((mask, d.nan_only))
    return out


def markdown() -> str:
    """The list as docs/deviations.md gives it: one entry per deviation."""
    import textwrap

    lines = []
    for d in DEVIATIONS:
        where = ", ".join(f"`{n}`" for n in d.losses) if d.losses else "every loss"
        text = f"- **{d.id}** ({where}): torch {d.torch}; ours {d.ours}. Why: {d.why}."
        lines.append(textwrap.fill(text, 110, subsequent_indent="  ", break_on_hyphens=False))
    return "\n".join(lines) + "\n"
