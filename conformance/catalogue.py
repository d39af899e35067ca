"""The catalogue of conformance cases: data, not code.

Each :class:`Loss` entry names a loss (the same name in ``torch.nn.functional``
and ``agnostic_losses``; or, for what torch.nn lacks, a name of
``conformance/oracles.py``'s ``ORACLES``, which says which library defines it),
how to draw its arrays, its options, its optional arrays, the shapes to try and
its edge cases.  :func:`cases` expands every
entry into cases: every combination of options x shapes x optional arrays
present or not x dtype, plus every edge case at a few shapes.  Every case
draws its data from a seed derived from its id, so a case is reproducible from
its id alone.

Adding a loss of torch.nn is one entry in ``TORCH_CATALOGUE``; adding one
that another library defines is one entry in ``ORACLE_CATALOGUE`` and its
oracle (the library's function and an independent torch formula) in ``ORACLES``.
"""

from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

REDUCTIONS = ("none", "mean", "sum")
DTYPES = ("float32", "float64", "float16", "bfloat16")
LOW_PRECISION = ("float16", "bfloat16")  # tried at the EDGE_SHAPES only, to keep the run short


# --- draws: rng, shape -> float64 (or int64) array ---------------------------
# dtype lets benchmarks/data.py draw the same distributions in float32; float64 keeps the cases' streams

def _uniform(rng, low, high, shape, dtype):
    """rng.uniform draws float64 only: other dtypes scale rng.random's stream of that dtype."""
    if dtype == np.float64:
        return rng.uniform(low, high, shape)
    kind = np.dtype(dtype).type
    return rng.random(shape, dtype=dtype) * kind(high - low) + kind(low)


def normal(rng, shape, dtype=np.float64):
    return rng.standard_normal(shape, dtype=dtype)


def positive(rng, shape, dtype=np.float64):
    return _uniform(rng, 0.25, 2.0, shape, dtype)


def logits(rng, shape, dtype=np.float64):
    return rng.standard_normal(shape, dtype=dtype) * 3


def unit(rng, shape, dtype=np.float64):
    """Probabilities away from 0 and 1 (BCE's input)."""
    return _uniform(rng, 0.02, 0.98, shape, dtype)


def uniform01(rng, shape, dtype=np.float64):
    return _uniform(rng, 0.0, 1.0, shape, dtype)


def labels01(rng, shape, dtype=np.float64):
    return rng.integers(0, 2, shape).astype(dtype)


def signs(rng, shape, dtype=np.float64):
    return rng.choice([-1.0, 1.0], shape).astype(dtype, copy=False)


def counts(rng, shape, dtype=np.float64):
    """Poisson counts of 1 (the Stirling term's t > 1 boundary) and larger; 0 is an edge case."""
    return (1.0 + rng.poisson(1.5, shape)).astype(dtype, copy=False)


def _class_axis(shape):
    return 1 if len(shape) >= 2 else 0


def probabilities(rng, shape, dtype=np.float64):
    """Softmax of normal draws along the class axis (1, or 0 when 1-D)."""
    e = np.exp(rng.standard_normal(shape, dtype=dtype))
    return e / e.sum(axis=_class_axis(shape), keepdims=True) if e.size else e


def log_probabilities(rng, shape, dtype=np.float64):
    return np.log(probabilities(rng, shape, dtype))


def class_indices(n_classes):
    def draw(rng, shape):
        return rng.integers(0, n_classes, shape)

    return draw


def labels_with_others(rng, shape):
    """Labels 1 and -1, and some 0 and 2 (which torch's hinge and cosine losses treat specially)."""
    return rng.choice([1.0, -1.0, 1.0, -1.0, 0.0, 2.0], shape)


def label_lists(rng, shape):
    """multilabel_margin_loss targets: class indices ended by -1 (anything after it is ignored),
    a duplicate now and then, and now and then no -1 at all."""
    n = shape[-1]
    out = np.empty(shape, dtype=np.int64)
    for row in out.reshape(-1, n):
        k = rng.integers(0, n + 1)
        row[:] = rng.integers(-1, n, n)  # garbage after the end
        row[:k] = rng.permutation(n)[:k]
        if k >= 2 and rng.random() < 0.3:
            row[1] = row[0]  # duplicate
        if k < n:
            row[k] = -1
    return out


def squared_euclidean(x, y):
    """A distance function written against the array API: it gets torch tensors from torch, ours from us."""
    from agnostic_losses._primitives import array_namespace

    xp = array_namespace(x, y)
    return xp.sum((x - y) ** 2, axis=-1) if x.ndim and y.ndim else (x - y) ** 2


def dyadic(rng, shape):
    """Normal-ish values on a 1/16 grid, exact in every float dtype, so ties are exact."""
    return np.round(rng.standard_normal(shape) * 16) / 16


# --- edge cases: (arrays, options, rng) -> arrays ----------------------------

@dataclass(frozen=True)
class Edge:
    name: str
    apply: Callable
    needs: tuple = ()  # optional arrays the edge case needs present
    no_grad: tuple = ()  # arrays whose gradient is not compared here, for a reason documented beside the edge


def _every_other(shape):
    mask = np.zeros(shape, dtype=bool)
    mask.reshape(-1)[::2] = True
    return mask


def _ties(offset):
    """target = input - offset(options) at every other element, +offset at the rest."""

    def apply(arrays, options, rng):
        x = dyadic(rng, arrays["input"].shape)
        k = offset(options)
        return {**arrays, "input": x, "target": np.where(_every_other(x.shape), x - k, x + k)}

    return apply


def _extreme(arrays, options, rng):
    """Magnitudes of 1e18 (squares stay finite in float32) beside ordinary values."""
    x = arrays["input"].copy()
    x[_every_other(x.shape)] *= 1e18
    return {**arrays, "input": x}


def _nonfinite(arrays, options, rng):
    """+inf, -inf and NaN in the input; +inf and -inf in the target; inf - inf."""
    x, t = arrays["input"].copy(), arrays["target"].copy()
    fx, ft = x.reshape(-1), t.reshape(-1)
    fx[:4] = np.inf, -np.inf, np.nan, np.inf
    ft[3:6] = np.inf, np.inf, -np.inf
    return {**arrays, "input": x, "target": t}


def _scaled(arrays, options, rng):
    """Differences of a few hundred: past a delta/beta of 300, and past float16's range when squared."""
    return {**arrays, "input": arrays["input"] * 500}


def _zero_weight(arrays, options, rng):
    w = arrays["weight"]
    return {**arrays, "weight": np.where(_every_other(w.shape), 0.0, w)}


def _ignored(every):
    def apply(arrays, options, rng):
        t = arrays["target"].copy()
        ignore_index = options["ignore_index"]
        t.reshape(-1)[::every] = -100 if ignore_index is None else ignore_index  # None: linear_cross_entropy's -100
        return {**arrays, "target": t}

    return apply


def _large(magnitude):
    """Inputs of the given magnitude (one sign or the other) beside ordinary ones."""

    def apply(arrays, options, rng):
        x = arrays["input"].copy()
        mask = _every_other(x.shape)
        x[mask] = np.sign(x[mask]) * magnitude
        return {**arrays, "input": x}

    return apply


def _bce_bounds(arrays, options, rng):
    """Probabilities of exactly 0 and 1, where the logs are clamped at -100."""
    x = arrays["input"].copy()
    x.reshape(-1)[0::4], x.reshape(-1)[1::4] = 0.0, 1.0
    return {**arrays, "input": x}


def _infinite_targets(arrays, options, rng):
    """Targets of +inf at inputs 0, 1.5 and -2: torch's ``xlogy(t, t) - t x`` is inf - inf = NaN where the
    input is >= 0 (and ``t (log t - x)`` would be inf), inf where it is negative."""
    x, t = arrays["input"].copy(), arrays["target"].copy()
    x.reshape(-1)[:3] = 0.0, 1.5, -2.0
    t.reshape(-1)[:3] = np.inf
    return {**arrays, "input": x, "target": t}


def _zero_targets(arrays, options, rng):
    """Targets of exactly 0 (xlogy's 0 log 0 = 0) and a negative one (NaN)."""
    t = arrays["target"].copy()
    t.reshape(-1)[0::3] = 0.0
    t.reshape(-1)[1] = -0.5
    return {**arrays, "target": t}


def _tiny_var(arrays, options, rng):
    """Variances of 0 and below eps, clamped in value with the gradient flowing through."""
    v = arrays["var"].copy()
    v.reshape(-1)[0::3], v.reshape(-1)[1::3] = 0.0, 1e-9
    return {**arrays, "var": v}


def _ranking_ties(arrays, options, rng):
    """z = -t (x1 - x2) + margin == 0 exactly: x1 = x2 + margin t."""
    x2 = dyadic(rng, arrays["input2"].shape)
    t = arrays["target"]
    return {**arrays, "input2": x2, "input1": x2 + options["margin"] * t}


def _hinge_ties(arrays, options, rng):
    """margin - x == 0 exactly where the label is -1."""
    x = dyadic(rng, arrays["input"].shape)
    return {**arrays, "input": np.where(arrays["target"] == -1, options["margin"], x)}


def _multi_margin_ties(arrays, options, rng):
    """margin - x[y] + x[j] == 0 exactly for one j != y per sample."""
    x, y = dyadic(rng, arrays["input"].shape), arrays["target"]
    rows, n = x.reshape(-1, x.shape[-1]), x.shape[-1]
    for row, label in zip(rows, y.reshape(-1)):
        row[(label + 1) % n] = row[label] - options["margin"]
    return {**arrays, "input": rows.reshape(x.shape)}


def _multilabel_ties(arrays, options, rng):
    """1 - x[j] + x[k] == 0 exactly for a listed j and a class k not listed."""
    x, t = dyadic(rng, arrays["input"].shape), arrays["target"]
    rows, n = x.reshape(-1, x.shape[-1]), x.shape[-1]
    for row, labels in zip(rows, t.reshape(-1, n)):
        listed = labels[:np.argmax(labels < 0)] if (labels < 0).any() else labels
        others = sorted(set(range(n)) - set(listed.tolist()))
        if len(listed) and others:
            row[others[0]] = row[listed[0]] - 1
    return {**arrays, "input": rows.reshape(x.shape)}


def _identical(first, second):
    def apply(arrays, options, rng):
        return {**arrays, second: arrays[first].copy()}

    return apply


def _zero_vectors(names):
    def apply(arrays, options, rng):
        out = dict(arrays)
        for n in names:
            v = out[n].copy()
            v.reshape(-1, v.shape[-1])[0::2] = 0.0
            out[n] = v
        return out

    return apply


RANKING_TIES = Edge("z=0", _ranking_ties)
HINGE_TIES = Edge("margin-x=0", _hinge_ties)
MULTI_MARGIN_TIES = Edge("z=0", _multi_margin_ties)
MULTILABEL_TIES = Edge("z=0", _multilabel_ties)
SAME_PAIR = Edge("x1=x2", _identical("input1", "input2"))
ZERO_PAIR = Edge("zero_vectors", _zero_vectors(("input1", "input2")))
SAME_ANCHOR = Edge("positive=anchor", _identical("anchor", "positive"))
ZERO_TRIPLET = Edge("zero_vectors", _zero_vectors(("anchor", "positive", "negative")))  # swap ties too
SAME_POINTS = Edge("x1=x2", _identical("x1", "x2"))
SOME_IGNORED = Edge("some_ignored", _ignored(2))
ALL_IGNORED = Edge("all_ignored", _ignored(1))
EXTREME_LOGITS = Edge("logits_1e4", _large(1e4))
# torch's log1p(exp(-t x)) overflows past |x| = 88 in float32 and 709 in float64; ours does not
LARGE_MARGINS = Edge("margins_50", _large(50.0))
# torch's gradient with respect to target is -logit(x), unclamped: +-inf at 0 and 1; ours is
# the derivative of the clamped forward (docs/deviations.md)
BCE_BOUNDS = Edge("x_in_{0,1}", _bce_bounds, no_grad=("target",))
# torch's gradient with respect to target at t == 0 is 0/0 = NaN (xlogy's backward); ours is finite
ZERO_TARGETS = Edge("t=0_and_t<0", _zero_targets, no_grad=("target",))
# torch's gradient with respect to target at t = inf is inf/inf = NaN (xlogy's backward); ours is inf
INFINITE_TARGETS = Edge("t=inf", _infinite_targets, no_grad=("target",))
TINY_VAR = Edge("var<eps", _tiny_var)
# with full=True torch's gradient with respect to target at t == 0 is 0 * inf = NaN (its Stirling
# term is masked after it is computed); ours is finite
ZERO_COUNTS = Edge("t=0", lambda arrays, options, rng: {
    **arrays, "target": np.where(_every_other(arrays["target"].shape), 0.0, arrays["target"])},
    no_grad=("target",))
TIE_AT_ZERO = Edge("tie_d=0", _ties(lambda o: 0.0))
TIE_AT_DELTA = Edge("tie_|d|=delta", _ties(lambda o: o["delta"]))
TIE_AT_BETA = Edge("tie_|d|=beta", _ties(lambda o: o["beta"]))
EXTREME = Edge("extreme_1e18", _extreme)
NONFINITE = Edge("nonfinite", _nonfinite)
SCALED = Edge("d~500", _scaled)
ZERO_WEIGHT = Edge("zero_weights", _zero_weight, needs=("weight",))


# --- shapes -------------------------------------------------------------------
# A shape entry is a tuple (every array has it) or a dict of per-array shapes,
# where an array not named takes the shape of the loss's first array.

ELEMENTWISE_SHAPES = (
    (),
    (5,),
    (4, 3),
    (2, 3, 4),
    (0,),
    (2, 0, 3),
    {"input": (4, 3), "target": (3,)},
    {"input": (4, 1), "target": (1, 3)},
)
EDGE_SHAPES = ((4, 3), (2, 3, 4))
SAME_SHAPES = ELEMENTWISE_SHAPES[:6]  # for losses whose target must have input's shape

C = 5  # classes
CLASS_SHAPES = (  # unbatched, batched, K-dimensional, empty
    {"input": (C,), "target": (), "weight": (C,)},
    {"input": (4, C), "target": (4,), "weight": (C,)},
    {"input": (3, C, 2, 2), "target": (3, 2, 2), "weight": (C,)},
    {"input": (0, C), "target": (0,), "weight": (C,)},
)
PROBABILITY_SHAPES = tuple({"input": s["input"], "weight": (C,)} for s in CLASS_SHAPES)
LAST_AXIS_SHAPES = (  # the class axis is the last one; weight per class
    {"input": (C,), "weight": (C,), "pos_weight": (C,)},
    {"input": (4, C), "weight": (C,), "pos_weight": (C,)},
    {"input": (2, 3, C), "weight": (C,), "pos_weight": (C,)},
    {"input": (0, C), "weight": (C,), "pos_weight": (C,)},
    {"input": (4, C)},  # weight and pos_weight of input's shape
)
PAIR_SHAPES = (  # (N, D) with (N,) labels, (D,) with (), empty
    {"input1": (4, 3), "target": (4,)}, {"input1": (3,), "target": ()}, {"input1": (0, 3), "target": (0,)})
VECTOR_SHAPES = ((4, 3), (3,), (0, 3))
# torch's multi_margin_loss and multilabel_margin_loss return uninitialised memory for the mean
# of an empty batch, so their catalogue has no empty batch (tests/test_margin.py checks ours: NaN)
MARGIN_CLASS_SHAPES = (  # multi_margin_loss: (N, C) or (C,), target (N,) or (), weight (C,)
    {"input": (4, C), "target": (4,), "weight": (C,)}, {"input": (C,), "target": (), "weight": (C,)},
    {"input": (1, C), "target": (1,), "weight": (C,)})
VAR_SHAPES = SAME_SHAPES + (
    {"input": (4, 3), "var": (4,)},  # one axis fewer: unsqueezed
    {"input": (4, 3), "var": (4, 1)},  # one axis of size 1: broadcast
    {"input": (2, 3, 4), "var": (2, 1, 4)},
)


@dataclass(frozen=True)
class Loss:
    name: str
    arrays: dict  # name -> draw, in call order
    options: dict = field(default_factory=lambda: {"reduction": REDUCTIONS})
    optional: dict = field(default_factory=dict)  # name -> draw; cases run without and with each
    shapes: tuple = ELEMENTWISE_SHAPES
    edges: tuple = ()
    no_grad: tuple = ()  # arrays torch does not differentiate
    edge_shapes: tuple = EDGE_SHAPES  # where edge cases and low-precision dtypes are tried
    variant: str = ""  # tells apart two entries of one loss (class indices, probabilities)
    prepare: Callable | None = None  # (arrays, options, rng) -> arrays: ties drawn arrays together
    through: tuple = ()  # arrays passed through log_softmax (last axis) before the loss, on both sides
    ours_only: tuple = ()  # options torch's function does not take (the runner leaves them out of its call)
    normwise: bool = False  # outputs of a matrix product: compared normwise (see tolerances.py)
    dtypes: tuple = ()  # the dtypes it runs in, where not all (an oracle that computes float16 its own way)


@dataclass(frozen=True)
class Case:
    loss: str
    id: str
    seed: int
    arrays: dict  # name -> float64 / int64 NumPy array, passed by keyword
    options: dict  # static keyword options
    dtype: str
    grads: tuple  # names of the arrays whose gradients are compared
    through: tuple = ()  # see Loss.through
    ours_only: tuple = ()  # options left out of torch's call
    normwise: bool = False  # errors relative to the array's largest element (see tolerances.py)

    @property
    def torch_options(self) -> dict:
        """The options torch's function is called with."""
        return {k: v for k, v in self.options.items() if k not in self.ours_only}


# --- ctc_loss: log_probs (T, N, C) drawn as logits (the suite applies log_softmax), targets
# (N, S) padded; lengths tied to them by _ctc_lengths --------------------------------------

def _placeholder(rng, shape):
    return np.zeros(shape, dtype=np.int64)


def _ctc_needed(labels):
    """Time steps an alignment of ``labels`` needs: one per label, one more per repeat."""
    return len(labels) + int(np.sum(labels[1:] == labels[:-1]))


def _ctc_lengths(arrays, options, rng):
    """Labels that are not the blank (repeats now and then), input lengths in [T/2, T],
    target lengths in [0, S] that fit their input length; unbatched: the one target's length is S."""
    lp, t = arrays["log_probs"], arrays["targets"]
    steps, classes, blank = lp.shape[0], lp.shape[-1], options["blank"]
    t = rng.integers(0, classes - 1, t.shape)
    t = t + (t >= blank)  # any class but the blank
    rows = t if t.ndim == 2 else t[None, :]  # a view: writing rows writes t
    rows[:, 1::3] = rows[:, 0::3][:, :rows[:, 1::3].shape[1]]  # repeats: need a blank between them
    inputs = rng.integers((steps + 1) // 2, steps + 1, rows.shape[0])
    lengths = rng.integers(0, rows.shape[1] + 1, rows.shape[0]) if t.ndim == 2 else np.array([t.shape[0]])
    for i, row in enumerate(rows):
        while _ctc_needed(row[:lengths[i]]) > inputs[i]:
            if t.ndim == 1:
                inputs[i] += 1  # unbatched: the target keeps its length, the input grows
            else:
                lengths[i] -= 1
    shape = arrays["input_lengths"].shape
    return {**arrays, "targets": t, "input_lengths": inputs.reshape(shape), "target_lengths": lengths.reshape(shape)}


def _ctc_concatenated(arrays, options, rng):
    """The targets as torch's concatenated 1-D form."""
    arrays = _ctc_lengths(arrays, options, rng)
    rows = [row[:n] for row, n in zip(arrays["targets"], arrays["target_lengths"])]
    return {**arrays, "targets": np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)}


def _ctc_impossible(arrays, options, rng):
    """The first sequence's target needs more time steps than its input has: an infinite loss
    (0 with zero_infinity).  Its gradient is not compared: torch's is NaN, ours 0 (docs/deviations.md)."""
    t, inputs, lengths = arrays["targets"].copy(), arrays["input_lengths"].copy(), arrays["target_lengths"].copy()
    t[0, :] = np.arange(t.shape[1]) % 2 + (1 if options["blank"] == 0 else 0)  # no repeats
    lengths[0] = t.shape[1]
    inputs[0] = t.shape[1] - 1
    return {**arrays, "targets": t, "input_lengths": inputs, "target_lengths": lengths}


CTC_IMPOSSIBLE = Edge("impossible", _ctc_impossible, no_grad=("log_probs",))
CTC = {"log_probs": logits, "targets": _placeholder, "input_lengths": _placeholder, "target_lengths": _placeholder}
CTC_OPTIONS = {"reduction": REDUCTIONS, "blank": (0, 3), "zero_infinity": (False, True)}  # 3: inside C
CTC_SHAPES = (  # (T, N, C) with (N, S); a longer T; unbatched; empty targets
    {"log_probs": (6, 3, C), "targets": (3, 3), "input_lengths": (3,), "target_lengths": (3,)},
    {"log_probs": (12, 2, 4), "targets": (2, 5), "input_lengths": (2,), "target_lengths": (2,)},
    {"log_probs": (7, C), "targets": (3,), "input_lengths": (), "target_lengths": ()},
    {"log_probs": (4, 2, C), "targets": (2, 0), "input_lengths": (2,), "target_lengths": (2,)},
)


H = 4  # linear_cross_entropy's in_features; 8 rows in chunks of 3: two full chunks and a remainder
LINEAR_SHAPES = (  # unbatched, batched, K-dimensional (C, 2, H), empty
    {"input": (H,), "linear_weight": (C, H), "target": (), "linear_bias": (C,), "weight": (C,)},
    {"input": (8, H), "linear_weight": (C, H), "target": (8,), "linear_bias": (C,), "weight": (C,)},
    {"input": (8, H), "linear_weight": (C, 2, H), "target": (8, 2), "linear_bias": (C, 2), "weight": (C,)},
    {"input": (0, H), "linear_weight": (C, H), "target": (0,), "linear_bias": (C,), "weight": (C,)},
)
LINEAR_PROBABILITY_SHAPES = tuple(  # targets of the logits' shape (N, C, d1..dK)
    {**s, "target": s["input"][:-1] + (C,) + s["linear_weight"][1:-1]} for s in LINEAR_SHAPES)


def _large_linear_logits(arrays, options, rng):
    """Logits of magnitude up to 1280 that every dtype holds exactly: input in {-1, 0, 1}, linear_weight and
    linear_bias multiples of 64 (in half precision a rounded logit of 1e3 is off by up to 8, which leaves
    nothing of the softmax to compare)."""
    out = {**arrays, "input": rng.integers(-1, 2, arrays["input"].shape).astype(np.float64)}
    for name in ("linear_weight", "linear_bias"):
        if name in arrays:
            out[name] = 64.0 * rng.integers(-4, 5, arrays[name].shape)
    return out


LINEAR_LOGITS_1E3 = Edge("logits_1e3", _large_linear_logits)

REGRESSION = {"input": normal, "target": normal}

TORCH_CATALOGUE = (  # judged against torch.nn.functional
    Loss("l1_loss", REGRESSION, optional={"weight": positive},
         edges=(TIE_AT_ZERO, EXTREME, NONFINITE, SCALED, ZERO_WEIGHT)),
    Loss("mse_loss", REGRESSION, optional={"weight": positive},
         edges=(TIE_AT_ZERO, EXTREME, NONFINITE, SCALED, ZERO_WEIGHT)),
    Loss("huber_loss", REGRESSION,
         options={"reduction": REDUCTIONS, "delta": (0.5, 1.0, 2.0, 300.0)},
         optional={"weight": positive},
         edges=(TIE_AT_ZERO, TIE_AT_DELTA, EXTREME, NONFINITE, SCALED, ZERO_WEIGHT)),
    Loss("smooth_l1_loss", REGRESSION,
         options={"reduction": REDUCTIONS, "beta": (0.0, 0.5, 1.0, 2.0, 300.0)},
         edges=(TIE_AT_ZERO, TIE_AT_BETA, EXTREME, NONFINITE, SCALED)),
    Loss("cross_entropy", {"input": logits, "target": class_indices(C)}, variant="indices",
         options={"reduction": REDUCTIONS, "ignore_index": (-100, 1), "label_smoothing": (0.0, 0.25)},
         optional={"weight": positive}, shapes=CLASS_SHAPES, edge_shapes=CLASS_SHAPES[1:3],
         edges=(SOME_IGNORED, ALL_IGNORED, EXTREME_LOGITS), no_grad=("weight",)),
    Loss("cross_entropy", {"input": logits, "target": probabilities}, variant="probabilities",
         options={"reduction": REDUCTIONS, "label_smoothing": (0.0, 0.25)},
         optional={"weight": positive}, shapes=PROBABILITY_SHAPES, edge_shapes=PROBABILITY_SHAPES[1:3],
         edges=(EXTREME_LOGITS,), no_grad=("weight",)),
    Loss("nll_loss", {"input": log_probabilities, "target": class_indices(C)},
         options={"reduction": REDUCTIONS, "ignore_index": (-100, 1)},
         optional={"weight": positive}, shapes=CLASS_SHAPES, edge_shapes=CLASS_SHAPES[1:3],
         edges=(SOME_IGNORED, ALL_IGNORED), no_grad=("weight",)),
    Loss("binary_cross_entropy", {"input": unit, "target": uniform01},
         optional={"weight": positive}, shapes=SAME_SHAPES + ({"input": (4, 3), "weight": (3,)},),
         edges=(BCE_BOUNDS,), no_grad=("weight",)),
    Loss("binary_cross_entropy_with_logits", {"input": logits, "target": uniform01},
         optional={"weight": positive, "pos_weight": positive}, shapes=LAST_AXIS_SHAPES,
         edge_shapes=LAST_AXIS_SHAPES[1:3], edges=(EXTREME_LOGITS,), no_grad=("weight", "pos_weight")),
    Loss("multilabel_soft_margin_loss", {"input": logits, "target": labels01},
         optional={"weight": positive}, shapes=LAST_AXIS_SHAPES, edge_shapes=LAST_AXIS_SHAPES[1:3],
         edges=(EXTREME_LOGITS,)),
    Loss("soft_margin_loss", {"input": logits, "target": signs}, shapes=SAME_SHAPES,
         edges=(LARGE_MARGINS,), no_grad=("target",)),
    Loss("kl_div", {"input": log_probabilities, "target": probabilities},
         options={"reduction": REDUCTIONS + ("batchmean",), "log_target": (False, True)},
         edges=(ZERO_TARGETS, INFINITE_TARGETS)),
    Loss("poisson_nll_loss", {"input": positive, "target": counts},
         options={"reduction": REDUCTIONS, "log_input": (True, False), "full": (False, True)},
         edges=(ZERO_COUNTS,)),
    Loss("gaussian_nll_loss", {"input": normal, "target": normal, "var": positive}, variant="var array",
         options={"reduction": REDUCTIONS, "full": (False, True)}, shapes=VAR_SHAPES, edges=(TINY_VAR,)),
    Loss("gaussian_nll_loss", {"input": normal, "target": normal}, variant="var float",
         options={"reduction": REDUCTIONS, "var": (0.5, 2.0)}, shapes=SAME_SHAPES),
    Loss("margin_ranking_loss", {"input1": normal, "input2": normal, "target": signs},
         options={"reduction": REDUCTIONS, "margin": (0.0, 0.5)},
         shapes=SAME_SHAPES + ({"input1": (4, 3), "input2": (4, 3), "target": (1, 3)},), edges=(RANKING_TIES,)),
    Loss("hinge_embedding_loss", {"input": normal, "target": labels_with_others},
         options={"reduction": REDUCTIONS, "margin": (1.0, 0.5)}, shapes=SAME_SHAPES, edges=(HINGE_TIES,)),
    Loss("multi_margin_loss", {"input": normal, "target": class_indices(C)},
         options={"reduction": REDUCTIONS, "p": (1, 2), "margin": (1.0, 0.5)}, optional={"weight": positive},
         shapes=MARGIN_CLASS_SHAPES, edge_shapes=MARGIN_CLASS_SHAPES[:2], edges=(MULTI_MARGIN_TIES,),
         no_grad=("weight",)),
    Loss("multilabel_margin_loss", {"input": normal, "target": label_lists},
         shapes=((4, C), (C,)), edge_shapes=((4, C), (C,)), edges=(MULTILABEL_TIES,)),
    Loss("cosine_embedding_loss", {"input1": normal, "input2": normal, "target": labels_with_others},
         options={"reduction": REDUCTIONS, "margin": (0.0, 0.5, -0.5)}, shapes=PAIR_SHAPES,
         edge_shapes=PAIR_SHAPES[:2], edges=(SAME_PAIR, ZERO_PAIR)),
    Loss("triplet_margin_loss", {"anchor": normal, "positive": normal, "negative": normal},
         options={"reduction": REDUCTIONS, "margin": (1.0, 0.5), "p": (1, 2, 3), "swap": (False, True)},
         shapes=VECTOR_SHAPES, edge_shapes=VECTOR_SHAPES[:2], edges=(SAME_ANCHOR, ZERO_TRIPLET)),
    Loss("triplet_margin_with_distance_loss", {"anchor": normal, "positive": normal, "negative": normal},
         options={"reduction": REDUCTIONS, "distance_function": (None, squared_euclidean), "swap": (False, True)},
         shapes=VECTOR_SHAPES, edge_shapes=VECTOR_SHAPES[:2], edges=(SAME_ANCHOR, ZERO_TRIPLET)),
    Loss("ctc_loss", CTC, options=CTC_OPTIONS, shapes=CTC_SHAPES, edge_shapes=CTC_SHAPES[:1],
         prepare=_ctc_lengths, through=("log_probs",), edges=(CTC_IMPOSSIBLE,), variant="padded"),
    Loss("ctc_loss", CTC, options=CTC_OPTIONS, shapes=CTC_SHAPES[:2] + CTC_SHAPES[3:], edge_shapes=CTC_SHAPES[:1],
         prepare=_ctc_concatenated, through=("log_probs",), variant="concatenated"),
    Loss("pairwise_distance", {"x1": normal, "x2": normal},
         options={"p": (1, 2, 3), "eps": (1e-6, 0.0), "keepdim": (False, True)},
         shapes=VECTOR_SHAPES + ((2, 3, 4), {"x1": (4, 3), "x2": (3,)}), edges=(SAME_POINTS,)),
    Loss("linear_cross_entropy", {"input": normal, "linear_weight": normal, "target": class_indices(C)},
         variant="indices", ours_only=("chunk_size",), normwise=True,
         options={"reduction": REDUCTIONS, "ignore_index": (None, 1), "label_smoothing": (0.0, 0.25),
                  "chunk_size": (3,)},
         optional={"linear_bias": normal, "weight": positive}, shapes=LINEAR_SHAPES, edge_shapes=LINEAR_SHAPES[1:3],
         edges=(SOME_IGNORED, ALL_IGNORED, LINEAR_LOGITS_1E3), no_grad=("weight",)),
    Loss("linear_cross_entropy", {"input": normal, "linear_weight": normal, "target": probabilities},
         variant="probabilities", ours_only=("chunk_size",), normwise=True,
         options={"reduction": REDUCTIONS, "label_smoothing": (0.0, 0.25), "chunk_size": (3,)},
         optional={"linear_bias": normal, "weight": positive}, shapes=LINEAR_PROBABILITY_SHAPES,
         edge_shapes=LINEAR_PROBABILITY_SHAPES[1:3], edges=(LINEAR_LOGITS_1E3,), no_grad=("weight",)),
)


# --- losses and metrics judged against an oracle other than torch.nn (conformance/oracles.py) ---------------
# float64 and float32 only: scikit-learn computes float16 in float16, ours in float32.

ORACLE_DTYPES = ("float64", "float32")
N, K = 6, 3  # samples; outputs (2-D targets)


def _metric_ties(arrays, options, rng):
    """y_pred == y_true at every other element (the kink of |d|), on a grid every dtype holds exactly."""
    t = dyadic(rng, arrays["y_true"].shape)
    return {**arrays, "y_true": t, "y_pred": np.where(_every_other(t.shape), t, t + 0.5)}


METRIC_TIES = Edge("y_pred=y_true", _metric_ties)


def _regression_metric(name, draw=normal, options=None, scores=False, edges=()):
    """Two entries of a scikit-learn regression metric: 1-D targets, and K outputs with ``multioutput``
    (raw, averaged, weighted; 'variance_weighted' too for the scores); each with and without sample_weight."""
    outputs = ("uniform_average", "raw_values", (0.2, 0.3, 0.5)) + (("variance_weighted",) if scores else ())
    common = dict(optional={"sample_weight": positive}, dtypes=ORACLE_DTYPES, edges=edges)
    return (Loss(f"metrics.{name}", {"y_true": draw, "y_pred": draw}, options=dict(options or {}), variant="1-D",
                 shapes=({"y_true": (N,)},), edge_shapes=({"y_true": (N,)},), **common),
            Loss(f"metrics.{name}", {"y_true": draw, "y_pred": draw}, variant="outputs",
                 options={"multioutput": outputs, **(options or {})},
                 shapes=({"y_true": (N, K), "sample_weight": (N,)},),
                 edge_shapes=({"y_true": (N, K), "sample_weight": (N,)},), **common))


def _one_output_metric(name, draw, options=None):
    shapes = ({"y_true": (N,)},)
    return Loss(f"metrics.{name}", {"y_true": draw, "y_pred": draw}, options=dict(options or {}),
                optional={"sample_weight": positive}, shapes=shapes, edge_shapes=shapes, dtypes=ORACLE_DTYPES)


def _classification_metric(name, prediction, variant, options, classes=C):
    shape = (N, classes) if variant == "multiclass" else (N,)
    shapes = ({"y_true": (N,), prediction[0]: shape},)
    return Loss(f"metrics.{name}", {"y_true": class_indices(classes), prediction[0]: prediction[1]},
                options=options, optional={"sample_weight": positive}, variant=variant, shapes=shapes,
                edge_shapes=shapes, dtypes=ORACLE_DTYPES)


def boxes(rng, shape, dtype=np.float64):
    """Boxes (x1, y1, x2, y2) along the last axis: corners in [0, 4], sides in [0.5, 3]."""
    corner = _uniform(rng, 0.0, 4.0, shape[:-1] + (2,), dtype)
    side = _uniform(rng, 0.5, 3.0, shape[:-1] + (2,), dtype)
    return np.concatenate([corner, corner + side], axis=-1)


def _touching(arrays, options, rng):
    """boxes2 is boxes1 moved right by its width, on a 1/16 grid (exact in every dtype): they touch, an
    intersection of width exactly 0."""
    b = np.round(arrays["boxes1"] * 16) / 16
    moved = b.copy()
    moved[..., 0::2] += (b[..., 2] - b[..., 0])[..., None]
    return {**arrays, "boxes1": b, "boxes2": moved}


SAME_BOXES = Edge("boxes1=boxes2", _identical("boxes1", "boxes2"))  # every corner a tie of min and max
TOUCHING_BOXES = Edge("touching", _touching)
BOX_SHAPES = ((5, 4), (4,), (0, 4), (2, 3, 4), {"boxes1": (3, 4), "boxes2": (4,)})

def _margin_at(value, names=("predictor_outputs", "targets")):
    """The scores set so that ``y t == value`` at every other element (a hinge's kink)."""
    def apply(arrays, options, rng):
        y, t = arrays[names[0]], arrays[names[1]]
        return {**arrays, names[0]: np.where(_every_other(y.shape), value * t, y)}  # t is +-1: y t = value

    return apply


def _sparse_plus_knots(arrays, options, rng):
    """Logits at -1 and 1, sparse_plus's knots, at every other element."""
    z = arrays["logits"]
    return {**arrays, "logits": np.where(_every_other(z.shape), np.where(z > 0, 1.0, -1.0), z)}


def _tied_maxima(arrays, options, rng):
    """The first two scores of each row equal the row's maximum (a tie of maxima)."""
    x = arrays["scores"].copy()
    top = x.max(axis=-1, keepdims=True)
    x[..., :2] = top
    return {**arrays, "scores": x}


def booleans(rng, shape):
    return rng.random(shape) < 0.7


def masks(rng, shape):
    """Booleans, True at index 0 along every axis: every line along any axes keeps an element."""
    mask = rng.random(shape) < 0.6
    for k in range(len(shape)):
        mask[(slice(None),) * k + (0,)] = True
    return mask


OPTAX_SHAPES = SAME_SHAPES[1:5]
MULTICLASS_SHAPES = ({"scores": (4, C), "labels": (4,)}, {"scores": (C,), "labels": ()},
                     {"scores": (2, 3, C), "labels": (2, 3)})

CLASSES = tuple(range(C))


# --- MONAI's segmentation losses: input (B, M, *spatial), M classes along axis 1 (the channels) ---------------
M = 3  # segmentation classes


def one_hot(rng, shape):
    """One-hot labels along axis 1 of ``(B, M, *spatial)``."""
    k = rng.integers(0, shape[1], (shape[0], 1) + shape[2:])
    return (k == np.arange(shape[1]).reshape((1, -1) + (1,) * (len(shape) - 2))).astype(np.float64)


def eighths(rng, shape):
    """Soft labels in multiples of 1/8: their volumes are exact in float32, where MONAI's generalized Dice
    sums them (see oracles.py)."""
    return rng.integers(0, 9, shape) / 8.0


def _segmentation(arrays, options, rng):
    """Ties the arrays to the options: ``weight`` without the background's where include_background=False, and
    for an ``ignore_index`` that is no class, positions labelled with it (class indices) or with no class
    (one-hot)."""
    out = dict(arrays)
    if "weight" in out and not options.get("include_background", True):
        out["weight"] = out["weight"][1:]
    index = options.get("ignore_index")
    t = out["target"]
    axis = options.get("axis", 1) % t.ndim
    if index is not None and not 0 <= index < M:
        hit = np.moveaxis(_every_other(np.moveaxis(t, axis, -1).shape[:-1] + (1,)), -1, axis)
        out["target"] = np.where(hit, index, t) if t.shape[axis] == 1 else np.where(hit, 0.0, t)
    return out


def _empty_class(arrays, options, rng):
    """Class 2 labelled nowhere in the first sample (moved to class 0): a volume of 0, whose generalized Dice
    weight is infinite and replaced by the sample's largest (of all, with batch)."""
    t = arrays["target"].copy()
    if t.shape[1] == 1:
        t[0][t[0] == 2] = 0
    else:
        t[0, 0] += t[0, 2]
        t[0, 2] = 0.0
    return {**arrays, "target": t}


def _prediction_is_target(arrays, options, rng):
    """``input == target`` at every other element: the kink of ``|p - g|`` in the soft-label norm forms."""
    p, g = arrays["input"], arrays["target"]
    return {**arrays, "input": np.where(_every_other(p.shape), g, p)}


EMPTY_CLASS = Edge("empty_class", _empty_class)
SEGMENTATION_SHAPES = ({"input": (2, M, 4, 3), "target": (2, M, 4, 3), "weight": (M,)},
                       {"input": (3, M, 5), "target": (3, M, 5), "weight": (M,)})
LABEL_MAP_SHAPES = tuple({**shape, "target": shape["input"][:1] + (1,) + shape["input"][2:]}
                         for shape in SEGMENTATION_SHAPES)
CHANNELS_LAST = ({"input": (2, 4, 3, M), "target": (2, 4, 3, 1)},)


def _monai_losses(name, options, edges=(), no_grad=(), **probability_options):
    """The entries of one of MONAI's losses: probabilities and one-hot targets (``options`` and
    ``probability_options``), logits through a softmax with class-index targets (``to_onehot_y``), soft labels,
    and the classes on the last axis."""
    common = dict(prepare=_segmentation, dtypes=ORACLE_DTYPES, no_grad=no_grad)
    index = {"ignore_index": (None, 0, -1)} if "ignore_index" in options else {}
    return (
        Loss(name, {"input": unit, "target": one_hot}, variant="probabilities",
             options={"reduction": REDUCTIONS, "include_background": (True, False), "batch": (False, True),
                      **options, **probability_options},
             shapes=SEGMENTATION_SHAPES[:1], edges=edges, edge_shapes=SEGMENTATION_SHAPES[:1], **common),
        Loss(name, {"input": logits, "target": class_indices(M)}, variant="logits, class indices",
             options={"reduction": REDUCTIONS, "softmax": (True,), "to_onehot_y": (True,),
                      "include_background": (True, False), **index},
             shapes=LABEL_MAP_SHAPES, edges=edges, edge_shapes=LABEL_MAP_SHAPES[:1], **common),
        Loss(name, {"input": logits, "target": one_hot}, variant="sigmoid",
             options={"reduction": ("mean", "none"), "sigmoid": (True,), **{k: (None, 0) for k in index}},
             shapes=SEGMENTATION_SHAPES[1:], edge_shapes=(), **common),
        Loss(name, {"input": unit, "target": eighths}, variant="soft labels",
             options={"reduction": ("mean", "none"), "soft_label": (True,), "batch": (False, True),
                      **{k: v for k, v in probability_options.items() if k != "weight"}},
             shapes=SEGMENTATION_SHAPES[:1], edges=(Edge("input=target", _prediction_is_target),),
             edge_shapes=SEGMENTATION_SHAPES[:1], **common),
        Loss(name, {"input": logits, "target": class_indices(M)}, variant="classes last",
             options={"reduction": REDUCTIONS, "softmax": (True,), "to_onehot_y": (True,), "axis": (-1,),
                      **{k: (None, -1) for k in index}},
             shapes=CHANNELS_LAST, edge_shapes=(), **common),
    )
TORCH_STYLE_SHAPES = ((5,), (4, 3), {"input": (4, 3), "weight": (3,)})
ESTIMATORS = ("qd", "nrg", "fair", "pwm", "akr", "akr_circperm", "int")

ORACLE_CATALOGUE = (
    *_regression_metric("mean_absolute_error", edges=(METRIC_TIES,)),
    *_regression_metric("mean_squared_error"),
    *_regression_metric("root_mean_squared_error"),
    *_regression_metric("mean_squared_log_error", positive),
    *_regression_metric("root_mean_squared_log_error", positive),
    *_regression_metric("mean_absolute_percentage_error", edges=(METRIC_TIES,)),
    *_regression_metric("median_absolute_error", edges=(METRIC_TIES,)),
    *_regression_metric("mean_pinball_loss", options={"alpha": (0.5, 0.1, 0.9)}, edges=(METRIC_TIES,)),
    *_regression_metric("r2_score", scores=True, options={"force_finite": (True, False)}),
    *_regression_metric("explained_variance_score", scores=True, options={"force_finite": (True, False)}),
    Loss("metrics.max_error", {"y_true": normal, "y_pred": normal}, options={}, shapes=((N,),),
         edge_shapes=((N,),), dtypes=ORACLE_DTYPES),
    _one_output_metric("mean_tweedie_deviance", positive, {"power": (0, 1, 1.5, 2, 3, -0.5)}),
    _one_output_metric("mean_poisson_deviance", positive),
    _one_output_metric("mean_gamma_deviance", positive),
    _classification_metric("log_loss", ("y_proba", probabilities), "multiclass",
                           {"labels": (CLASSES,), "normalize": (True, False)}),
    _classification_metric("log_loss", ("y_proba", unit), "binary", {"labels": ((0, 1),)}, classes=2),
    _classification_metric("brier_score_loss", ("y_proba", probabilities), "multiclass",
                           {"labels": (CLASSES,), "scale_by_half": ("auto", True)}),
    _classification_metric("brier_score_loss", ("y_proba", unit), "binary",
                           {"pos_label": (1, 0), "scale_by_half": ("auto", False)}, classes=2),
    _classification_metric("hinge_loss", ("pred_decision", normal), "multiclass", {"labels": (CLASSES,)}),
    _classification_metric("hinge_loss", ("pred_decision", normal), "binary", {"labels": ((0, 1),)}, classes=2),
    Loss("metrics.hinge_loss", {"y_true": signs, "pred_decision": normal}, options={"labels": ((-1, 1),)},
         optional={"sample_weight": positive}, variant="signs", shapes=((N,),), edge_shapes=((N,),),
         no_grad=("y_true",), dtypes=ORACLE_DTYPES),
    Loss("metrics.log_loss", {"y_true": labels01, "y_proba": unit}, options={"labels": ((0, 1),)},
         variant="float labels", shapes=(((N, 1)),), edge_shapes=((N, 1),), no_grad=("y_true",),
         dtypes=ORACLE_DTYPES),  # a column of 0.0 and 1.0, as torch code holds labels
    Loss("metrics.crps_normal", {"obs": normal, "mu": normal, "sigma": positive}, options={},
         shapes=((5,), (2, 3), {"obs": (2, 3), "mu": (3,), "sigma": ()}), edge_shapes=((2, 3),),
         dtypes=ORACLE_DTYPES),
    Loss("metrics.crps_ensemble", {"obs": normal, "fct": normal}, options={"estimator": ESTIMATORS},
         optional={"ens_w": positive}, dtypes=ORACLE_DTYPES,
         shapes=({"obs": (4,), "fct": (4, 6), "ens_w": (4, 6)}, {"obs": (), "fct": (7,), "ens_w": (7,)}),
         edge_shapes=({"obs": (4,), "fct": (4, 6), "ens_w": (4, 6)},)),
    *(Loss(name, {"input": draw, "target": draw}, options={"reduction": REDUCTIONS, **options},
           optional={"weight": positive}, shapes=TORCH_STYLE_SHAPES, edge_shapes=TORCH_STYLE_SHAPES[1:2],
           edges=(TIE_AT_ZERO,) if draw is normal else (), dtypes=ORACLE_DTYPES)
      for name, draw, options in (("log_cosh_loss", normal, {}), ("mape_loss", normal, {}),
                                  ("msle_loss", positive, {}), ("rmse_loss", normal, {}),
                                  ("pinball_loss", normal, {"quantile": (0.5, 0.1, 0.9)}))),
    Loss("sigmoid_focal_loss", {"inputs": logits, "targets": labels01}, variant="labels",
         options={"reduction": REDUCTIONS, "alpha": (0.25, -1), "gamma": (2, 0, 1.5)}, shapes=SAME_SHAPES,
         dtypes=ORACLE_DTYPES),
    Loss("sigmoid_focal_loss", {"inputs": logits, "targets": uniform01}, variant="soft labels",
         options={"reduction": REDUCTIONS, "alpha": (0.5,), "gamma": (2,)}, shapes=SAME_SHAPES[1:3],
         edge_shapes=(), dtypes=ORACLE_DTYPES),
    Loss("hinge_loss", {"predictor_outputs": normal, "targets": signs}, options={}, shapes=OPTAX_SHAPES,
         edge_shapes=OPTAX_SHAPES[1:2], edges=(Edge("yt=1", _margin_at(1.0)),), dtypes=ORACLE_DTYPES),
    Loss("perceptron_loss", {"predictor_outputs": normal, "targets": signs}, options={}, shapes=OPTAX_SHAPES,
         edge_shapes=OPTAX_SHAPES[1:2], edges=(Edge("yt=0", _margin_at(0.0)),), dtypes=ORACLE_DTYPES),
    Loss("sparsemax_loss", {"logits": logits, "labels": labels01}, options={}, shapes=OPTAX_SHAPES,
         edge_shapes=OPTAX_SHAPES[1:2], edges=(Edge("z=+-1", _sparse_plus_knots),), no_grad=("labels",),
         dtypes=ORACLE_DTYPES),
    *(Loss(name, {"scores": normal, "labels": class_indices(C)}, options={}, shapes=shapes,
           edge_shapes=MULTICLASS_SHAPES[:1], edges=(Edge("tied_maxima", _tied_maxima),), dtypes=ORACLE_DTYPES)
      for name, shapes in (("multiclass_hinge_loss", MULTICLASS_SHAPES),
                           ("multiclass_perceptron_loss", MULTICLASS_SHAPES),
                           ("multiclass_sparsemax_loss",  # optax's takes (N, C) only
                            MULTICLASS_SHAPES[:1] + ({"scores": (9, C), "labels": (9,)},)))),
    Loss("ntxent", {"embeddings": normal, "labels": class_indices(3)}, options={"temperature": (0.07, 0.5)},
         normwise=True,  # cosine similarities: their gradient cancels as cosine_distance's (below)
         shapes=({"embeddings": (6, 4), "labels": (6,)}, {"embeddings": (3, 2), "labels": (3,)}), edge_shapes=(),
         dtypes=ORACLE_DTYPES),
    # the gradient b / (|a| |b|) - cos a / |a|^2 cancels where a and b align (a vector of one kept element):
    # its rounding scales with the terms, so it is compared normwise, as a matrix product's
    Loss("cosine_distance", {"predictions": normal, "targets": normal}, variant="axes", normwise=True,
         options={"epsilon": (0.0, 0.5), "axis": (-1, 0, None, (0, 1))}, optional={"where": booleans},
         shapes=({"predictions": (4, 3), "targets": (4, 3), "where": (4, 3)},
                 {"predictions": (2, 3, 4), "targets": (2, 3, 4), "where": (3, 1)}),
         edge_shapes=(), dtypes=ORACLE_DTYPES),
    Loss("cosine_distance", {"predictions": normal, "targets": normal}, variant="broadcast", normwise=True,
         options={"epsilon": (0.0,), "axis": (-1, None)}, optional={"where": booleans},  # None: each its own axes
         shapes=({"predictions": (2, 3, 4), "targets": (3, 4), "where": (3, 1)}, {"predictions": (4,), "targets": (4,),
                                                                               "where": (4,)}),
         edge_shapes=(), dtypes=ORACLE_DTYPES),
    Loss("jensen_shannon_divergence", {"p": positive, "q": positive}, variant="probabilities",
         options={"reduction": REDUCTIONS + (None,), "log_prob": (False,)}, shapes=((4, C), (1, 3), (0, 3)),
         edge_shapes=(), dtypes=ORACLE_DTYPES),
    Loss("jensen_shannon_divergence", {"p": log_probabilities, "q": log_probabilities}, variant="log",
         options={"reduction": REDUCTIONS, "log_prob": (True,)}, shapes=((4, C), (1, 3)), edge_shapes=(),
         dtypes=ORACLE_DTYPES),
    Loss("poly_loss_cross_entropy", {"logits": logits, "labels": probabilities},
         options={"epsilon": (2.0, -1.0), "axis": (-1, 0, (0, 1))}, optional={"where": masks},
         shapes=({"logits": (4, C), "labels": (4, C), "where": (4, C)},
                 {"logits": (2, 3, C), "labels": (2, 3, C), "where": (2, 3, C)}),
         edge_shapes=(), dtypes=ORACLE_DTYPES),
    Loss("focal_loss", {"pred": logits, "target": class_indices(C)},
         options={"reduction": REDUCTIONS, "alpha": (None, 0.25), "gamma": (2.0, 0.0, 0.5),
                  "ignore_index": (-100, 1)},
         optional={"weight": positive}, dtypes=ORACLE_DTYPES, edge_shapes=(),
         shapes=({"pred": (4, C), "target": (4,), "weight": (C,)},
                 {"pred": (2, C, 3), "target": (2, 3), "weight": (C,)},
                 {"pred": (0, C), "target": (0,), "weight": (C,)})),
    *(Loss(name, {"boxes1": boxes, "boxes2": boxes}, options={"reduction": REDUCTIONS, "eps": (1e-7, 0.1)},
           shapes=BOX_SHAPES, edge_shapes=BOX_SHAPES[:1] + BOX_SHAPES[3:4], edges=(SAME_BOXES, TOUCHING_BOXES),
           dtypes=ORACLE_DTYPES)
      for name in ("generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss")),
    *_monai_losses("dice_loss", {"ignore_index": (None, 1)}, squared_pred=(False, True), jaccard=(False, True)),
    # ignore_index -1 of a one-hot target drops the positions of no class: a step function of target, whose
    # derivative (0 almost everywhere) finite differences cannot check
    Loss("dice_loss", {"input": unit, "target": one_hot}, variant="class weights", optional={"weight": positive},
         options={"reduction": REDUCTIONS, "include_background": (True, False), "ignore_index": (None, -1)},
         shapes=SEGMENTATION_SHAPES, edge_shapes=(), prepare=_segmentation, dtypes=ORACLE_DTYPES,
         no_grad=("target",)),
    *_monai_losses("tversky_loss", {"ignore_index": (None, 1)}, alpha=(0.5, 0.3), beta=(0.5, 0.7)),
    # MONAI's generalized Dice updates its weights in place: it cannot be differentiated with respect to target
    *_monai_losses("generalized_dice_loss", {}, edges=(EMPTY_CLASS,), no_grad=("target",),
                   w_type=("square", "simple", "uniform")),
)
CATALOGUE = TORCH_CATALOGUE + ORACLE_CATALOGUE


def loss_names():
    return list(dict.fromkeys(entry.name for entry in CATALOGUE))


def _label(shape):
    if isinstance(shape, dict):
        return ",".join(f"{k}{list(v)}" for k, v in shape.items())
    return str(list(shape))


def _draw(entry: Loss, shape, names, seed):
    rng = np.random.default_rng(seed)
    per_array = shape if isinstance(shape, dict) else {}
    default = per_array.get(next(iter(entry.arrays)), shape)  # arrays not named take the first one's shape
    draws = {**entry.arrays, **entry.optional}
    return rng, {n: draws[n](rng, per_array.get(n, default)) for n in names}


def _make(entry, shape, options, with_optional, edge, dtype):
    opts = ",".join(f"{k}={getattr(v, '__name__', v)}" for k, v in options.items())
    name = f"{entry.name}/{entry.variant}" if entry.variant else entry.name
    base = f"{name}[{_label(shape)}|{opts}|{'+'.join(with_optional) or '-'}|{edge.name if edge else 'random'}]"
    seed = zlib.crc32(base.encode())
    names = list(entry.arrays) + list(with_optional)
    rng, arrays = _draw(entry, shape, names, seed)
    if entry.prepare is not None:
        arrays = entry.prepare(arrays, options, rng)
    if edge is not None:
        arrays = edge.apply(arrays, options, rng)
    skip = entry.no_grad + (edge.no_grad if edge else ())
    grads = tuple(n for n, a in arrays.items() if n not in skip and np.issubdtype(a.dtype, np.floating))
    return Case(entry.name, f"{base}{dtype}", seed, arrays, dict(options), dtype, grads, entry.through,
                entry.ours_only, entry.normwise)


def cases(losses=None, dtypes=DTYPES):
    """Every case of the named losses (all by default), for the given dtypes."""
    chosen = [e for e in CATALOGUE if losses is None or e.name in losses]
    unknown = set(losses or ()) - {e.name for e in chosen}
    if unknown:
        raise ValueError(f"no conformance entry for {sorted(unknown)}; known: {loss_names()}")
    out = []
    for entry in chosen:
        keys = list(entry.options)
        subsets = [()] + [(n,) for n in entry.optional]
        for values in itertools.product(*(entry.options[k] for k in keys)):
            options = dict(zip(keys, values))
            for dtype in (d for d in dtypes if not entry.dtypes or d in entry.dtypes):
                for shape in entry.edge_shapes if dtype in LOW_PRECISION else entry.shapes:
                    for subset in subsets:
                        out.append(_make(entry, shape, options, subset, None, dtype))
                for edge in entry.edges:
                    for shape in entry.edge_shapes:
                        out.append(_make(entry, shape, options, edge.needs, edge, dtype))
    return out
