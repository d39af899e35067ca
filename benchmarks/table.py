"""The benchmark table: every entry (a loss, or one form of it), its arrays, shapes at each size, and peers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import agnostic_losses as al
from data import (class_indices, counts, ctc_targets, full_length, label_lists, labels01, log_probabilities, logits,
                  normal, positive, probabilities, scaled_normal, signs, uniform01, unit)
from peers import (OPTAX_CE, OPTAX_HUBER, OPTAX_KL, OPTAX_LINEAR_CE, OPTAX_SIGMOID, OPTAX_SMOOTH_L1,
                   OPTAX_SOFTMAX_CE, OPTAX_SQUARED, OPTAX_TRIPLET, f_bce, f_bce_logits, f_cosine_embedding,
                   f_cross_entropy, f_cross_entropy_probs, f_ctc, f_gaussian_nll, f_hinge_embedding, f_huber,
                   f_kl_div, f_l1, f_linear_cross_entropy, f_margin_ranking, f_mse, f_multi_margin,
                   f_multilabel_margin, f_multilabel_soft_margin, f_nll, f_poisson_nll, f_smooth_l1, f_soft_margin,
                   f_triplet, optax_ctc)

PASSES = ("forward", "forward+backward")
INPUT_GRAD = "fwd+bwd, input grad"  # forward+backward with only the input requiring grad (entries with several)
SIZES = ("small", "1e4", "medium", "1e6", "4e6", "large")  # the sweep, about 1e2 to 1e7 elements; medium is 1e5
BELOW_1E5 = ("small", "1e4")  # the sizes of the per-call targets; the others have the throughput targets


def _same(shape, names):
    return {n: shape for n in names}


def _class_shapes(n, c, probabilities=False):
    return {"input": (n, c), "target": (n, c) if probabilities else (n,)}


# (rows, columns) at 1e4, 1e5, 1e6 and 4e6 elements, the sweep's middle sizes of every 2-d entry
_SWEEP = {"1e4": (10, 1000), "medium": (100, 1000), "1e6": (1000, 1000), "4e6": (4000, 1000)}
ELEMENTWISE = {"small": (64,), **_SWEEP, "large": (1000, 10_000)}  # 1e7 elements
# logits (N, C): a batch of 32 x 10 classes, then 10, 256, 1024 and 4096 rows of 1000 classes, and 4096 x 32768
ROWS = {"small": (32, 10), "1e4": (10, 1000), "medium": (256, 1000), "1e6": (1024, 1000), "4e6": (4096, 1000),
        "large": (4096, 32_768)}
WIDE = {"small": (32, 10), **_SWEEP, "large": (1000, 10_000)}  # (N, C), 1e7 elements
VECTORS = {"small": (32, 10), **_SWEEP, "large": (10_000, 1000)}  # (N, D), 1e7 elements each


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
    _elementwise("mse_loss", f_mse, REGRESSION, optax=OPTAX_SQUARED),
    _elementwise("huber_loss", f_huber, REGRESSION, optax=OPTAX_HUBER),
    _elementwise("smooth_l1_loss", f_smooth_l1, REGRESSION, optax=OPTAX_SMOOTH_L1),
    Bench("cross_entropy/indices", "cross_entropy", CLASSES,
          {k: _class_shapes(*v) for k, v in ROWS.items()}, f_cross_entropy, ("input",), optax=OPTAX_CE),
    Bench("cross_entropy/probabilities", "cross_entropy", {"input": logits, "target": probabilities},
          {k: _class_shapes(*v, probabilities=True) for k, v in ROWS.items()}, f_cross_entropy_probs,
          ("input", "target"), optax=OPTAX_SOFTMAX_CE),
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
          options={"reduction": "batchmean"}, optax=OPTAX_KL,
          note="kl_div: reduction='batchmean' everywhere (torch warns at every 'mean'; optax's is per row)."),
    _elementwise("poisson_nll_loss", f_poisson_nll, {"input": positive, "target": counts}),
    _elementwise("gaussian_nll_loss", f_gaussian_nll, {"input": normal, "target": normal, "var": positive}),
    _elementwise("margin_ranking_loss", f_margin_ranking, {"input1": normal, "input2": normal, "target": signs}),
    _elementwise("hinge_embedding_loss", f_hinge_embedding, {"input": normal, "target": signs}, grads=("input",)),
    Bench("multi_margin_loss", "multi_margin_loss", {"input": normal, "target": class_indices("input", 1)},
          {k: _class_shapes(*v) for k, v in ROWS.items()}, f_multi_margin, ("input",)),
    Bench("multilabel_margin_loss", "multilabel_margin_loss", {"input": normal, "target": label_lists},
          {k: _same(v, ("input", "target")) for k, v in
           {"small": (32, 10), "1e4": (100, 100), "medium": (316, 316), "large": (1024, 256)}.items()},
          f_multilabel_margin, ("input",),
          note="multilabel_margin_loss, large: N=1024, C=256 (the NumPy and jnp formulas hold an (N, C, C) temporary: "
               "6.7e7 elements; N=C=1024 would be 1e9); not measured at 1e6 and 4e6 for the same reason."),
    Bench("cosine_embedding_loss", "cosine_embedding_loss", {"input1": normal, "input2": normal, "target": signs},
          {k: {"input1": v, "input2": v, "target": v[:1]} for k, v in VECTORS.items()},
          f_cosine_embedding, ("input1", "input2")),
    Bench("triplet_margin_loss", "triplet_margin_loss", {n: normal for n in VEC3},
          {k: _same(v, VEC3) for k, v in VECTORS.items()}, f_triplet, VEC3, optax=OPTAX_TRIPLET,
          note="triplet_margin_loss: optax adds eps inside the root (sqrt(sum(d^2) + eps)), torch to the "
               "difference (|d + eps|); otherwise the same loss."),
    Bench("triplet_margin_with_distance_loss", "triplet_margin_with_distance_loss", {n: normal for n in VEC3},
          {k: _same(v, VEC3) for k, v in VECTORS.items()}, f_triplet, VEC3),
    Bench("ctc_loss", "ctc_loss",
          {"log_probs": normal, "targets": ctc_targets, "input_lengths": full_length("log_probs", 0),
           "target_lengths": full_length("targets", 1)},
          {k: {"log_probs": (t, n, c), "targets": (n, s), "input_lengths": (n,), "target_lengths": (n,)}
           for k, (t, n, c, s) in {"small": (20, 2, 5, 4), "1e4": (50, 8, 25, 10), "medium": (50, 16, 32, 10),
                                   "1e6": (250, 32, 128, 50), "large": (500, 32, 64, 100)}.items()},
          f_ctc, ("log_probs",), through=("log_probs",), optax=optax_ctc,
          no_compile={"medium": "dynamo unrolls ours' Python loop over the T time steps: compiling the forward "
                                "at T=50 alone took about 110 s on 2 cores",
                      "1e6": "dynamo unrolls ours' Python loop over the T time steps (T=250)",
                      "large": "dynamo unrolls ours' Python loop over the T time steps (T=500); compiling the "
                               "forward at T=50 alone took about 110 s on 2 cores"},
          note="ctc_loss: logits (T, N, C) through log_softmax inside the timed function (the gradient is the "
               "logits'); full-length sequences, S = T/5 labels, blank 0; NumPy gets the log-probabilities; the "
               "large size has 1e6 logits (not measured at 4e6)."),
    Bench("linear_cross_entropy", "linear_cross_entropy",
          {"input": normal, "linear_weight": scaled_normal, "target": class_indices("linear_weight", 0)},
          {k: {"input": (n, h), "linear_weight": (v, h), "target": (n,)}
           for k, (n, h, v) in {"small": (32, 16, 10), "1e4": (10, 64, 1000), "medium": (256, 128, 1000),
                                "1e6": (1024, 256, 1000), "4e6": (4096, 256, 1000),
                                "large": (4096, 1024, 32_768)}.items()},
          f_linear_cross_entropy, ("input", "linear_weight"), optax=OPTAX_LINEAR_CE,
          note="linear_cross_entropy: peer torch.nn.functional.linear_cross_entropy with options=None "
               "(cross_entropy(linear(x, W), t)); the gradient is input's and linear_weight's."),
)
BY_NAME = {b.name: b for b in BENCHES}
QUICK = ("mse_loss", "huber_loss", "cross_entropy/indices", "binary_cross_entropy_with_logits",
         "triplet_margin_loss")


def ours_fn(bench):
    """The entry's function in agnostic_losses, or None where this checkout does not have it."""
    return getattr(al, bench.fn, None)
