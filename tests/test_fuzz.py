"""A differential fuzz against torch.nn.functional: whatever a user can pass, ours does what torch does.

For every catalogue entry (conformance/catalogue.py) hypothesis draws a call:
shapes (the entry's, then now and then an array given an axis more or fewer, an
axis cut to 1, to 0 or by one, everything 0-d or an empty batch), dtypes
(float16/32/64 and bfloat16, one array of another float dtype, an integer or
bool array where a float belongs, narrow integer or float class indices), every
option with boundary values, optional arrays present or absent, and values at
kinks, ties, zeros, huge and tiny magnitudes, inf and NaN.  torch's function
and ours (on NumPy, array-api-strict, torch and JAX) run side by side:

- where torch returns, ours returns the same dtype and shape, and a value and
  gradients as close to the exact answer (torch's float64) as the tolerances,
  or as torch's own (tolerances.py), element by element; NaN only where the
  exact answer or torch's own has NaN (a call with floating arrays of several
  dtypes is judged at the narrowest one's tolerance);
- where torch raises, ours raises a ValueError or TypeError that names the
  loss and one of the arguments;
- no input is mutated, and nothing warns where torch does not.

The places where we differ from torch on purpose are the entries of
``conformance.deviations.DEVIATIONS``; the fuzz accepts exactly those.

``AGNOSTIC_LOSSES_FUZZ_EXAMPLES=N`` runs N examples per entry with fresh random
draws (CI runs a few, derandomised, so that a run is reproducible).
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance import catalogue, deviations, runner
from conformance.tolerances import TOLERANCES

from helpers import installed, need

_ENV = os.environ.get("AGNOSTIC_LOSSES_FUZZ_EXAMPLES")
EXAMPLES = int(_ENV) if _ENV else 12
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=_ENV is None, database=None,
                suppress_health_check=list(HealthCheck))

FLOATS = ("float64", "float32", "float16", "bfloat16")
LIBRARIES = ("numpy", "array_api_strict", "torch", "jax")
HAS = {"numpy": {"float64", "float32", "float16", "int64", "int32", "int16", "uint8", "bool"},
       "array_api_strict": {"float64", "float32", "int64", "int32", "int16", "uint8", "bool"},
       "torch": set(FLOATS) | {"int64", "int32", "int16", "uint8", "bool"},
       "jax": set(FLOATS) | {"int64", "int32", "int16", "uint8", "bool"}}

# no subnormal numbers: XLA on the CPU flushes them to zero (a tie at a kink where torch has none)
SPECIALS = (0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-30, 1e30, -1e30, 1e4, -1e4, 7e4, math.inf, -math.inf, math.nan)
# option -> values past the catalogue's: boundaries, and values torch refuses
BOUNDARIES = {
    "reduction": ("batchmean", "avg"),
    "delta": (0.0, -1.0, 1e-8, math.inf),
    "beta": (0.0, -1.0, 1e-8, math.inf),
    "margin": (-1.0, 0.0, 2.0),
    "ignore_index": (-1, 0, catalogue.C, -100),
    "label_smoothing": (0.0, 1.0, 1.5, -0.1),
    "p": (0, 3, 1.5, 0.5, -1, math.inf),
    "eps": (0.0, -1.0, 1e-12),
    "var": (0.0, -1.0, 1e-30),
    "blank": (-1, catalogue.C - 1, catalogue.C),
    "chunk_size": (1, 0, -1, 100),
    "log_target": (False, True), "log_input": (False, True), "full": (False, True), "swap": (False, True),
    "keepdim": (False, True), "zero_infinity": (False, True),
}
OWN_OPTIONS = {"chunk_size": lambda v: v is None or v >= 1}  # options torch lacks: the values we take
LEGACY = ("size_average", "reduce")  # torch's deprecated pair, drawn now and then where a loss has them
LEGACY_LOSSES = {"l1_loss", "mse_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
                 "binary_cross_entropy_with_logits", "multilabel_soft_margin_loss", "soft_margin_loss", "kl_div",
                 "poisson_nll_loss", "margin_ranking_loss", "hinge_embedding_loss", "multi_margin_loss",
                 "multilabel_margin_loss", "cosine_embedding_loss", "triplet_margin_loss", "smooth_l1_loss"}
MUTATIONS = ("none",) * 6 + ("extra_axis", "one_axis_fewer", "axis_to_1", "axis_to_0", "axis_shorter", "all_0d",
                             "empty_batch")


def _entry_id(entry):
    return f"{entry.name}/{entry.variant}" if entry.variant else entry.name


# --- drawing a call -------------------------------------------------------------------------------------

def _shape_of(entry, shape, name, first):
    if isinstance(shape, dict):
        return shape.get(name, shape.get(first, ()))
    return shape


def _mutate(arrays, kind, rng):
    """The arrays with one shape change a user could make."""
    names = list(arrays)
    if kind == "none" or not names:
        return arrays
    out = dict(arrays)
    if kind == "all_0d":
        return {k: a.reshape(-1)[:1].reshape(()) if a.size else np.zeros((), a.dtype) for k, a in arrays.items()}
    if kind == "empty_batch":
        return {k: a[:0] if a.ndim else a for k, a in arrays.items()}
    name = names[rng.integers(len(names))]
    a = arrays[name]
    if kind == "extra_axis":
        out[name] = a[None]
    elif a.ndim == 0:
        return arrays
    else:
        axis = int(rng.integers(a.ndim))
        if kind == "one_axis_fewer":
            out[name] = np.take(a, 0, axis=axis) if a.shape[axis] else np.zeros(a.shape[:axis] + a.shape[axis + 1:],
                                                                                a.dtype)
        elif kind == "axis_to_1":
            out[name] = np.take(a, [0], axis=axis) if a.shape[axis] else a
        elif kind == "axis_to_0":
            out[name] = np.take(a, [], axis=axis)
        elif kind == "axis_shorter" and a.shape[axis] > 1:
            out[name] = np.take(a, range(a.shape[axis] - 1), axis=axis)
    return out


def _inject(a, data, name, index_like):
    """``a`` with special values at a few drawn positions."""
    if a.size == 0:
        return a
    a = a.copy()
    k = data.draw(st.integers(0, min(3, a.size)), label=f"{name} specials")
    for _ in range(k):
        i = data.draw(st.integers(0, a.size - 1))
        if index_like:
            a.reshape(-1)[i] = data.draw(st.sampled_from((-1, -100, catalogue.C, 0, 1)))
        elif np.issubdtype(a.dtype, np.floating):
            a.reshape(-1)[i] = data.draw(st.sampled_from(SPECIALS))
    return a


@st.composite
def calls(draw, entry):
    """One call of ``entry``'s loss: (arrays as float64/int64/bool NumPy, {name: dtype name}, options)."""
    data = draw(st.data())
    options = {}
    for key, values in entry.options.items():
        extra = tuple(v for v in BOUNDARIES.get(key, ()) if v not in values)
        options[key] = data.draw(st.sampled_from(tuple(values) + extra), label=key)
    if entry.name in LEGACY_LOSSES and data.draw(st.integers(0, 9), label="legacy") == 0:
        options.update({k: data.draw(st.sampled_from((None, True, False)), label=k) for k in LEGACY})
    optional = tuple(n for n in entry.optional if data.draw(st.booleans(), label=f"with {n}"))
    shapes = tuple(dict.fromkeys(map(repr, entry.shapes + entry.edge_shapes)))
    shape = eval(data.draw(st.sampled_from(shapes), label="shape"))  # noqa: S307  (reprs of tuples and dicts)
    seed = data.draw(st.integers(0, 2 ** 32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    first = next(iter(entry.arrays))
    draws = {**entry.arrays, **entry.optional}
    arrays = {n: draws[n](rng, _shape_of(entry, shape, n, first)) for n in list(entry.arrays) + list(optional)}
    safe_options = {k: v for k, v in options.items() if k not in BOUNDARIES or v in entry.options.get(k, ())}
    safe_options = {**{k: v[0] for k, v in entry.options.items()}, **safe_options}
    if entry.prepare is not None:
        arrays = entry.prepare(arrays, safe_options, rng)
    edges = [e for e in entry.edges if set(e.needs) <= set(arrays)]
    if edges and data.draw(st.integers(0, 3), label="edge?") == 0:
        edge = data.draw(st.sampled_from(edges), label="edge")
        with contextlib.suppress(Exception):  # an edge case that does not fit these options or shapes
            arrays = edge.apply(arrays, safe_options, rng)
    arrays = {n: np.array(a) for n, a in arrays.items()}  # a draw of shape () may be a NumPy scalar
    arrays = _mutate(arrays, data.draw(st.sampled_from(MUTATIONS), label="mutation"), rng)
    if data.draw(st.integers(0, 4), label="ties?") == 0:
        floats = [n for n, a in arrays.items() if np.issubdtype(a.dtype, np.floating)]
        if len(floats) >= 2 and arrays[floats[0]].shape == arrays[floats[1]].shape and arrays[floats[0]].size:
            b = arrays[floats[1]].copy()
            mask = rng.random(b.shape) < 0.5
            b[mask] = arrays[floats[0]][mask]
            arrays[floats[1]] = b
    arrays = {n: _inject(a, data, n, not np.issubdtype(a.dtype, np.floating) and n not in ("input_lengths",
                                                                                         "target_lengths"))
              for n, a in arrays.items()}
    common = data.draw(st.sampled_from(FLOATS), label="dtype")
    dtypes = {n: common if np.issubdtype(a.dtype, np.floating) else "int64" for n, a in arrays.items()}
    odd = data.draw(st.integers(0, 5), label="odd dtype?")
    if odd == 0 and arrays:
        name = data.draw(st.sampled_from(list(arrays)), label="odd array")
        kinds = FLOATS + ("int64", "bool") if dtypes[name] in FLOATS else ("int32", "int16", "uint8", "bool",
                                                                            "float32", "float64")
        dtypes[name] = data.draw(st.sampled_from(kinds), label="odd dtype")
    return arrays, dtypes, options


# --- running a call ------------------------------------------------------------------------------------

def _source(arrays, dtypes):
    """The arrays' values as every library will hold them: rounded to their dtypes by torch, as float64."""
    import torch

    out = {}
    for n, a in arrays.items():
        t = torch.from_numpy(np.array(a)).to(getattr(torch, dtypes[n]))
        out[n] = (t.double() if dtypes[n] in FLOATS else t).numpy()
    return out


def _to(library, a, dtype):
    if library == "torch":
        import torch

        return torch.from_numpy(np.array(a)).to(getattr(torch, dtype))
    if library == "jax":
        import jax.numpy as jnp

        return jnp.asarray(a).astype(dtype)
    if library == "array_api_strict":
        import array_api_strict as xp

        return xp.asarray(np.array(a), dtype=getattr(xp, dtype))
    return np.array(a).astype(dtype)


def _numpy(x):
    if hasattr(x, "detach"):
        x = x.detach()
        return (x.double() if x.is_floating_point() else x).numpy()
    if type(x).__module__.startswith("array_api_strict"):
        return np.asarray(x._array)
    return np.asarray(x).astype(np.float64) if "float" in str(getattr(x, "dtype", "")) else np.asarray(x)


class Outcome:
    """What one call did: its value, gradients and output dtype, or its error; and its warnings."""

    def __init__(self, value=None, grads=None, dtype=None, error=None, warned=()):
        self.value, self.grads, self.dtype, self.error, self.warned = value, grads or {}, dtype, error, warned


def _recorded(fn):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            out = fn()
        except Exception as exc:  # noqa: BLE001  (any error is an outcome to compare)
            return None, exc, [w for w in seen]
    return out, None, [w for w in seen]


def _torch_call(fn, source, dtypes, options, grads, cotangent_seed, cotangent=None):
    """torch's function on ``source`` in ``dtypes`` (float64 everywhere for the exact answer)."""
    import torch

    tensors = {n: torch.from_numpy(np.array(a)).to(getattr(torch, dtypes[n])) for n, a in source.items()}
    wanted = [n for n in grads if tensors[n].is_floating_point()]
    for n in wanted:
        tensors[n].requires_grad_(True)
    out, error, warned = _recorded(lambda: fn(**tensors, **options))
    if error is not None:
        return Outcome(error=error, warned=warned), None
    got = {}
    cot = None
    if out.is_floating_point() and wanted and out.requires_grad:
        cot = torch.from_numpy(np.random.default_rng(cotangent_seed).standard_normal(tuple(out.shape))).to(out.dtype)
        if cotangent is not None and cotangent.shape == out.shape:  # the same-dtype call's, widened
            cot = cotangent.to(out.dtype)
        back, back_error, _ = _recorded(lambda: torch.autograd.grad(out, [tensors[n] for n in wanted], cot,
                                                                    allow_unused=True))
        if back_error is None:
            got = {n: (_numpy(g) if g is not None else np.zeros(source[n].shape)) for n, g in zip(wanted, back)}
    return Outcome(_numpy(out), got, str(out.dtype).split(".")[-1], None, warned), cot


def _ours_call(library, fn, source, dtypes, options, grads, cot):
    """Ours on ``library``'s arrays; its value, its gradients (torch, JAX) and whether an input changed."""
    arrays = {n: _to(library, a, dtypes[n]) for n, a in source.items()}
    before = {n: _numpy(a).copy() for n, a in arrays.items()}
    if library == "torch":
        for n in grads:
            arrays[n].requires_grad_(True)
    out, error, warned = _recorded(lambda: fn(**arrays, **options))  # eager: the value checks read the data
    got = {}
    if error is None and cot is not None and grads:
        if library == "torch" and out.requires_grad:
            import torch

            back, error, more = _recorded(lambda: torch.autograd.grad(out, [arrays[n] for n in grads],
                                                                      cot.to(out.dtype), allow_unused=True))
            got = {} if error else {n: _numpy(g) if g is not None else np.zeros(source[n].shape)
                                    for n, g in zip(grads, back)}
            warned = warned + more
        elif library == "jax":
            import jax

            fixed = {n: a for n, a in arrays.items() if n not in grads}

            def vjp():
                value, pull = jax.vjp(lambda *d: fn(**dict(zip(grads, d)), **fixed, **options),
                                      *[arrays[n] for n in grads])
                return pull(jax.numpy.asarray(cot.double().numpy()).astype(value.dtype))

            back, error, more = _recorded(vjp)
            got = {} if error else dict(zip(grads, back))
            warned = warned + more
    changed = [n for n, a in arrays.items() if not np.array_equal(_numpy(a), before[n], equal_nan=True)]
    if error is not None:
        return Outcome(error=error, warned=warned), changed
    dtype = str(out.dtype).split(".")[-1]
    return Outcome(_numpy(out), {n: np.asarray(g, dtype=np.float64) for n, g in got.items()}, dtype, None,
                   warned), changed


def _rounded(a, dtype):
    return runner.round_to(np.asarray(a, dtype=np.float64), dtype) if dtype in FLOATS else a


def _err(ours, exact, same, dtype, mask, narrowest=None, normwise=False, scale=None):
    """The worst error of ``ours`` against ``exact`` off ``mask``, element by element, as a multiple of what
    that element allows (over 1: a failure; inf: NaN or an infinity where neither the exact answer nor torch's
    own result in these dtypes, ``same``, has it).  A finite element may be off by the dtype's tolerance (at
    least ``narrowest``'s, where torch computes in that dtype), or by twice torch's own error.  ``normwise``:
    as the conformance suite (tolerances.py); ``scale``: the magnitude the rounding of a difference is
    relative to, where ``exact`` is a difference of larger terms (a number, or one per element)."""
    ours, exact = np.array(ours, dtype=np.float64), np.array(exact, dtype=np.float64)
    if ours.shape != exact.shape:
        return math.inf
    if dtype not in TOLERANCES:  # an integer result: exactly
        return float(not np.array_equal(ours, exact))
    same = np.broadcast_to(np.nan, exact.shape) if same is None or np.shape(same) != exact.shape \
        else np.asarray(same, np.float64)
    keep = np.ones(exact.shape, bool) if mask is None else ~mask
    scale = np.broadcast_to(np.asarray(0.0 if scale is None else scale, np.float64), exact.shape)[keep]
    ours, exact, same = ours[keep], exact[keep], same[keep]
    rtol, atol = TOLERANCES[dtype]
    rtol = max(rtol, TOLERANCES[narrowest][0]) if narrowest in TOLERANCES else rtol
    as_torch = (ours == same) | (np.isnan(ours) & np.isnan(same))
    if not ((np.isnan(ours) == np.isnan(exact)) | as_torch).all():
        return math.inf
    finite = np.isfinite(exact) & np.isfinite(ours)
    if not ((ours == exact) | finite | as_torch | np.isnan(exact)).all():  # an infinity neither has
        return math.inf
    size = np.abs(exact[finite])
    size = np.maximum(size.max(initial=0.0) if normwise else size, np.maximum(atol / rtol, scale[finite]))
    err = np.abs(ours[finite] - exact[finite]) / size
    torch_err = np.where(np.isfinite(same[finite]), np.abs(same[finite] - exact[finite]) / size, math.inf)
    # where torch itself is off by about the tolerance the input is ill-conditioned in this dtype (a cancellation,
    # an overflow), and two roundings of one formula land a factor apart: twice torch's error is allowed there
    return float(np.max(err / np.maximum(rtol, 2 * torch_err), initial=0.0))


# losses whose inputs' gradients are sums of two distances' gradients, unit vectors of opposite signs: where they
# cancel an element rounds relative to them, so those gradients are judged normwise (found in bfloat16)
DIFFERENCES_OF_UNIT_VECTORS = ("triplet_margin_loss", "triplet_margin_with_distance_loss")


def _torch_reduction(options):
    """The reduction torch applies: ``reduction``, or its legacy ``size_average``/``reduce`` pair mapped."""
    size_average, reduce = (options.get(k) for k in LEGACY)
    if size_average is None and reduce is None:
        return options.get("reduction", "mean")
    return "none" if reduce is False else "mean" if size_average in (None, True) else "sum"


def _cosine_gradient_scale(source, options, name, cot):
    """cosine_embedding_loss's gradient in input1 is ``x2 / (|x1| |x2|) - cos x1 / |x1|^2`` times the row's
    upstream gradient (in input2 the same, swapped): two terms of size ``1 / |x1|`` that cancel where the
    vectors are parallel, so each element is judged relative to them."""
    x = source[name]
    norm = np.sqrt(np.sum(x * x, axis=-1) + 1e-12)
    upstream = np.abs(_numpy(cot).astype(np.float64)) if cot is not None else np.float64(1.0)
    if _torch_reduction(options) == "mean":
        upstream = upstream / max(math.prod(x.shape[:-1]), 1)
    with np.errstate(all="ignore"):
        return np.broadcast_to((upstream / norm)[..., None], x.shape)


def _bce_logits_target_scale(source, exact_gradient):
    """binary_cross_entropy_with_logits' gradient in target is ``w (-x - (p - 1) log_sigmoid(x))`` times the
    upstream gradient: two terms that cancel where ``(1 - p) log_sigmoid(x)`` is near ``x``, so each element is
    judged relative to them, ``|gradient| (|x| + |(p - 1) log_sigmoid(x)|) / |x + (p - 1) log_sigmoid(x)|``."""
    x = source["input"]
    p = source.get("pos_weight", np.float64(1.0))
    with np.errstate(all="ignore"):
        log_sigmoid = -np.logaddexp(0.0, -x)
        terms = np.abs(x) + np.abs((p - 1) * log_sigmoid)
        ratio = terms / np.abs(x + (p - 1) * log_sigmoid)
        scale = np.abs(exact_gradient) * np.broadcast_to(ratio, np.shape(exact_gradient))
    return np.where(np.isfinite(scale), scale, 0.0)


def _weighted_mean_scale(loss, source, options):
    """For l1_loss and mse_loss's weighted 'mean', ``sum(w l) / sum(w)``: the gradient with respect to a weight,
    ``(l_j - mean) / sum(w)``, rounds relative to ``max(l) / |sum(w)|``, not to the difference."""
    if loss not in ("l1_loss", "mse_loss") or _torch_reduction(options) != "mean":
        return None
    with np.errstate(all="ignore"):
        d = np.abs(source["input"] - source["target"])
        losses = d if loss == "l1_loss" else d * d
        total = abs(float(np.sum(np.broadcast_to(source["weight"], losses.shape))))
        scale = float(np.max(losses[np.isfinite(losses)], initial=0.0)) / total if total else 0.0
    return scale if math.isfinite(scale) else None


def _reduced_scale(exact_fn, source, wide, options):
    """For a reduced value (a sum of terms, or their mean), the magnitude its rounding is relative to: each term
    rounds relative to itself, so a sum is off by up to the tolerance times ``sum(|term|)`` and a mean by that
    over its count, however much the terms cancel (torch's own error there is luck).  None for 'none', or where
    torch has no unreduced answer; the terms are torch's, unreduced, in float64 (a class-weighted mean divides by
    its weights' sum, not the count: off by their scale, drawn between 0.25 and 2)."""
    reduction = _torch_reduction(options)
    if reduction == "none":
        return None
    unreduced = {k: v for k, v in options.items() if k not in LEGACY} | {"reduction": "none"}
    terms, _ = _torch_call(exact_fn, source, wide, unreduced, (), 0)
    if terms.error is not None or terms.value is None:
        return None
    size = np.abs(np.asarray(terms.value, np.float64))
    size = size[np.isfinite(size)]
    scale = float(np.sum(size) / (1 if reduction == "sum" else max(size.size, 1)))
    return scale if math.isfinite(scale) else None


def _triplet_value_scale(loss, source, options):
    """For the triplet losses, the magnitude each value rounds relative to: ``d(a, p) - d(a, n) + margin`` is a
    difference of two distances (three with ``swap``), each rounding relative to itself, so a loss of 181 from
    distances of 7e4 is off by their rounding in float32 (torch's own error there is luck); reduced as the loss
    (their sum, or its mean).  The distances are torch's ``pairwise_distance``, in float64; None for a custom
    distance function."""
    import torch

    if loss not in DIFFERENCES_OF_UNIT_VECTORS or options.get("distance_function") is not None:
        return None
    a, pos, neg = (torch.from_numpy(np.array(source[n], dtype=np.float64)) for n in ("anchor", "positive", "negative"))
    norm = {"p": options.get("p", 2.0), "eps": options.get("eps", 1e-6)}
    try:
        terms = (torch.nn.functional.pairwise_distance(a, pos, **norm).abs()
                 + torch.nn.functional.pairwise_distance(a, neg, **norm).abs())
        if options.get("swap"):
            terms = terms + torch.nn.functional.pairwise_distance(pos, neg, **norm).abs()
    except RuntimeError:  # shapes torch refuses: nothing to scale
        return None
    terms = terms.nan_to_num(posinf=0.0, nan=0.0).numpy()
    reduction = _torch_reduction(options)
    return terms if reduction == "none" else float(terms.sum() / (1 if reduction == "sum" else max(terms.size, 1)))


def _broadcast_gradient_scale(exact_fn, source, wide, options, name, cot):
    """For an array that broadcasts against the others, the magnitude each element of its gradient rounds
    relative to: the element is a sum of one term per position it is broadcast to, and each term rounds
    relative to itself (torch's own error is luck where they cancel).  The terms are torch's, in float64, as the
    gradient of the array expanded to the broadcast shape; None where the arrays do not broadcast so."""
    import torch

    try:
        shape = np.broadcast_shapes(*(source[n].shape for n in source if wide[n] == "float64"))
    except ValueError:
        return None
    if source[name].shape == shape:
        return None
    tensors = {n: torch.from_numpy(np.array(a)).to(getattr(torch, wide[n])) for n, a in source.items()}
    tensors[name] = tensors[name].expand(shape).clone().requires_grad_(True)
    out, error, _ = _recorded(lambda: exact_fn(**tensors, **options))
    if error is not None or not out.requires_grad or cot is None or tuple(cot.shape) != tuple(out.shape):
        return None
    back, error, _ = _recorded(lambda: torch.autograd.grad(out, tensors[name], cot.to(out.dtype)))
    if error is not None:
        return None
    terms = back[0].abs().nan_to_num(posinf=0.0, nan=0.0)
    return _numpy(terms.sum_to_size(source[name].shape))


def _refused_by_ours(entry, fn, source, dtypes, options):
    """For ctc_loss, whose kernel does not check all it reads (its labels, its lengths: a bad one may corrupt
    memory), whether ours refuses the call's data on NumPy: then torch is not called, and ours must refuse."""
    if entry.name != "ctc_loss" or any(d == "bfloat16" for d in dtypes.values()):
        return False
    try:
        fn(**{n: _to("numpy", a, dtypes[n]) for n, a in source.items()}, **options)
    except ValueError:
        return True
    except Exception:  # noqa: BLE001  (a TypeError and the like: judged with torch's answer)
        return False
    return False


def _names_argument(message, loss, names):
    return message.startswith(f"{loss}:") and any(n in message for n in names)


def check_call(entry, arrays, dtypes, options, libraries=LIBRARIES):
    """Run one drawn call on torch and on ours; the list of problems (empty: ours does what torch does)."""
    loss = entry.name
    # log_softmax needs an axis and a floating array: without them the loss itself is to refuse the array
    through = entry.through if all(arrays[n].ndim and dtypes[n] in FLOATS for n in entry.through) else ()
    torch_fn = runner.loss_function("torch", loss, through)
    ours_fn = runner.loss_function("ours", loss, through)
    torch_options = {k: v for k, v in options.items() if k not in entry.ours_only}
    source = _source(arrays, dtypes)
    real = tuple(n for n in arrays if np.issubdtype(arrays[n].dtype, np.floating))
    # the exact answer takes an integer target as type promotion does, rounded to the input's dtype
    promoted = deviations.targets_in_input_dtype(deviations.Call(loss, source, dtypes, options, real=real))
    grads = tuple(n for n in source if dtypes[n] in FLOATS and n not in entry.no_grad)
    seed = zlib.crc32(repr(sorted(dtypes.items())).encode())
    # float64 wherever a real number belongs (an integer target too): the exact answer
    wide = {n: "float64" if np.issubdtype(arrays[n].dtype, np.floating) else "int64" for n in dtypes}
    half = [dtypes[n] for n in through if dtypes[n] in ("float16", "bfloat16")]
    exact_fn = runner.loss_function("torch", loss, through, half[0]) if half else torch_fn  # as tolerances.py
    if deviations.unsafe(deviations.Call(loss, source, dtypes, options)) or _refused_by_ours(entry, ours_fn, source,
                                                                                            dtypes, options):
        refused = Outcome(error=RuntimeError("undefined behaviour in torch"))
        (same, cot), (exact, wide_cot) = (refused, None), (refused, None)
    else:
        same, cot = _torch_call(torch_fn, source, dtypes, torch_options, grads, seed)
        exact, wide_cot = _torch_call(exact_fn, promoted, wide, torch_options, grads, seed, cot)
    cot = wide_cot if cot is None else cot
    call = deviations.Call(loss, source, dtypes, options, same.error, exact.error, real)
    excused = deviations.excused(call)
    expect_error = same.error is not None and not excused.accepts
    own = [k for k in entry.ours_only if k in options and not OWN_OPTIONS[k](options[k])]
    if own:  # an option of ours alone with a value we refuse: torch cannot say
        same, expect_error = Outcome(error=ValueError(f"{own[0]} {options[own[0]]!r}")), True
    if same.error is not None and excused.accepts and excused.reference is not None:  # torch answers another call
        exact, wide_cot = _torch_call(exact_fn, excused.reference(call), wide, torch_options, grads, seed)
        cot = wide_cot
    if same.error is not None and excused.accepts:
        same = exact if exact.error is None else same  # torch has no answer in these dtypes: the exact one judges
        same_dtype = excused.accepts_dtype or same.dtype
    else:
        same_dtype = same.dtype
    floats = {d for d in dtypes.values() if d in FLOATS}
    # floating arrays of several dtypes: torch computes parts in the narrower one (exp(input) in poisson_nll_loss,
    # a norm per vector; ours computes in their promotion): judged at the narrower one's tolerance
    narrowest = max(floats, key=lambda d: TOLERANCES[d][0]) if len(floats) > 1 else None
    problems = []
    arg_names = list(source) + list(options)
    for library in libraries:
        if not set(dtypes.values()) <= HAS[library]:
            continue
        if library in ("numpy", "array_api_strict") and "bfloat16" in dtypes.values():
            continue
        ours, changed = _ours_call(library, ours_fn, source, dtypes, options,
                                   grads if library in ("torch", "jax") else (), cot)
        where = f"{library}: "
        if changed:
            problems.append(f"{where}changed the inputs {changed}")
        ours_warned = [str(w.message)[:120] for w in ours.warned if not _library_warning(w, library)]
        torch_warned = same.warned if same.error is None else exact.warned
        if ours_warned and not torch_warned and not excused.warns:
            problems.append(f"{where}warned {ours_warned} where torch does not")
        if expect_error:
            if ours.error is None:
                problems.append(f"{where}returned where torch raises {type(same.error).__name__}: "
                                f"{str(same.error).splitlines()[0][:150]}")
            elif not isinstance(ours.error, (ValueError, TypeError)) or not _names_argument(
                    str(ours.error), loss, arg_names):
                problems.append(f"{where}raised {type(ours.error).__name__}: {str(ours.error)[:200]} "
                                f"(torch: {type(same.error).__name__}: {str(same.error).splitlines()[0][:120]})")
            continue
        if ours.error is not None:
            if not excused.refuses:
                problems.append(f"{where}raised {type(ours.error).__name__}: {str(ours.error)[:200]}; torch returns")
            elif not isinstance(ours.error, (ValueError, TypeError)) or not _names_argument(str(ours.error), loss,
                                                                                          arg_names):
                problems.append(f"{where}raised {type(ours.error).__name__}: {str(ours.error)[:200]}")
            continue
        if excused.refuses:
            problems.append(f"{where}returned where ours refuses on purpose ({', '.join(excused.ids)})")
            continue
        if ours.dtype not in (same_dtype, excused.dtype):
            problems.append(f"{where}dtype {ours.dtype}, torch gives {same_dtype}")
            continue
        if np.shape(ours.value) != np.shape(exact.value):
            problems.append(f"{where}shape {np.shape(ours.value)}, torch gives {np.shape(exact.value)}")
            continue
        ref = _rounded(exact.value, ours.dtype)
        err = _err(ours.value, ref, same.value if same.error is None else None, ours.dtype,
                   excused.mask("value", ref), narrowest, entry.normwise)
        if err > 1 and exact.error is None:  # perhaps a sum whose terms cancel: judged relative to their size
            scale = _triplet_value_scale(loss, promoted, options)
            err = _err(ours.value, ref, same.value if same.error is None else None, ours.dtype,
                       excused.mask("value", ref), narrowest, entry.normwise,
                       _reduced_scale(exact_fn, promoted, wide, torch_options) if scale is None else scale)
        if err > 1:
            problems.append(f"{where}value error {err:.3g} x the allowed: ours {ours.value!r}, exact {ref!r}")
        for n, g in ours.grads.items():
            if n not in exact.grads:
                continue
            g_ref = _rounded(exact.grads[n], dtypes[n])
            normwise = entry.normwise or n in through or loss in DIFFERENCES_OF_UNIT_VECTORS
            err = _err(g, g_ref, same.grads.get(n) if same.error is None else None, dtypes[n],
                       excused.mask(n, g_ref), narrowest, normwise,
                       _weighted_mean_scale(loss, source, options) if n == "weight" else None)
            if err > 1 and exact.error is None:  # perhaps a sum whose terms cancel: judged relative to them
                scale = (_cosine_gradient_scale(source, options, n, cot) if loss == "cosine_embedding_loss"
                         and n in ("input1", "input2") else
                         _bce_logits_target_scale(source, exact.grads[n]) if loss ==
                         "binary_cross_entropy_with_logits" and n == "target" else
                         _broadcast_gradient_scale(exact_fn, promoted, wide, torch_options, n, cot))
                err = _err(g, g_ref, same.grads.get(n) if same.error is None else None, dtypes[n],
                           excused.mask(n, g_ref), narrowest, normwise, scale)
            if err > 1:
                problems.append(f"{where}d/d{n} error {err:.3g} x the allowed: ours {g!r}, exact {g_ref!r}")
    return problems


def _library_warning(w, library):
    """JAX's own notices (a float64 request without x64, donated buffers) are not the loss's."""
    return library == "jax" and "jax" in (w.filename or "") and "agnostic_losses" not in (w.filename or "")


# --- the tests --------------------------------------------------------------------------------------------

ENTRIES = catalogue.TORCH_CATALOGUE  # the oracles' entries: tests/test_metrics*.py, tests/test_crps.py


@pytest.mark.parametrize("entry", ENTRIES, ids=_entry_id)
@FUZZ
@given(data=st.data())
def test_does_what_torch_does(entry, data):
    need("torch")
    libraries = tuple(lib for lib in LIBRARIES if lib in ("numpy", "torch") or installed(lib))
    arrays, dtypes, options = data.draw(calls(entry), label="call")
    problems = check_call(entry, arrays, dtypes, options, libraries)
    assert not problems, (f"{entry.name}({', '.join(f'{n}: {dtypes[n]}{list(a.shape)}' for n, a in arrays.items())},"
                          f" {options})\n" + "\n".join(problems) + f"\narrays: {arrays!r}")


# calls that long runs found failing, replayed on every run: (entry, its arrays, their dtypes, options)
FOUND = [
    ("kl_div", {"input": np.array(0.0), "target": np.array(1e30)}, {"input": "float16", "target": "int64"},
     {"reduction": "none", "log_target": True}),  # an int64 target beyond float16: inf there, as torch's input - t
    ("linear_cross_entropy/indices",  # label smoothing, 'mean', the one target's class weighs 0: NaN
     {"input": np.array([2.04, -2.56, 0.42, -0.57]), "linear_weight": np.linspace(-2, 3.3, 20).reshape(5, 4),
      "target": np.array(0), "linear_bias": np.array([0.54, 1.94, -0.27, -0.24, 1.0]),
      "weight": np.array([0.0, 0.41, 1.41, 1.88, 0.61])},
     {"input": "float64", "linear_weight": "float64", "target": "int64", "linear_bias": "float64", "weight": "float64"},
     {"reduction": "mean", "ignore_index": None, "label_smoothing": 0.25, "chunk_size": 3}),
    ("triplet_margin_with_distance_loss",  # d/dpositive of two distances' gradients that cancel, in bfloat16
     {"anchor": np.array([[0.0, -1.258, 2.0], [-0.007, 0.005, 0.293], [0.959, 0.252, -1.125], [-0.594, 0.390, -1.599]]),
      "positive": np.array([[0.687, 2.543, 1.007], [-1.792, 0.197, -1.761], [-0.613, 0.578, 2.222],
                            [-0.707, 0.120, 0.377]]),
      "negative": np.array([[0.907, 1.191, 0.863], [-0.562, 0.402, -0.728], [1.311, 1.128, -0.168],
                            [0.055, 1.622, 0.295]])},
     {"anchor": "float64", "positive": "bfloat16", "negative": "bfloat16"},
     {"reduction": "none", "distance_function": None, "swap": True}),
    ("pairwise_distance",  # p < 1 in float32, a row spanning 1e30 (deviation p-norm-gradient-range), an inf beside
     {"x1": np.array([[1e30, -0.132, 0.640], [np.inf, -0.536, 0.362], [1.304, 0.947, -0.704]]),
      "x2": np.array([[0.126, -0.132, 0.640], [0.105, -0.536, 0.362], [1.304, 0.947, -0.704]])},
     {"x1": "float32", "x2": "float32"}, {"p": 0.5, "eps": 1e-06, "keepdim": False}),
    ("cosine_embedding_loss",  # a zero vector: the gradient is 1 / sqrt(eps), with torch's eps (1e-12 as a float32)
     {"input1": np.array([[0.0, 0.0, 0.0], [0.105, -0.536, 0.362]]), "input2": np.array([[1.0, 0.0, 0.0],
                                                                                        [-0.732, -0.544, 0.362]]),
      "target": np.array([-1.0, -1.0])},
     {"input1": "float64", "input2": "float64", "target": "float64"}, {"reduction": "none", "margin": 0.0}),
    ("linear_cross_entropy/probabilities",  # logits of 1.92e32 that torch's matmul ties and XLA's rounds apart
     {"input": np.array([[0.0, -1.0, -1.0, 1.0], [-1.0, 1e30, 0.0, -1.0]]),
      "linear_weight": np.array([[192.0, 192, 128, 192], [-64, 192, 192, -256], [-192, 64, 256, -192],
                                 [64, -64, 64, -128], [192, 0, 64, -64]]),
      "target": np.array([[0.139, 0.298, 0.045, 0.173, 0.345], [0.168, 0.047, 0.018, 0.638, 0.129]]),
      "weight": np.array([1.51, 0.657, 1.36, 0.985, 0.364])},
     {"input": "float64", "linear_weight": "float64", "target": "float64", "weight": "float64"},
     {"reduction": "none", "label_smoothing": 0.0, "chunk_size": 1}),
    ("ctc_loss/padded",  # labels as floats, negative: torch's kernel reads them out of bounds (not to be called)
     {"log_probs": np.linspace(-3, -0.1, 35).reshape(7, 5), "targets": np.array([-100.0, -1.0, -100.0]),
      "input_lengths": np.array(4), "target_lengths": np.array(3)},
     {"log_probs": "float64", "targets": "float64", "input_lengths": "int64", "target_lengths": "int64"},
     {"reduction": "sum", "blank": 4, "zero_infinity": True}),
    ("ctc_loss/padded",  # labels out of range, an input length given as a float: torch reads both as integers
     {"log_probs": np.linspace(-3, -0.1, 35).reshape(7, 5), "targets": np.array([1, -1, 5]),
      "input_lengths": np.array(7.0), "target_lengths": np.array(3)},
     {"log_probs": "float64", "targets": "int64", "input_lengths": "float64", "target_lengths": "int64"},
     {"reduction": "mean", "blank": 4, "zero_infinity": True}),
    ("cross_entropy/indices",  # one sample, smoothing and a wider weight: torch's dtype error hid the shape one
     {"input": np.array([1.04, 2.46, 0.99, -3.91, 2.72]), "target": np.array([4]),
      "weight": np.array([1.70, 2.46, 1.21, 0.5, 2.72])},
     {"input": "float32", "target": "int64", "weight": "float64"},
     {"reduction": "none", "ignore_index": -100, "label_smoothing": 0.25}),
    ("linear_cross_entropy/probabilities",  # a 0-d input, which torch refuses (a deviation must not fail on it)
     {"input": np.array(1.0), "linear_weight": np.linspace(-2, 2, 20).reshape(5, 4),
      "target": np.array([0.49, 0.22, 0.09, 0.08, 0.12])},
     {"input": "float64", "linear_weight": "float64", "target": "float64"},
     {"reduction": "none", "label_smoothing": 0.0, "chunk_size": 3}),
    ("huber_loss",  # a float64 target a float32 input cannot tell from itself: the difference is float64's
     {"input": np.array(1.2573022e17), "target": np.array(1.25730221e17), "weight": np.array(0.32)},
     {"input": "float32", "target": "float64", "weight": "float64"}, {"reduction": "none", "delta": 0.5}),
    ("multilabel_soft_margin_loss",  # d/dtarget of a broadcast target: sums over rows of +-1e4 that cancel
     {"input": np.array([[1e4, -7.667, 1e4, -1.703, -1e4], [-0.647, -1e4, -0.696, -1e4, 9.969],
                         [1e4, -1.058, -1e4, -2.004, -1e4], [-1.172, 1e4, -0.716, 1e4, -0.599]]),
      "target": np.array([1.0, 0.0, 0.0, 1.0, 1.0])},
     {"input": "float32", "target": "float32"}, {"reduction": "mean"}),
    ("kl_div",  # d/dtarget of a broadcast target: the sum of log(t) + 1 - x over x = 1e30, -1e30, 0, 0
     {"input": np.array([[1e30], [-1e30], [0.0], [0.0]]), "target": np.array([[0.0, -0.5, 0.64576145]])},
     {"input": "float64", "target": "float64"}, {"reduction": "mean", "log_target": False}),
    ("cosine_embedding_loss",  # identical vectors: the gradient of cos is two terms of size 1/|x| that cancel
     {"input1": np.array([[0.12573022, -0.13210486, 0.64042265], [0.10490012, -0.53566937, 0.36159505],
                          [1.30400005, 0.94708096, -0.70373524], [-1.26542147, -0.62327446, 0.04132598]]),
      "input2": np.array([[0.12573022, -0.13210486, 0.64042265], [0.10490012, -0.53566937, 0.36159505],
                          [1.30400005, 0.94708096, -0.70373524], [-1.26542147, -0.62327446, 0.04132598]]),
      "target": np.array([-1.0, -1.0, 0.0, 1.0])},
     {"input1": "float32", "input2": "float32", "target": "float16"},
     {"reduction": "none", "margin": 0.0, "size_average": None, "reduce": None}),
    ("multilabel_soft_margin_loss",  # int64 target 1e30 (its minimum): -inf in float16 as promotion takes it,
     # so NaN (-inf t + (1 - t) inf); torch's 1 - t in int64 wraps around to a negative number, and gives -inf
     {"input": np.array([0.0, -0.396, 1e4, 0.315, -1e4]), "target": np.array([1e30, 1.0, 1e4, 1.0, 1.0]),
      "weight": np.array([1.2, 1.886, 1.678, 0.255, 1.75])},
     {"input": "float16", "target": "int64", "weight": "float16"}, {"reduction": "none"}),
    ("binary_cross_entropy_with_logits",  # d/dtarget, -x - (p - 1) log_sigmoid(x): 0.671 - 0.666, in float32
     {"input": np.array([-0.67057236]), "target": np.array([0.66371541]), "weight": np.array([1e30]),
      "pos_weight": np.array([0.3807852])},
     {"input": "float32", "target": "float32", "weight": "float32", "pos_weight": "float32"}, {"reduction": "none"}),
    ("mse_loss",  # a float64 0-d target: torch's 0-d rule would compute in float32, where (1e30)**2 overflows
     {"input": np.array([1e30]), "target": np.array(-0.13210486)}, {"input": "float32", "target": "float64"},
     {"reduction": "none"}),
    ("triplet_margin_loss",  # 181 as the difference of two p = 0.5 distances of 7e4, in float32: one ulp of them
     {"anchor": np.array([[-0.810623899, 0.809107069, 7e4]]), "positive": np.array([[2.0, 1.48682939, 0.0]]),
      "negative": np.array([[-0.13337153, -0.98107258, -0.41522574]])},
     {"anchor": "float32", "positive": "float32", "negative": "float32"},
     {"reduction": "none", "margin": 1.0, "p": 0.5, "swap": False}),
    ("multilabel_margin_loss",  # an empty boolean target, which torch does not check (deviation)
     {"input": np.zeros((0, 5)), "target": np.zeros((0, 5), np.int64)}, {"input": "float64", "target": "bool"},
     {"reduction": "none"}),
]


@pytest.mark.parametrize("entry_id, arrays, dtypes, options", FOUND, ids=[f[0] for f in FOUND])
def test_calls_found_by_long_runs(entry_id, arrays, dtypes, options):
    need("torch")
    entry = next(e for e in ENTRIES if _entry_id(e) == entry_id)
    libraries = tuple(lib for lib in LIBRARIES if lib in ("numpy", "torch") or installed(lib))
    assert not check_call(entry, arrays, dtypes, options, libraries)


def test_a_sum_whose_terms_cancel_is_judged_relative_to_its_terms():
    """The call a long run found: binary_cross_entropy_with_logits in float32, terms of +-7e8 whose mean is 2062.
    Ours rounds each term as torch does, yet lands 1.2x twice torch's luckier error off the mean: judged against
    the terms it passes; the sum in its place, or the mean without one large term, fails however judged."""
    need("torch")
    import agnostic_losses as al

    big = 1e4
    x = np.array([[-big, -0.524, big, 1.977, -big], [-0.0156, -big, 0.446, -big, 0.725],
                  [big, 4.727, big, 1.532, -big], [6.758, -big, 3.305, -big, -2.642]])
    t = np.array([[7e4, 0.943, 7e4, 0.133, 0.498], [0.494, 0.500, 0.959, 0.350, 0.224],
                  [0.522, 0.641, 0.939, 0.582, 0.268], [0.930, 0.492, 0.676, 0.476, 0.217]])
    source, wide, options = {"input": x, "target": t}, {"input": "float64", "target": "float64"}, {"reduction": "mean"}
    exact_fn = runner.loss_function("torch", "binary_cross_entropy_with_logits", ())
    exact = float(exact_fn(**{k: _to("torch", a, "float64") for k, a in source.items()}, **options))
    same = float(exact_fn(**{k: _to("torch", a, "float32") for k, a in source.items()}, **options))
    ours = float(al.binary_cross_entropy_with_logits(np.float32(x), np.float32(t)))
    scale = _reduced_scale(exact_fn, source, wide, options)
    assert scale > 1e7 and _err(ours, exact, same, "float32", None) > 1
    assert _err(ours, exact, same, "float32", None, scale=scale) <= 1
    summed = float(al.binary_cross_entropy_with_logits(np.float32(x), np.float32(t), reduction="sum"))
    terms = al.binary_cross_entropy_with_logits(np.float32(x), np.float32(t), reduction="none")
    for wrong in (summed, float(np.mean(terms.ravel()[1:]))):  # the wrong reduction; a large term left out
        assert _err(wrong, exact, same, "float32", None, scale=scale) > 1


def test_the_docs_list_exactly_the_deviations():
    page = (Path(__file__).resolve().parents[1] / "docs" / "deviations.md").read_text()
    assert deviations.markdown() in page, "docs/deviations.md differs from conformance/deviations.py: " \
                                          "paste deviations.markdown()"
    assert len({d.id for d in deviations.DEVIATIONS}) == len(deviations.DEVIATIONS)
