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


def dyadic(rng, shape):
    """Normal-ish values on a 1/16 grid, exact in every float dtype, so ties are exact."""
    return np.round(rng.standard_normal(shape) * 16) / 16


# --- edge cases: (arrays, options, rng) -> arrays ----------------------------

@dataclass(frozen=True)
class Edge:
    name: str
    apply: Callable
    needs: tuple = ()  # optional arrays the edge case needs present


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


@dataclass(frozen=True)
class Loss:
    name: str
    arrays: dict  # name -> draw, in call order
    options: dict = field(default_factory=lambda: {"reduction": REDUCTIONS})
    optional: dict = field(default_factory=dict)  # name -> draw; cases run without and with each
    shapes: tuple = ELEMENTWISE_SHAPES
    edges: tuple = ()
    no_grad: tuple = ()  # arrays torch does not differentiate


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
)


def loss_names():
    return [entry.name for entry in CATALOGUE]


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
    base = f"{entry.name}[{_label(shape)}|{opts}|{'+'.join(with_optional) or '-'}|{edge.name if edge else 'random'}]"
    seed = zlib.crc32(base.encode())
    names = list(entry.arrays) + list(with_optional)
    rng, arrays = _draw(entry, shape, names, seed)
    if edge is not None:
        arrays = edge.apply(arrays, options, rng)
    grads = tuple(n for n, a in arrays.items()
                  if n not in entry.no_grad and np.issubdtype(a.dtype, np.floating))
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
                for shape in EDGE_SHAPES if dtype in LOW_PRECISION else entry.shapes:
                    for subset in subsets:
                        out.append(_make(entry, shape, options, subset, None, dtype))
                for edge in entry.edges:
                    for shape in EDGE_SHAPES:
                        out.append(_make(entry, shape, options, edge.needs, edge, dtype))
    return out
