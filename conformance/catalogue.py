"""The catalogue of conformance cases: data, not code.

Each :class:`Loss` entry names a loss (the same name in ``torch.nn.functional``
and ``agnostic_losses``), how to draw its arrays, its options, its optional
arrays, the shapes to try and its edge cases.  :func:`cases` expands every
entry into cases: every combination of options x shapes x optional arrays
present or not x dtype, plus every edge case at a few shapes.  Every case
draws its data from a seed derived from its id, so a case is reproducible from
its id alone.

Adding a loss is one entry in ``CATALOGUE``.
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

def normal(rng, shape):
    return rng.standard_normal(shape)


def positive(rng, shape):
    return rng.uniform(0.25, 2.0, shape)


def logits(rng, shape):
    return rng.standard_normal(shape) * 3


def unit(rng, shape):
    """Probabilities away from 0 and 1 (BCE's input)."""
    return rng.uniform(0.02, 0.98, shape)


def uniform01(rng, shape):
    return rng.uniform(0.0, 1.0, shape)


def labels01(rng, shape):
    return rng.integers(0, 2, shape).astype(np.float64)


def signs(rng, shape):
    return rng.choice([-1.0, 1.0], shape)


def counts(rng, shape):
    """Poisson counts of 1 (the Stirling term's t > 1 boundary) and larger; 0 is an edge case."""
    return 1.0 + rng.poisson(1.5, shape)


def _class_axis(shape):
    return 1 if len(shape) >= 2 else 0


def probabilities(rng, shape):
    """Softmax of normal draws along the class axis (1, or 0 when 1-D)."""
    e = np.exp(rng.standard_normal(shape))
    return e / e.sum(axis=_class_axis(shape), keepdims=True) if e.size else e


def log_probabilities(rng, shape):
    return np.log(probabilities(rng, shape))


def class_indices(n_classes):
    def draw(rng, shape):
        return rng.integers(0, n_classes, shape)

    return draw


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
        t.reshape(-1)[::every] = options["ignore_index"]
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


SOME_IGNORED = Edge("some_ignored", _ignored(2))
ALL_IGNORED = Edge("all_ignored", _ignored(1))
EXTREME_LOGITS = Edge("logits_1e4", _large(1e4))
# torch's log1p(exp(-t x)) overflows past |x| = 88 in float32 and 709 in float64; ours does not
LARGE_MARGINS = Edge("margins_50", _large(50.0))
# torch's gradient with respect to target is -logit(x), unclamped: +-inf at 0 and 1; ours is
# the derivative of the clamped forward (README, "Deviations")
BCE_BOUNDS = Edge("x_in_{0,1}", _bce_bounds, no_grad=("target",))
# torch's gradient with respect to target at t == 0 is 0/0 = NaN (xlogy's backward); ours is finite
ZERO_TARGETS = Edge("t=0_and_t<0", _zero_targets, no_grad=("target",))
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
# where an array not named takes the shape of "input".

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


@dataclass(frozen=True)
class Case:
    loss: str
    id: str
    seed: int
    arrays: dict  # name -> float64 / int64 NumPy array, passed by keyword
    options: dict  # static keyword options
    dtype: str
    grads: tuple  # names of the arrays whose gradients are compared


REGRESSION = {"input": normal, "target": normal}

CATALOGUE = (
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
         edges=(ZERO_TARGETS,)),
    Loss("poisson_nll_loss", {"input": positive, "target": counts},
         options={"reduction": REDUCTIONS, "log_input": (True, False), "full": (False, True)},
         edges=(ZERO_COUNTS,)),
    Loss("gaussian_nll_loss", {"input": normal, "target": normal, "var": positive}, variant="var array",
         options={"reduction": REDUCTIONS, "full": (False, True)}, shapes=VAR_SHAPES, edges=(TINY_VAR,)),
    Loss("gaussian_nll_loss", {"input": normal, "target": normal}, variant="var float",
         options={"reduction": REDUCTIONS, "var": (0.5, 2.0)}, shapes=SAME_SHAPES),
)


def loss_names():
    return list(dict.fromkeys(entry.name for entry in CATALOGUE))


def _label(shape):
    if isinstance(shape, dict):
        return ",".join(f"{k}{list(v)}" for k, v in shape.items())
    return str(list(shape))


def _draw(entry: Loss, shape, names, seed):
    rng = np.random.default_rng(seed)
    per_array = shape if isinstance(shape, dict) else {}
    default = per_array.get("input", shape)
    draws = {**entry.arrays, **entry.optional}
    return rng, {n: draws[n](rng, per_array.get(n, default)) for n in names}


def _make(entry, shape, options, with_optional, edge, dtype):
    opts = ",".join(f"{k}={v}" for k, v in options.items())
    name = f"{entry.name}/{entry.variant}" if entry.variant else entry.name
    base = f"{name}[{_label(shape)}|{opts}|{'+'.join(with_optional) or '-'}|{edge.name if edge else 'random'}]"
    seed = zlib.crc32(base.encode())
    names = list(entry.arrays) + list(with_optional)
    rng, arrays = _draw(entry, shape, names, seed)
    if edge is not None:
        arrays = edge.apply(arrays, options, rng)
    skip = entry.no_grad + (edge.no_grad if edge else ())
    grads = tuple(n for n, a in arrays.items() if n not in skip and np.issubdtype(a.dtype, np.floating))
    return Case(entry.name, f"{base}{dtype}", seed, arrays, dict(options), dtype, grads)


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
            for dtype in dtypes:
                for shape in entry.edge_shapes if dtype in LOW_PRECISION else entry.shapes:
                    for subset in subsets:
                        out.append(_make(entry, shape, options, subset, None, dtype))
                for edge in entry.edges:
                    for shape in entry.edge_shapes:
                        out.append(_make(entry, shape, options, edge.needs, edge, dtype))
    return out
