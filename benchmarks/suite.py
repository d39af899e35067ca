"""The benchmark suite: every loss, ours against its peers, at a small and a large size.

    python benchmarks/suite.py [--quick] [--device cpu|cuda] [--loss a,b] [--only torch,compile,jax,numpy,memory]
                               [--sizes small,large]

For every loss, forward and forward + backward (the gradient of the 'mean'
loss with respect to every floating input torch differentiates), as ratios
ours / peer measured side by side in one process (``_common.compare``:
medians of interleaved repeats):

  torch     ours on torch tensors vs ``torch.nn.functional``, eager
  compile   both under ``torch.compile`` (fullgraph=True; where either fails,
            both in the default mode, and the failure is recorded); compile
            time excluded, warm-up included; also ours compiled / theirs eager
  jax       ours under ``jax.jit`` vs the optax loss of the same semantics,
            both jitted, or a plain jnp formula where optax has none
  numpy     ours on NumPy vs a straightforward NumPy formula (forward only;
            CuPy and a CuPy formula with ``--device cuda``)
  memory    peak memory of forward + backward, ours / torch.nn.functional
            (CPU: a fresh process per measurement, growth of the peak RSS over
            the set-up; CUDA: torch.cuda.max_memory_allocated)

With ``--device cuda`` also the memory bandwidth the elementwise losses reach
at 1e8 elements, as a fraction of a device-to-device copy.  Writes
benchmarks/results/suite-<device>[-quick].{json,md} and prints the table and
the summary against the project's targets.  Benchmarks are not tests: nothing
asserts a time.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path



def _threads_from_argv(argv):
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--threads="):
            return a.partition("=")[2]
    return None


# --threads must reach the thread pools before numpy, torch and jax are imported
THREADS = _threads_from_argv(sys.argv[1:]) if __name__ == "__main__" else None
if THREADS:
    for _key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_key] = THREADS
    if THREADS == "1":
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                                   + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
if str(HERE.parent) not in sys.path:
    sys.path.insert(1, str(HERE.parent))  # the checkout being benchmarked, when not installed

import numpy as np

import agnostic_losses as al
from _common import compare, environment, write

COLUMNS = ("torch", "compile", "jax", "numpy", "memory")
_QUICK = False  # fewer repeats (run(quick=True))
_ARG_THREADS = None  # --threads, as parsed
PASSES = ("forward", "forward+backward")
SIZES = ("small", "medium", "large")
F32 = np.float32


# --- draws: (rng, shape, shapes) -> float32 or int64 NumPy array ------------------------------

def normal(rng, shape, shapes):
    return rng.standard_normal(shape, dtype=F32)


def logits(rng, shape, shapes):
    return rng.standard_normal(shape, dtype=F32) * F32(3)


def positive(rng, shape, shapes):
    return rng.random(shape, dtype=F32) * F32(1.75) + F32(0.25)


def unit(rng, shape, shapes):
    """Probabilities away from 0 and 1 (BCE's input)."""
    return rng.random(shape, dtype=F32) * F32(0.96) + F32(0.02)


def uniform01(rng, shape, shapes):
    return rng.random(shape, dtype=F32)


def labels01(rng, shape, shapes):
    return (rng.random(shape, dtype=F32) < 0.5).astype(F32)


def signs(rng, shape, shapes):
    return np.where(rng.random(shape, dtype=F32) < 0.5, F32(-1), F32(1))


def counts(rng, shape, shapes):
    return (1 + rng.poisson(1.5, shape)).astype(F32)


def probabilities(rng, shape, shapes):
    """Softmax of normal draws along axis 1."""
    e = np.exp(rng.standard_normal(shape, dtype=F32))
    e /= e.sum(axis=1, keepdims=True)
    return e


def log_probabilities(rng, shape, shapes):
    return np.log(probabilities(rng, shape, shapes))


def class_indices(of, axis):
    """Class indices below ``shapes[of][axis]``."""

    def draw(rng, shape, shapes):
        return rng.integers(0, shapes[of][axis], shape)

    return draw


def label_lists(rng, shape, shapes):
    """multilabel_margin_loss targets: the conformance catalogue's (class indices ended by -1)."""
    from conformance.catalogue import label_lists as draw

    return draw(rng, shape)


def ctc_targets(rng, shape, shapes):
    """Labels 1..C-1 (0 is the blank), every sequence of full length S."""
    return rng.integers(1, shapes["log_probs"][2], shape)


def full_length(of, axis):
    def draw(rng, shape, shapes):
        return np.full(shape, shapes[of][axis], dtype=np.int64)

    return draw


def scaled_normal(rng, shape, shapes):
    """A linear layer's weight: logits of unit scale."""
    return rng.standard_normal(shape, dtype=F32) / F32(math.sqrt(shape[-1]))


# --- plain formulas of each 'mean' loss, for NumPy, CuPy and jax.numpy (xp) ------------------

def _softplus(xp, z):
    return xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))


def _log_softmax(xp, x, axis):
    s = x - xp.max(x, axis=axis, keepdims=True)
    return s - xp.log(xp.sum(xp.exp(s), axis=axis, keepdims=True))


def _picked(xp, x, t):
    """x[n, t[n]] for (N, C) x and (N,) t."""
    return xp.take_along_axis(x, t[:, None], axis=1)[:, 0]


def _huber(xp, x, t, delta=1.0):
    d = xp.abs(x - t)
    return xp.mean(xp.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)))


def _distance(xp, a, b, eps=1e-6):
    d = a - b + eps
    return xp.sqrt(xp.sum(d * d, axis=-1))


def f_l1(xp, x, t):
    return xp.mean(xp.abs(x - t))


def f_mse(xp, x, t):
    return xp.mean((x - t) ** 2)


def f_huber(xp, x, t):
    return _huber(xp, x, t, 1.0)


def f_smooth_l1(xp, x, t):  # beta = 1
    d = xp.abs(x - t)
    return xp.mean(xp.where(d < 1.0, 0.5 * d * d, d - 0.5))


def f_cross_entropy(xp, x, t):
    return xp.mean(-_picked(xp, _log_softmax(xp, x, 1), t))


def f_cross_entropy_probs(xp, x, t):
    return xp.mean(-xp.sum(t * _log_softmax(xp, x, 1), axis=1))


def f_nll(xp, x, t):
    return -xp.mean(_picked(xp, x, t))


def f_bce(xp, x, t):
    return -xp.mean(t * xp.maximum(xp.log(x), -100.0) + (1 - t) * xp.maximum(xp.log1p(-x), -100.0))


def f_bce_logits(xp, x, t):
    return xp.mean((1 - t) * x + _softplus(xp, -x))


def f_multilabel_soft_margin(xp, x, t):
    return xp.mean(t * _softplus(xp, -x) + (1 - t) * _softplus(xp, x))


def f_soft_margin(xp, x, t):
    return xp.mean(_softplus(xp, -t * x))


def f_kl_div(xp, x, t):  # 'batchmean'; the targets are positive
    return xp.sum(t * (xp.log(t) - x)) / x.shape[0]


def f_poisson_nll(xp, x, t):  # log_input=True
    return xp.mean(xp.exp(x) - t * x)


def f_gaussian_nll(xp, x, t, v):
    v = xp.maximum(v, 1e-6)
    return xp.mean(0.5 * (xp.log(v) + (x - t) ** 2 / v))


def f_margin_ranking(xp, x1, x2, t):
    return xp.mean(xp.maximum(-t * (x1 - x2), 0))


def f_hinge_embedding(xp, x, t):  # labels +-1
    return xp.mean(xp.where(t == 1, x, xp.maximum(1.0 - x, 0)))


def f_multi_margin(xp, x, t):
    z = xp.maximum(1.0 - _picked(xp, x, t)[:, None] + x, 0)
    z = xp.where(xp.arange(x.shape[1])[None, :] == t[:, None], 0.0, z)
    return xp.mean(xp.sum(z, axis=1) / x.shape[1])


def f_multilabel_margin(xp, x, t):
    n = x.shape[1]
    listed = xp.cumprod((t >= 0).astype(t.dtype), axis=1) > 0
    safe = xp.where(listed, t, 0)
    positive = xp.any(listed[:, :, None] & (safe[:, :, None] == xp.arange(n)[None, None, :]), axis=1)
    z = 1.0 - xp.take_along_axis(x, safe, axis=1)[:, :, None] + x[:, None, :]
    h = xp.where(listed[:, :, None] & ~positive[:, None, :], xp.maximum(z, 0), 0.0)
    return xp.mean(xp.sum(h, axis=(1, 2)) / n)


def f_cosine_embedding(xp, x1, x2, t):
    cos = xp.sum(x1 * x2, axis=1) / xp.sqrt((xp.sum(x1 * x1, axis=1) + 1e-12) * (xp.sum(x2 * x2, axis=1) + 1e-12))
    return xp.mean(xp.where(t == 1, 1 - cos, xp.maximum(cos, 0)))


def f_triplet(xp, a, p, n):
    return xp.mean(xp.maximum(_distance(xp, a, p) - _distance(xp, a, n) + 1.0, 0))


def f_ctc(xp, log_probs, targets, input_lengths, target_lengths):
    """The CTC forward recursion in log space, batched; every sequence of full length (as drawn here), blank 0."""
    steps, n, _ = log_probs.shape
    s = targets.shape[1]
    zeros = xp.zeros_like(targets)
    ext = xp.concatenate([xp.reshape(xp.stack([zeros, targets], axis=2), (n, 2 * s)), zeros[:, :1]], axis=1)
    skip = xp.concatenate([xp.zeros((n, 2), dtype=bool), (ext[:, 2:] != 0) & (ext[:, 2:] != ext[:, :-2])], axis=1)
    ninf = xp.full((n, 1), -xp.inf, dtype=log_probs.dtype)
    alpha = xp.where(xp.arange(2 * s + 1)[None, :] < 2, xp.take_along_axis(log_probs[0], ext, axis=1), -xp.inf)
    for step in range(1, steps):
        one = xp.concatenate([ninf, alpha[:, :-1]], axis=1)
        two = xp.where(skip, xp.concatenate([ninf, ninf, alpha[:, :-2]], axis=1), -xp.inf)
        alpha = xp.logaddexp(xp.logaddexp(alpha, one), two) + xp.take_along_axis(log_probs[step], ext, axis=1)
    return xp.mean(-xp.logaddexp(alpha[:, -1], alpha[:, -2]) / s)


def f_linear_cross_entropy(xp, x, w, t):
    return f_cross_entropy(xp, x @ w.T, t)


# --- optax peers: (label "optax.<name> ...", f(optax.losses, jnp, *arrays)) on ours' arrays -----------------------------

OPTAX_CE = ("optax.softmax_cross_entropy_with_integer_labels",
            lambda o, jnp, x, t: jnp.mean(o.softmax_cross_entropy_with_integer_labels(x, t)))
OPTAX_SIGMOID = ("optax.sigmoid_binary_cross_entropy",
                 lambda o, jnp, x, t: jnp.mean(o.sigmoid_binary_cross_entropy(x, t)))


def optax_ctc(jax, jnp, optax, arrays, put):
    """optax.ctc_loss takes batch-major logits (N, T, C) and paddings; ours gets log_softmax of (T, N, C)."""
    if optax is None:
        raise ImportError("ctc_loss's JAX peer is optax.ctc_loss, and optax is not installed")
    lp = arrays["log_probs"]
    n, s = arrays["targets"].shape
    args = (put(np.ascontiguousarray(np.swapaxes(lp, 0, 1))), put(np.zeros((n, lp.shape[0]), F32)),
            put(arrays["targets"].astype(np.int32)), put(np.zeros((n, s), F32)))

    def f(x, x_pad, t, t_pad):  # torch's 'mean': each loss over its target length, then the batch mean
        return jnp.mean(optax.losses.ctc_loss(x, x_pad, t, t_pad) / s)

    return "optax.ctc_loss", f, args, (0,)


# --- the entries -------------------------------------------------------------------------------

def _same(shape, names):
    return {n: shape for n in names}


def _class_shapes(n, c, probabilities=False):
    return {"input": (n, c), "target": (n, c) if probabilities else (n,)}


ELEMENTWISE = {"small": (8,), "medium": (100, 1000), "large": (1000, 10_000)}  # 1e7 elements
ROWS = {"small": (4, 5), "medium": (256, 1024), "large": (4096, 32_768)}  # logits (N, C)
WIDE = {"small": (4, 5), "medium": (100, 1000), "large": (1000, 10_000)}  # (N, C), 1e7 elements
VECTORS = {"small": (4, 3), "medium": (100, 1000), "large": (10_000, 1000)}  # (N, D), 1e7 elements each


@dataclass(frozen=True)
class Bench:
    name: str  # row label (the function's name, /variant)
    fn: str  # in agnostic_losses and torch.nn.functional
    arrays: dict  # name -> draw, in call order
    shapes: dict  # size -> {array: shape}
    formula: Callable  # (xp, *arrays) -> the loss, for NumPy / CuPy / jnp
    grads: tuple  # arrays differentiated (those torch differentiates)
    options: dict = field(default_factory=dict)
    through: tuple = ()  # arrays passed through log_softmax (last axis) inside the timed function
    optax: object = None  # (label, f(optax, jnp, *arrays)), a builder like optax_ctc, or None: jnp formula
    note: str = ""  # printed under the table
    no_compile: dict = field(default_factory=dict)  # size -> why torch.compile is not measured

    @property
    def names(self):
        return list(self.arrays)

    def index(self, names):
        return tuple(i for i, n in enumerate(self.arrays) if n in names)


def _elementwise(name, formula, arrays, optax=None, grads=None, **kw):
    return Bench(name, name, arrays, {k: _same(v, arrays) for k, v in ELEMENTWISE.items()}, formula,
                 tuple(arrays) if grads is None else grads, optax=optax, **kw)


REGRESSION = {"input": normal, "target": normal}
CLASSES = {"input": logits, "target": class_indices("input", 1)}
VEC3 = ("anchor", "positive", "negative")

BENCHES = (
    _elementwise("l1_loss", f_l1, REGRESSION),
    _elementwise("mse_loss", f_mse, REGRESSION,
                 optax=("optax.squared_error", lambda o, jnp, x, t: jnp.mean(o.squared_error(x, t)))),
    _elementwise("huber_loss", f_huber, REGRESSION,
                 optax=("optax.huber_loss", lambda o, jnp, x, t: jnp.mean(o.huber_loss(x, t, delta=1.0)))),
    _elementwise("smooth_l1_loss", f_smooth_l1, REGRESSION,
                 optax=("optax.huber_loss (= smooth_l1 at beta 1)",
                        lambda o, jnp, x, t: jnp.mean(o.huber_loss(x, t, delta=1.0)))),
    Bench("cross_entropy/indices", "cross_entropy", CLASSES,
          {k: _class_shapes(*v) for k, v in ROWS.items()}, f_cross_entropy, ("input",), optax=OPTAX_CE),
    Bench("cross_entropy/probabilities", "cross_entropy", {"input": logits, "target": probabilities},
          {k: _class_shapes(*v, probabilities=True) for k, v in ROWS.items()}, f_cross_entropy_probs,
          ("input", "target"), optax=("optax.softmax_cross_entropy",
                                      lambda o, jnp, x, t: jnp.mean(o.softmax_cross_entropy(x, t)))),
    Bench("nll_loss", "nll_loss", {"input": log_probabilities, "target": class_indices("input", 1)},
          {k: _class_shapes(*v) for k, v in ROWS.items()}, f_nll, ("input",)),
    _elementwise("binary_cross_entropy", f_bce, {"input": unit, "target": uniform01}),
    _elementwise("binary_cross_entropy_with_logits", f_bce_logits, {"input": logits, "target": uniform01},
                 optax=OPTAX_SIGMOID),
    Bench("multilabel_soft_margin_loss", "multilabel_soft_margin_loss", {"input": logits, "target": labels01},
          {k: _same(v[::-1] if k == "large" else v, ("input", "target")) for k, v in WIDE.items()},
          f_multilabel_soft_margin, ("input", "target"), optax=OPTAX_SIGMOID),
    _elementwise("soft_margin_loss", f_soft_margin, {"input": logits, "target": signs}, grads=("input",)),
    Bench("kl_div", "kl_div", {"input": log_probabilities, "target": probabilities},
          {k: _same(v, ("input", "target")) for k, v in WIDE.items()}, f_kl_div, ("input", "target"),
          options={"reduction": "batchmean"},
          optax=("optax.kl_divergence", lambda o, jnp, x, t: jnp.mean(o.kl_divergence(x, t))),
          note="kl_div: reduction='batchmean' everywhere (torch warns at every 'mean'; optax's is per row)."),
    _elementwise("poisson_nll_loss", f_poisson_nll, {"input": positive, "target": counts}),
    _elementwise("gaussian_nll_loss", f_gaussian_nll, {"input": normal, "target": normal, "var": positive}),
    _elementwise("margin_ranking_loss", f_margin_ranking, {"input1": normal, "input2": normal, "target": signs}),
    _elementwise("hinge_embedding_loss", f_hinge_embedding, {"input": normal, "target": signs}, grads=("input",)),
    Bench("multi_margin_loss", "multi_margin_loss", {"input": normal, "target": class_indices("input", 1)},
          {k: _class_shapes(*v) for k, v in ROWS.items()}, f_multi_margin, ("input",)),
    Bench("multilabel_margin_loss", "multilabel_margin_loss", {"input": normal, "target": label_lists},
          {k: _same(v, ("input", "target")) for k, v in
           {"small": (4, 5), "medium": (64, 64), "large": (1024, 256)}.items()},
          f_multilabel_margin, ("input",),
          note="multilabel_margin_loss, large: N=1024, C=256 (the NumPy and jnp formulas hold an (N, C, C) temporary: "
               "6.7e7 elements; N=C=1024 would be 1e9)."),
    Bench("cosine_embedding_loss", "cosine_embedding_loss", {"input1": normal, "input2": normal, "target": signs},
          {k: {"input1": v, "input2": v, "target": v[:1]} for k, v in VECTORS.items()},
          f_cosine_embedding, ("input1", "input2")),
    Bench("triplet_margin_loss", "triplet_margin_loss", {n: normal for n in VEC3},
          {k: _same(v, VEC3) for k, v in VECTORS.items()}, f_triplet, VEC3,
          optax=("optax.triplet_margin_loss", lambda o, jnp, a, p, n: jnp.mean(o.triplet_margin_loss(a, p, n))),
          note="triplet_margin_loss: optax adds eps inside the root (sqrt(sum(d^2) + eps)), torch to the "
               "difference (|d + eps|); otherwise the same loss."),
    Bench("triplet_margin_with_distance_loss", "triplet_margin_with_distance_loss", {n: normal for n in VEC3},
          {k: _same(v, VEC3) for k, v in VECTORS.items()}, f_triplet, VEC3),
    Bench("ctc_loss", "ctc_loss",
          {"log_probs": normal, "targets": ctc_targets, "input_lengths": full_length("log_probs", 0),
           "target_lengths": full_length("targets", 1)},
          {k: {"log_probs": (t, n, c), "targets": (n, s), "input_lengths": (n,), "target_lengths": (n,)}
           for k, (t, n, c, s) in {"small": (8, 2, 5, 3), "medium": (50, 16, 32, 10),
                                   "large": (500, 32, 64, 100)}.items()},
          f_ctc, ("log_probs",), through=("log_probs",), optax=optax_ctc,
          no_compile={"medium": "dynamo unrolls ours' Python loop over the T time steps: compiling the forward "
                                "at T=50 alone took about 110 s on 2 cores",
                      "large": "dynamo unrolls ours' Python loop over the T time steps (T=500); compiling the "
                               "forward at T=50 alone took about 110 s on 2 cores"},
          note="ctc_loss: logits (T, N, C) through log_softmax inside the timed function (the gradient is the "
               "logits'); full-length sequences, S = T/5 labels, blank 0; NumPy gets the log-probabilities."),
    Bench("linear_cross_entropy", "linear_cross_entropy",
          {"input": normal, "linear_weight": scaled_normal, "target": class_indices("linear_weight", 0)},
          {k: {"input": (n, h), "linear_weight": (v, h), "target": (n,)}
           for k, (n, h, v) in {"small": (4, 8, 5), "medium": (256, 128, 1024),
                                "large": (4096, 1024, 32_768)}.items()},
          f_linear_cross_entropy, ("input", "linear_weight"),
          optax=("optax.softmax_cross_entropy_with_integer_labels(x @ W.T)",
                 lambda o, jnp, x, w, t: jnp.mean(o.softmax_cross_entropy_with_integer_labels(x @ w.T, t))),
          note="linear_cross_entropy: peer torch.nn.functional.linear_cross_entropy with options=None "
               "(cross_entropy(linear(x, W), t)); the gradient is input's and linear_weight's."),
)
BY_NAME = {b.name: b for b in BENCHES}
QUICK = ("mse_loss", "huber_loss", "cross_entropy/indices", "binary_cross_entropy_with_logits",
         "triplet_margin_loss")


def make_arrays(bench, size):
    """The NumPy arrays of one entry at one size, from a seed of its name and size."""
    import zlib

    rng = np.random.default_rng(zlib.crc32(f"{bench.name}/{size}".encode()))
    shapes = bench.shapes[size]
    return {n: draw(rng, shapes[n], shapes) for n, draw in bench.arrays.items()}


def describe(arrays):
    return ", ".join(f"{n} {tuple(a.shape)}" for n, a in arrays.items())


# --- timing ------------------------------------------------------------------------------------

BUDGET = {"small": (0.3, 20, 200), "medium": (1.0, 5, 50), "large": (2.0, 3, 10)}  # seconds, min, max repeats
QUICK_BUDGET = {"small": (0.1, 15, 100), "medium": (0.3, 5, 30), "large": (1.0, 3, 5)}


def timed(fns, size):
    """Median seconds per call (``compare``), with as many repeats as the size's budget allows."""
    once = {}
    for name, fn in fns.items():  # a warm-up call each, timed, picks the repeats
        start = time.perf_counter()
        fn()
        once[name] = time.perf_counter() - start
    budget, low, high = (QUICK_BUDGET if _QUICK else BUDGET)[size]
    repeats = max(low, min(high, int(budget / max(sum(once.values()), 1e-9))))
    return compare(fns, repeats=repeats, warmup=0)  # the timed call above was the warm-up


def _short(e):
    text = f"{type(e).__name__}: {e}".strip().splitlines()
    return (text[0] if text else type(e).__name__)[:160]


def _difference(ours, peer):
    """|ours - peer| / |peer|: the peers compute the same loss (a check of the formulas, not a conformance test)."""
    return abs(ours - peer) / max(abs(peer), 1e-30)


def ours_fn(bench):
    return getattr(al, bench.fn, None)


# --- torch --------------------------------------------------------------------------------------

def torch_peer(bench):
    import torch.nn.functional as F

    if bench.fn == "linear_cross_entropy" and not hasattr(F, "linear_cross_entropy"):
        return lambda x, w, t, **kw: F.cross_entropy(F.linear(x, w), t, **kw)  # torch before 2.13
    return getattr(F, bench.fn)


def torch_tensors(bench, arrays, device):
    import torch

    out = []
    for name, a in arrays.items():
        t = torch.from_numpy(a) if device == "cpu" else torch.as_tensor(a, device=device)
        out.append(t.requires_grad_() if name in bench.grads else t)
    return out


def torch_loss(fn, bench):
    through = bench.index(bench.through)

    def loss(*a):
        return fn(*[x.log_softmax(-1) if i in through else x for i, x in enumerate(a)], **bench.options)

    return loss


def torch_call(loss, tensors, bench, backward, sync):
    import torch

    leaves = [tensors[i] for i in bench.index(bench.grads)]
    if backward:
        def call():
            torch.autograd.grad(loss(*tensors), leaves, allow_unused=True)
            sync()
    else:
        def call():
            loss(*tensors)
            sync()
    return call


def torch_sync(device):
    import torch

    return torch.cuda.synchronize if device == "cuda" else (lambda: None)


def column_torch(bench, arrays, size, device, results):
    import torch

    tensors, sync = torch_tensors(bench, arrays, device), torch_sync(device)
    for backward, pass_ in zip((False, True), PASSES):
        with torch.set_grad_enabled(backward):
            fns = {side: torch_call(torch_loss(fn, bench), tensors, bench, backward, sync)
                   for side, fn in (("ours", ours_fn(bench)), ("peer", torch_peer(bench)))}
            t = timed(fns, size)
        results[pass_].update({"torch ours ms": t["ours"] * 1e3, "torch peer ms": t["peer"] * 1e3,
                               "torch": t["ours"] / t["peer"]})
    with torch.no_grad():
        values = [float(torch_loss(fn, bench)(*tensors)) for fn in (ours_fn(bench), torch_peer(bench))]
    results["forward"]["torch difference"] = _difference(*values)


def column_compile(bench, arrays, size, device, results):
    import torch

    if size in bench.no_compile:
        for pass_ in PASSES:
            results[pass_]["compile mode"] = "not measured: " + bench.no_compile[size]
        return
    tensors, sync = torch_tensors(bench, arrays, device), torch_sync(device)
    sides = (("ours", ours_fn(bench)), ("peer", torch_peer(bench)))
    for backward, pass_ in zip((False, True), PASSES):
        with torch.set_grad_enabled(backward), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fns, compile_s, failures = {}, {}, {}
            for fullgraph in (True, False):
                torch._dynamo.reset()
                fns, compile_s = {}, {}
                for side, fn in sides:
                    call = torch_call(torch.compile(torch_loss(fn, bench), fullgraph=fullgraph), tensors, bench,
                                      backward, sync)
                    start = time.perf_counter()
                    try:
                        call()
                    except Exception as e:  # recorded, then the default mode
                        if not fullgraph:
                            raise
                        failures[side] = _short(e)
                        continue
                    compile_s[side], fns[side] = time.perf_counter() - start, call
                if not failures:
                    break
            mode = "fullgraph" if not failures else "default (fullgraph failed: " + "; ".join(
                f"{k}: {v}" for k, v in failures.items()) + ")"
            if failures:
                print(f"    torch.compile {bench.name} {size} {pass_}: {mode}", flush=True)
            fns["peer eager"] = torch_call(torch_loss(torch_peer(bench), bench), tensors, bench, backward, sync)
            t = timed(fns, size)
        torch._dynamo.reset()
        results[pass_].update({
            "compiled ours ms": t["ours"] * 1e3, "compiled peer ms": t["peer"] * 1e3,
            "peer eager ms (compile run)": t["peer eager"] * 1e3, "compile": t["ours"] / t["peer"],
            "compiled/eager": t["ours"] / t["peer eager"], "compile mode": mode,
            "compile s ours": compile_s["ours"], "compile s peer": compile_s["peer"]})


# --- JAX ----------------------------------------------------------------------------------------

def _jax_peer(bench, jax, jnp, optax, through):
    """(label, loss) of the optax loss named in the entry, or of its formula on jax.numpy."""
    label, optax_loss = bench.optax or ("jnp formula", None)
    if optax_loss is not None:
        name = label.split(".")[1].split(" ")[0].split("(")[0]
        if optax is None or not hasattr(optax.losses, name):
            label = f"jnp formula ({'optax is not installed' if optax is None else 'this optax has no ' + name})"
            optax_loss = None

    def inner(*a):
        return bench.formula(jnp, *a) if optax_loss is None else optax_loss(optax.losses, jnp, *a)

    def peer(*a):
        return inner(*[jax.nn.log_softmax(x, axis=-1) if i in through else x for i, x in enumerate(a)])

    return label, peer


def column_jax(bench, arrays, size, device, results):
    import jax
    import jax.numpy as jnp

    try:
        import optax
    except ImportError:  # the jnp formulas stand in
        optax = None
    dev = jax.devices("gpu" if device == "cuda" else "cpu")[0]

    def put(a):
        return jax.device_put(a.astype(np.int32) if a.dtype == np.int64 else a, dev)

    args = tuple(put(a) for a in arrays.values())
    through, fn = bench.index(bench.through), ours_fn(bench)

    def ours(*a):
        return fn(*[jax.nn.log_softmax(x, axis=-1) if i in through else x for i, x in enumerate(a)], **bench.options)

    argnums = bench.index(bench.grads)
    if callable(bench.optax):
        label, peer, peer_args, peer_argnums = bench.optax(jax, jnp, optax, arrays, put)
    else:
        label, peer = _jax_peer(bench, jax, jnp, optax, through)
        peer_args, peer_argnums = args, argnums
    for backward, pass_ in zip((False, True), PASSES):
        fns = {}
        for side, loss, a, nums in (("ours", ours, args, argnums), ("peer", peer, peer_args, peer_argnums)):
            traced = jax.value_and_grad(loss, argnums=nums) if backward else loss
            compiled = jax.jit(traced).lower(*a).compile()
            fns[side] = lambda c=compiled, a=a: jax.block_until_ready(c(*a))
        t = timed(fns, size)
        if not backward:
            results[pass_]["jax difference"] = _difference(*(float(fns[k]()) for k in ("ours", "peer")))
        results[pass_].update({"jax peer": label, "jax ours ms": t["ours"] * 1e3, "jax peer ms": t["peer"] * 1e3,
                               "jax": t["ours"] / t["peer"]})


# --- NumPy (CuPy on CUDA) -----------------------------------------------------------------------

def column_numpy(bench, arrays, size, device, results):
    if device == "cuda":
        import cupy as xp

        sync = xp.cuda.Device().synchronize
        label = "cupy"
    else:
        xp, sync, label = np, (lambda: None), "numpy"
    a = [xp.asarray(_log_softmax(np, v, -1) if n in bench.through else v) for n, v in arrays.items()]
    fn = ours_fn(bench)

    def ours():
        fn(*a, **bench.options)
        sync()

    def peer():
        bench.formula(xp, *a)
        sync()

    with np.errstate(all="ignore"):
        t = timed({"ours": ours, "peer": peer}, size)
        values = float(fn(*a, **bench.options)), float(bench.formula(xp, *a))
    results["forward"].update({f"{label} ours ms": t["ours"] * 1e3, f"{label} formula ms": t["peer"] * 1e3,
                               "numpy": t["ours"] / t["peer"], "numpy difference": _difference(*values)})


# --- memory -------------------------------------------------------------------------------------

def _status_kib(*keys):
    values = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in keys:
                values[key] = int(rest.split()[0])
    return values


def memory_worker(name, size, side, device, arrays=None):
    """The growth of peak memory over the set-up in one forward + backward (on the CPU: in a fresh process)."""
    import torch

    bench = BY_NAME[name]
    tensors = torch_tensors(bench, make_arrays(bench, size) if arrays is None else arrays, device)
    fn = ours_fn(bench) if side == "ours" else torch_peer(bench)
    call = torch_call(torch_loss(fn, bench), tensors, bench, True, torch_sync(device))
    call()  # warm-up: one-time allocations of the libraries go into the baseline
    gc.collect()
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        call()
        grown, method = torch.cuda.max_memory_allocated() - base, "torch.cuda.max_memory_allocated"
    else:
        try:  # Linux: reset the peak RSS (VmHWM) after the set-up and the warm-up
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            base = _status_kib("VmRSS")["VmRSS"]
            call()
            grown, method = (_status_kib("VmHWM")["VmHWM"] - base) * 1024, "VmHWM reset after set-up and warm-up"
        except OSError:
            import resource

            base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            call()
            scale = 1 if sys.platform == "darwin" else 1024
            grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * scale
            method = "ru_maxrss growth (includes the warm-up's peak)"
    return {"bytes": int(grown), "method": method}


def column_memory(bench, arrays, size, device, results):
    if size == "small":
        return  # a few bytes: below the resolution of the RSS (pages) and of the CUDA allocator's blocks
    out = {}
    for side in ("ours", "peer"):
        if device == "cuda":  # exact and cheap in-process: the peak is of torch's allocations
            out[side] = memory_worker(bench.name, size, side, device, arrays)
            gc.collect()
            import torch

            torch.cuda.empty_cache()
            continue
        env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536",  # freed blocks go back to the OS at once
               "PYTHONPATH": os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")])}
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--memory-worker", bench.name, size,
                               side, device], capture_output=True, text=True, env=env, timeout=600, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"memory worker ({side}) failed: {proc.stderr.strip().splitlines()[-1:]}")
        out[side] = json.loads(proc.stdout.strip().splitlines()[-1])
    results["forward+backward"].update({
        "memory ours MB": out["ours"]["bytes"] / 2**20, "memory peer MB": out["peer"]["bytes"] / 2**20,
        "memory": out["ours"]["bytes"] / max(out["peer"]["bytes"], 1), "memory method": out["ours"]["method"]})


COLUMN_FUNCTIONS = {"torch": column_torch, "compile": column_compile, "jax": column_jax, "numpy": column_numpy,
                    "memory": column_memory}


# --- bandwidth (CUDA) ---------------------------------------------------------------------------

BANDWIDTH = ("l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy_with_logits",
             "soft_margin_loss")


def bandwidth(names, device="cuda", n=10**8):
    """Forward at ``n`` float32 elements: bytes the minimal algorithm moves (read every input, write a
    scalar) / time, as a fraction of torch.clone's (read + write n float32) measured in the same run."""
    import torch

    rows, sync = [], torch_sync(device)
    source = torch.randn(n, device=device)

    def clone():
        source.clone()
        sync()

    with torch.no_grad():
        for name in names:
            bench = BY_NAME[name]
            gen = torch.Generator(device=device).manual_seed(0)
            tensors = []
            for arr in bench.arrays:  # drawn on the device: n elements of the entry's kind
                if name == "soft_margin_loss" and arr == "target":
                    tensors.append(torch.randint(0, 2, (n,), device=device, generator=gen).float() * 2 - 1)
                elif arr == "target" and name == "binary_cross_entropy_with_logits":
                    tensors.append(torch.rand(n, device=device, generator=gen))
                else:
                    tensors.append(torch.randn(n, device=device, generator=gen))
            fns = {side: torch_call(torch_loss(fn, bench), tensors, bench, False, sync)
                   for side, fn in (("ours", ours_fn(bench)), ("peer", torch_peer(bench)))}
            fns["clone"] = clone
            t = timed(fns, "medium")  # milliseconds each on a GPU: up to 50 repeats
            moved = sum(x.numel() * x.element_size() for x in tensors) + 4
            copy_rate = 2 * n * 4 / t["clone"]
            rows.append({"loss": name, "elements": n, "bytes moved (minimal)": moved,
                         "ours ms": t["ours"] * 1e3, "peer ms": t["peer"] * 1e3, "clone ms": t["clone"] * 1e3,
                         "ours GB/s": moved / t["ours"] / 1e9, "clone GB/s": copy_rate / 1e9,
                         "ours / copy": moved / t["ours"] / copy_rate, "peer / copy": moved / t["peer"] / copy_rate})
            del tensors, fns
            if device == "cuda":
                torch.cuda.empty_cache()
    return rows


# --- the run ------------------------------------------------------------------------------------

def run_entry(bench, size, device, columns, log=print):
    """The rows (forward, forward+backward) of one entry at one size; a column that fails records its error."""
    arrays = make_arrays(bench, size)
    results = {p: {"loss": bench.name, "size": size, "pass": p, "shapes": describe(arrays)} for p in PASSES}
    for column in columns:
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():  # torch's, JAX's int64 truncation: not the subject here
                warnings.simplefilter("ignore")
                COLUMN_FUNCTIONS[column](bench, arrays, size, device, results)
        except Exception as e:  # noqa: BLE001 - one failing column does not end the run
            for row in results.values():
                row.setdefault("errors", []).append(f"{column}: {_short(e)}")
            log(f"    {column} failed: {_short(e)}")
        gc.collect()
        for row in results.values():
            row[f"{column} s"] = time.perf_counter() - start
    return [results[p] for p in PASSES]


def fmt(x, digits=3):
    return f"{x:.{digits}g}" if isinstance(x, float) else ("" if x is None else str(x))


def line(row):
    keys = ("torch ours ms", "torch peer ms", "torch", "compile", "compiled/eager", "jax", "numpy", "memory")
    cells = "  ".join(f"{k} {fmt(row[k])}" for k in keys if k in row)
    return f"  {row['loss']:34s} {row['size']:6s} {row['pass']:16s} {cells}"


def _worst(rows, key):
    rows = [r for r in rows if isinstance(r.get(key), float)]
    return max(rows, key=lambda r: r[key]) if rows else None


def summary(rows):
    """The project's targets, each with the measured figure, whether it holds and the worst loss."""
    out = []

    def target(label, value, limit, worst=None, op="<="):
        if value is None:
            out.append({"target": label, "value": None, "holds": None, "text": f"{label}: not measured"})
            return
        holds = value <= limit
        where = f" (worst: {worst['loss']} {worst['size']} {worst['pass']})" if worst else ""
        out.append({"target": label, "value": value, "limit": limit, "holds": holds,
                    "text": f"[{'holds' if holds else 'FAILS'}] {label}: {value:.3g} (target {op} {limit}){where}"})

    large = [r for r in rows if r["size"] == "large" and r["pass"] == "forward+backward" and "torch" in r]
    w = _worst(large, "torch")
    target("torch eager, large, forward+backward: max ours/torch", w and w["torch"], 1.2, w)
    target("torch eager, large, forward+backward: median ours/torch",
           statistics.median(r["torch"] for r in large) if large else None, 1.0)
    w = _worst([r for r in rows if r["size"] == "small"], "torch")
    target("torch eager, small, both passes: max ours/torch", w and w["torch"], 1.5, w)
    w = _worst([r for r in rows if not str(r.get("jax peer", "jnp")).startswith("jnp")], "jax")
    target("jax.jit vs optax: max ours/optax", w and w["jax"], 1.05, w)
    w = _worst([r for r in rows if str(r.get("jax peer", "")).startswith("jnp")], "jax")
    if w:
        out.append({"target": "jax.jit vs jnp formula (no target)", "value": w["jax"], "holds": None,
                    "text": f"[info] jax.jit vs jnp formula: max ours/formula {w['jax']:.3g} "
                            f"(worst: {w['loss']} {w['size']} {w['pass']})"})
    w = _worst([r for r in rows if r["size"] != "small"], "compiled/eager")
    target("ours compiled / torch.nn.functional eager, max (medium and large)", w and w["compiled/eager"], 1.0, w)
    w = _worst([r for r in rows if r["size"] == "small"], "compiled/eager")
    if w:
        out.append({"target": "ours compiled / torch eager, small (no target)", "value": w["compiled/eager"],
                    "holds": None, "text": f"[info] ours compiled / torch eager, small: max "
                                           f"{w['compiled/eager']:.3g} (worst: {w['loss']} {w['pass']})"})
    w = _worst(rows, "memory")
    target("peak memory of forward+backward: max ours/torch", w and w["memory"], 1.2, w)
    return out


def ranking(rows, key, size, pass_, n=5):
    chosen = sorted((r for r in rows if r["size"] == size and r["pass"] == pass_ and isinstance(r.get(key), float)),
                    key=lambda r: -r[key])
    return ", ".join(f"{r['loss']} {r[key]:.3g}" for r in chosen[:n])


TABLE = ["loss", "size", "pass", "torch ours ms", "torch peer ms", "torch", "compile", "compiled/eager", "jax peer",
         "jax", "numpy", "memory"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--quick", action="store_true",
                   help=f"{len(QUICK)} losses, small and medium sizes, no torch.compile (about a minute)")
    p.add_argument("--loss", default="", help="comma-separated entries or function names, measured in that order "
                   "(default: all)")
    p.add_argument("--only", default="", help=f"comma-separated columns of {','.join(COLUMNS)} (default: all)")
    p.add_argument("--sizes", default="", help="comma-separated of small,medium,large "
                                               "(default: small,large; --quick: small,medium)")
    p.add_argument("--name", default="", help="result file name (default suite-<device>[-quick])")
    p.add_argument("--no-write", action="store_true", help="print only")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads of torch, the BLAS and (when 1) XLA; default: the libraries' own (all cores). "
                        "On a shared, busy machine --threads 1 keeps OpenMP's waits for a core out of the timings")
    p.add_argument("--memory-worker", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.threads:
        import torch

        global _ARG_THREADS
        _ARG_THREADS = args.threads
        torch.set_num_threads(args.threads)
    if args.memory_worker:
        print(json.dumps(memory_worker(*args.memory_worker)))
        return None
    if args.device == "cuda":
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # JAX beside torch and CuPy on one GPU
    wanted = [n for n in args.loss.split(",") if n]
    unknown = [n for n in wanted if not any(n in (b.name, b.fn) for b in BENCHES)]
    if unknown:
        p.error(f"unknown loss {unknown}; known: {', '.join(BY_NAME)}")
    chosen = [b for b in BENCHES if not wanted and (not args.quick or b.name in QUICK)]
    for n in wanted:  # in the order given (a run cut short by a time limit has done the first ones)
        chosen += [b for b in BENCHES if n in (b.name, b.fn) and b not in chosen]
    columns = [c for c in args.only.split(",") if c] or [c for c in COLUMNS if not (args.quick and c == "compile")]
    bad = sorted(set(columns) - set(COLUMNS)) + sorted(set(args.sizes.split(",")) - set(SIZES) - {""})
    if bad:
        p.error(f"unknown column or size {bad}")
    sizes = [s for s in args.sizes.split(",") if s] or (["small", "medium"] if args.quick else ["small", "large"])
    return run(chosen, sizes, columns, args.device,
               None if args.no_write else (args.name or f"suite-{args.device}" + ("-quick" if args.quick else "")),
               quick=args.quick)


def run(chosen, sizes, columns, device, name=None, log=print, quick=False):
    """Measure the entries ``chosen`` at ``sizes`` in ``columns``; print, and write the results under ``name``.
    Returns (rows, extra: summary, skipped entries, timings of the run)."""
    global _QUICK
    _QUICK = quick
    started, load = time.time(), os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    env = environment(device)
    env["agnostic_losses"] = str(Path(al.__file__).parent)
    try:
        import torch

        env["torch threads"] = torch.get_num_threads()
    except ImportError:
        pass
    log(f"agnostic_losses from {env['agnostic_losses']}; device {device}; columns {','.join(columns)}; "
        f"sizes {','.join(sizes)}")
    rows, skipped, bench_notes = [], [], []
    for bench in chosen:
        if ours_fn(bench) is None:
            reason = f"{bench.name}: skipped, agnostic_losses has no {bench.fn} (not merged into this checkout)"
            log(reason)
            skipped.append(reason)
            continue
        if bench.note:
            bench_notes.append(bench.note)
        for size in sizes:
            entry = run_entry(bench, size, device, columns, log)
            for row in entry:
                log(line(row))
                for key in ("torch difference", "jax difference", "numpy difference"):
                    if row.get(key, 0) > 1e-3:
                        log(f"    note: {key} {row[key]:.2g} (ours and the peer disagree)")
            rows += entry
    extra = {"columns": columns, "sizes": sizes, "skipped": skipped,
             "seconds": time.time() - started, "load average at start": load,
             "load average at end": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}
    if device == "cuda" and "large" in sizes:
        names = [n for n in BANDWIDTH if n in {b.name for b in chosen} and ours_fn(BY_NAME[n])]
        if names:
            try:
                extra["bandwidth"] = bandwidth(names)
            except Exception as e:  # noqa: BLE001 - the rest is written all the same
                log(f"bandwidth failed: {_short(e)}")
    extra["summary"] = summary(rows)
    n = str(THREADS or _ARG_THREADS or "")
    extra["threads"] = (f"--threads {n}: torch and the BLAS on {n} thread(s)"
                        + (", XLA's CPU thread pool on one" if n == "1" else "")
                        if n else "the libraries' default thread pools")
    if "torch threads" in env:
        extra["threads"] += f" (torch.get_num_threads() = {env['torch threads']})"
    notes = notes_text(rows, extra, bench_notes, device)
    if name:
        text = write(name, env, rows, TABLE, notes, extra=extra)
    else:
        text = "\n".join(["| " + " | ".join(TABLE) + " |"] + ["| " + " | ".join(fmt(r.get(c)) for c in TABLE) + " |"
                                                                for r in rows]) + "\n\n" + notes
    log("")
    log(text)
    return rows, extra


def notes_text(rows, extra, bench_notes, device):
    cores = os.cpu_count() or 1
    out = ["Ratios are ours / peer, medians of interleaved repeats in one process (below 1: ours is faster or "
           "smaller). torch: eager, peer torch.nn.functional; compile: both under torch.compile, compile time "
           "excluded; compiled/eager: ours compiled / torch.nn.functional eager; jax: both jax.jit, peer as named; "
           f"numpy: forward only, ours vs a {'CuPy' if device == 'cuda' else 'NumPy'} formula; memory: peak of "
           "forward+backward, ours / torch.nn.functional "
           + ("(torch.cuda.max_memory_allocated)." if device == "cuda" else
              "(a fresh process each, growth of the peak RSS over the set-up; VmHWM reset after one warm-up call)."),
           "Forward on torch runs under no_grad; forward+backward is the gradient of the 'mean' loss with respect "
           "to every floating input torch differentiates. Sizes: " + "; ".join(
               sorted({f"{r['loss']} {r['size']}: {r['shapes']}" for r in rows if r["pass"] == "forward"})) + ".",
           *bench_notes]
    modes = sorted({f"{r['loss']} {r['size']} {r['pass']}: {r['compile mode']}" for r in rows
                    if "compile mode" in r and r["compile mode"] != "fullgraph"})
    if modes:
        out.append("torch.compile: " + "; ".join(modes) + ".")
    errors = [f"{r['loss']} {r['size']} {r['pass']}: {e}" for r in rows for e in r.get("errors", [])]
    if errors:
        out.append("Errors: " + "; ".join(errors) + ".")
    out += extra["skipped"]
    out.append("")
    out.append("Summary against the project's targets:")
    out.append("")
    out += [f"- {s['text']}" for s in extra["summary"]]
    for key, label in (("torch", "torch eager"), ("jax", "jax")):
        worst = ranking(rows, key, "large", "forward+backward")
        if worst:
            out.append(f"- worst {label} ratios, large, forward+backward: {worst}")
    if extra.get("bandwidth"):
        out += ["", ("Bandwidth of the forward at 1e8 float32 elements (bytes the minimal algorithm reads and "
                     "writes / time), as a fraction of torch.clone's on the same GPU in the same run:"), "",
                "| loss | ours ms | peer ms | clone ms | ours GB/s | clone GB/s | ours / copy | peer / copy |",
                "|---|---|---|---|---|---|---|---|"]
        out += [f"| {b['loss']} | {b['ours ms']:.3g} | {b['peer ms']:.3g} | {b['clone ms']:.3g} | "
                f"{b['ours GB/s']:.4g} | {b['clone GB/s']:.4g} | {b['ours / copy']:.3g} | {b['peer / copy']:.3g} |"
                for b in extra["bandwidth"]]
    out.append("")
    load = extra["load average at start"]
    out.append(f"Run took {extra['seconds'] / 60:.1f} min on {cores} cores; threads: {extra['threads']}."
               + (f" Other processes were running: the 1-minute load average was {load:.1f} before the suite started "
                  f"(and {extra['load average at end']:.1f} at its end, the suite included), so absolute times are "
                  "noisy; the ratios are of interleaved repeats, side by side." if load and load > 0.5 else ""))
    return "\n".join(out)


if __name__ == "__main__":
    main()
