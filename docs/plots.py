"""Every loss's figure: its value and its gradient over one swept input, computed by the library itself.

    python docs/plots.py [--out DIR] [name ...]

For each public loss and metric, one element of one input array is swept
over a range while the other arrays stay fixed, and the figure draws the
loss (blue) and its derivative with respect to that element (orange); where
the loss has a parameter (Huber's ``delta``, a margin, focal's ``gamma``),
one curve per value.  The values are computed on NumPy; the values and the
gradients on torch (autograd, one call per point) and on JAX (``jax.vmap`` of
``jax.value_and_grad``, jitted), all in float64.  Before it draws, the script
checks that the three backends' values agree and that torch's and JAX's
gradients agree (kinks included), and raises otherwise: a plot is also a test.

The documentation build (``docs/hooks.py``) runs it; alone it writes one SVG
per loss into ``--out`` (default ``site-plots/``; ``--format png`` for PNG).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

import agnostic_losses as al

POINTS = 161
RTOL_VALUE = 1e-10  # float64: the backends run the same formula, so only rounding differs
RTOL_GRAD = 1e-8


@dataclasses.dataclass(frozen=True)
class Plot:
    """One figure: ``name`` (a public function, ``metrics.`` for metrics) called as ``fn(**arrays, **options)``
    with ``arrays[sweep][index] = x`` for ``x`` in ``[lo, hi]``; one curve per ``(label, options, arrays)`` of
    ``curves``, the curve's options and arrays added to (or replacing) the spec's."""

    name: str
    arrays: dict
    sweep: str
    index: tuple
    lo: float
    hi: float
    xlabel: str
    options: dict = dataclasses.field(default_factory=dict)
    curves: tuple = (("", {}, {}),)

    @property
    def function(self):
        obj = al
        for part in self.name.split("."):
            obj = getattr(obj, part)
        return obj

    def curve_arrays(self, curve) -> dict:
        return {k: np.asarray(v) for k, v in {**self.arrays, **curve[2]}.items()}

    def curve_options(self, curve) -> dict:
        return {**self.options, **curve[1]}


def _values(*params):
    """Curves over one option: ``_values("delta", 0.5, 1.0)`` -> ``(("delta=0.5", {"delta": 0.5}, {}), ...)``."""
    name, values = params[0], params[1:]
    return tuple((f"{name}={v}", {name: v}, {}) for v in values)


def _arrays(name, *values, label=None):
    """Curves over one array's value."""
    return tuple((f"{label or name}={np.asarray(v).tolist()}", {}, {name: v}) for v in values)


F, I = np.float64, np.int64
ZERO = np.array([0.0])
PROBS = (0.01, 0.99)
SPECS = [
    # regression: the prediction swept against a target of 0 (or 1)
    Plot("l1_loss", {"input": ZERO, "target": ZERO}, "input", (0,), -3, 3, "input (target 0)"),
    Plot("mse_loss", {"input": ZERO, "target": ZERO}, "input", (0,), -3, 3, "input (target 0)"),
    Plot("huber_loss", {"input": ZERO, "target": ZERO}, "input", (0,), -3, 3, "input (target 0)",
         curves=_values("delta", 0.5, 1.0, 2.0)),
    Plot("smooth_l1_loss", {"input": ZERO, "target": ZERO}, "input", (0,), -3, 3, "input (target 0)",
         curves=_values("beta", 0.5, 1.0, 2.0)),
    Plot("mape_loss", {"input": ZERO, "target": np.array([1.0])}, "input", (0,), -1, 3, "input (target 1)"),
    Plot("msle_loss", {"input": ZERO, "target": np.array([1.0])}, "input", (0,), -0.9, 5, "input (target 1)"),
    Plot("rmse_loss", {"input": np.array([0.0, 1.0]), "target": np.zeros(2)}, "input", (0,), -3, 3,
         "input[0] (input[1] = 1, targets 0)"),
    Plot("log_cosh_loss", {"input": ZERO, "target": ZERO}, "input", (0,), -3, 3, "input (target 0)"),
    Plot("pinball_loss", {"input": ZERO, "target": ZERO}, "input", (0,), -3, 3, "input (target 0)",
         curves=_values("quantile", 0.1, 0.5, 0.9)),
    # classification: the true class's logit swept, the others at 0
    Plot("cross_entropy", {"input": np.zeros((1, 3)), "target": np.array([0])}, "input", (0, 0), -4, 6,
         "logit of the target class (2 others at 0)", curves=_values("label_smoothing", 0.0, 0.1, 0.3)),
    Plot("nll_loss", {"input": np.zeros((1, 3)), "target": np.array([0])}, "input", (0, 0), -4, 0,
         "log-probability of the target class"),
    Plot("binary_cross_entropy", {"input": np.array([0.5]), "target": np.array([1.0])}, "input", (0,), *PROBS,
         "probability", curves=_arrays("target", [1.0], [0.7], [0.0])),
    Plot("binary_cross_entropy_with_logits", {"input": ZERO, "target": np.array([1.0])}, "input", (0,), -5, 5,
         "logit (target 1)", curves=_arrays("pos_weight", [1.0], [3.0])),
    Plot("multilabel_soft_margin_loss", {"input": np.zeros((1, 1)), "target": np.ones((1, 1))}, "input", (0, 0),
         -5, 5, "logit (target 1)"),
    Plot("soft_margin_loss", {"input": ZERO, "target": np.array([1.0])}, "input", (0,), -5, 5,
         "score (target 1)"),
    Plot("sigmoid_focal_loss", {"inputs": ZERO, "targets": np.array([1.0])}, "inputs", (0,), -5, 5,
         "logit (target 1)", options={"reduction": "mean"}, curves=_values("gamma", 0.0, 1.0, 2.0, 5.0)),
    Plot("focal_loss", {"pred": np.zeros((1, 2)), "target": np.array([0])}, "pred", (0, 0), -5, 5,
         "logit of the target class (the other at 0)", options={"alpha": 0.25, "reduction": "mean"},
         curves=_values("gamma", 0.0, 1.0, 2.0, 5.0)),
    Plot("poly_loss_cross_entropy", {"logits": np.zeros(3), "labels": np.array([1.0, 0.0, 0.0])}, "logits", (0,),
         -4, 6, "logit of the labelled class (2 others at 0)", curves=_values("epsilon", -1.0, 0.0, 2.0)),
    Plot("linear_cross_entropy", {"input": np.array([[0.0, 1.0]]), "linear_weight": np.array(
        [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.5]]), "target": np.array([0])}, "input", (0, 0), -4, 6,
         "feature 0 (feature 1 = 1; weights [[1, 0], [0, 1], [-1, 0.5]])", curves=_values("label_smoothing", 0.0, 0.2)),
    # probabilistic
    Plot("kl_div", {"input": np.log([0.5]), "target": np.array([0.5])}, "input", (0,), -5, 0,
         "log q (p = 0.5)", options={"reduction": "sum"}),
    Plot("poisson_nll_loss", {"input": ZERO, "target": np.array([2.0])}, "input", (0,), -2, 3,
         "log-rate (count 2)", curves=_values("full", False, True)),
    Plot("gaussian_nll_loss", {"input": ZERO, "target": ZERO, "var": np.array([1.0])}, "input", (0,), -3, 3,
         "mean (target 0)", curves=_arrays("var", [0.5], [1.0], [2.0])),
    Plot("jensen_shannon_divergence", {"p": np.array([[0.5, 0.3, 0.2]]), "q": np.array([[0.2, 0.3, 0.5]])}, "p",
         (0, 0), 0.01, 2.0, "p[0] (p[1:] = 0.3, 0.2; rows normalised; q = 0.2, 0.3, 0.5)"),
    # margins and embeddings
    Plot("margin_ranking_loss", {"input1": ZERO, "input2": ZERO, "target": np.array([1.0])}, "input1", (0,), -3, 3,
         "input1 (input2 = 0, target 1)", curves=_values("margin", 0.0, 0.5, 1.0)),
    Plot("hinge_embedding_loss", {"input": ZERO, "target": np.array([-1.0])}, "input", (0,), 0, 3,
         "distance (target -1)", curves=_values("margin", 1.0, 2.0)),
    Plot("multi_margin_loss", {"input": np.zeros((1, 3)), "target": np.array([0])}, "input", (0, 0), -3, 3,
         "score of the target class (2 others at 0)", curves=_values("p", 1, 2)),
    Plot("multilabel_margin_loss", {"input": np.zeros((1, 3)), "target": np.array([[0, -1, -1]])}, "input", (0, 0),
         -3, 3, "score of the one target class (2 others at 0)"),
    Plot("cosine_embedding_loss", {"input1": np.array([[0.0, 1.0]]), "input2": np.array([[1.0, 0.0]]),
                                   "target": np.array([1.0])}, "input1", (0, 0), -3, 3,
         "input1[0] (input1 = (x, 1), input2 = (1, 0))", options={"margin": 0.2},
         curves=_arrays("target", [1.0], [-1.0])),
    Plot("triplet_margin_loss", {"anchor": np.zeros((1, 2)), "positive": np.zeros((1, 2)),
                                 "negative": np.array([[1.0, 0.0]])}, "positive", (0, 0), -3, 3,
         "positive[0] (anchor 0, negative (1, 0))", curves=_values("margin", 0.5, 1.0, 2.0)),
    Plot("triplet_margin_with_distance_loss", {"anchor": np.zeros((1, 2)), "positive": np.zeros((1, 2)),
                                               "negative": np.array([[1.0, 0.0]])}, "positive", (0, 0), -3, 3,
         "positive[0] (anchor 0, negative (1, 0))", curves=_values("margin", 0.5, 1.0, 2.0)),
    Plot("pairwise_distance", {"x1": np.array([[0.0, 1.0]]), "x2": np.zeros((1, 2))}, "x1", (0, 0), -3, 3,
         "x1[0] (x1 = (x, 1), x2 = 0)", curves=_values("p", 1.0, 2.0, 3.0)),
    Plot("hinge_loss", {"predictor_outputs": ZERO, "targets": np.array([1.0])}, "predictor_outputs", (0,), -3, 3,
         "score (label 1)"),
    Plot("perceptron_loss", {"predictor_outputs": ZERO, "targets": np.array([1.0])}, "predictor_outputs", (0,),
         -3, 3, "score (label 1)"),
    Plot("sparsemax_loss", {"logits": ZERO, "labels": np.array([1.0])}, "logits", (0,), -3, 3, "logit (label 1)"),
    Plot("multiclass_hinge_loss", {"scores": np.zeros((1, 3)), "labels": np.array([0])}, "scores", (0, 0), -3, 3,
         "score of the labelled class (2 others at 0)"),
    Plot("multiclass_perceptron_loss", {"scores": np.zeros((1, 3)), "labels": np.array([0])}, "scores", (0, 0),
         -3, 3, "score of the labelled class (2 others at 0)"),
    Plot("multiclass_sparsemax_loss", {"scores": np.zeros((1, 3)), "labels": np.array([0])}, "scores", (0, 0),
         -3, 3, "score of the labelled class (2 others at 0)"),
    Plot("cosine_distance", {"predictions": np.array([0.0, 1.0]), "targets": np.array([1.0, 0.0])}, "predictions",
         (0,), -3, 3, "predictions[0] (predictions = (x, 1), targets (1, 0))"),
    Plot("ntxent", {"embeddings": np.array([[0.0, 1.0], [1.0, 0.2], [-1.0, 0.5], [0.3, -1.0]]),
                    "labels": np.array([0, 0, 1, 1])}, "embeddings", (0, 0), -3, 3,
         "embeddings[0][0] (4 embeddings, 2 pairs)", curves=_values("temperature", 0.1, 0.5, 1.0)),
    # sequences: the log-probability of the label at the middle step
    Plot("ctc_loss", {"log_probs": np.log(np.full((3, 1, 2), 0.5)), "targets": np.array([[1]]),
                      "input_lengths": np.array([3]), "target_lengths": np.array([1])}, "log_probs", (1, 0, 1),
         -6, 0, "log-probability of the label at step 2 of 3 (the rest 0.5)", options={"reduction": "sum"}),
    # boxes: the left edge of a predicted box against the unit box
    *(Plot(name, {"boxes1": np.array([[0.0, 0.0, 2.0, 1.0]]), "boxes2": np.array([[0.0, 0.0, 1.0, 1.0]])},
           "boxes1", (0, 0), -3, 1.8, "x1 of (x1, 0, 2, 1) against the box (0, 0, 1, 1)",
           options={"reduction": "mean"})
      for name in ("generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss")),
    # segmentation: one predicted probability of a 3-pixel mask
    Plot("dice_loss", {"input": np.array([[[0.5, 0.2, 0.9]]]), "target": np.array([[[1.0, 0.0, 1.0]]])}, "input",
         (0, 0, 0), 0, 1, "p at a foreground pixel (p = (x, 0.2, 0.9), mask (1, 0, 1))",
         curves=(("Dice", {}, {}), ("Jaccard", {"jaccard": True}, {}), ("squared_pred", {"squared_pred": True}, {}))),
    Plot("tversky_loss", {"input": np.array([[[0.5, 0.2, 0.9]]]), "target": np.array([[[1.0, 0.0, 1.0]]])},
         "input", (0, 0, 0), 0, 1, "p at a foreground pixel (p = (x, 0.2, 0.9), mask (1, 0, 1))",
         curves=tuple((f"alpha={a}, beta={b}", {"alpha": a, "beta": b}, {}) for a, b in ((0.3, 0.7), (0.5, 0.5),
                                                                                       (0.7, 0.3)))),
    Plot("generalized_dice_loss", {"input": np.array([[[0.5, 0.2, 0.9], [0.5, 0.8, 0.1]]]),
                                   "target": np.array([[[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]])}, "input", (0, 0, 0),
         0, 1, "p of class 0 at its first pixel (2 classes, 3 pixels)", curves=_values("w_type", "square", "simple",
                                                                                       "uniform")),
    # metrics: the first prediction swept, the others fixed
    *(Plot(f"metrics.{name}", {"y_true": np.array([0.0, 1.0, 2.0]), "y_pred": np.array([0.0, 1.5, 1.8])}, "y_pred",
           (0,), -3, 3, "y_pred[0] (y_true = 0, 1, 2; y_pred[1:] = 1.5, 1.8)")
      for name in ("mean_absolute_error", "mean_squared_error", "root_mean_squared_error", "median_absolute_error",
                   "max_error", "r2_score", "explained_variance_score")),
    Plot("metrics.mean_pinball_loss", {"y_true": np.array([0.0, 1.0, 2.0]), "y_pred": np.array([0.0, 1.5, 1.8])},
         "y_pred", (0,), -3, 3, "y_pred[0] (y_true = 0, 1, 2)", curves=_values("alpha", 0.1, 0.5, 0.9)),
    *(Plot(f"metrics.{name}", {"y_true": np.array([1.0, 1.0, 2.0]), "y_pred": np.array([1.0, 1.5, 1.8])}, "y_pred",
           (0,), 0.25, 4, "y_pred[0] (y_true = 1, 1, 2)")
      for name in ("mean_squared_log_error", "root_mean_squared_log_error", "mean_absolute_percentage_error",
                   "mean_poisson_deviance", "mean_gamma_deviance")),
    Plot("metrics.mean_tweedie_deviance", {"y_true": np.array([1.0, 1.0, 2.0]), "y_pred": np.array([1.0, 1.5, 1.8])},
         "y_pred", (0,), 0.25, 4, "y_pred[0] (y_true = 1, 1, 2)", curves=_values("power", 0, 1, 1.5, 2, 3)),
    Plot("metrics.log_loss", {"y_true": np.array([1, 0]), "y_proba": np.array([0.5, 0.2])}, "y_proba", (0,), *PROBS,
         "probability of class 1 for a positive (the negative's 0.2)"),
    Plot("metrics.brier_score_loss", {"y_true": np.array([1, 0]), "y_proba": np.array([0.5, 0.2])}, "y_proba", (0,),
         0, 1, "probability of class 1 for a positive (the negative's 0.2)"),
    Plot("metrics.hinge_loss", {"y_true": np.array([1, -1]), "pred_decision": np.array([0.0, -0.5])},
         "pred_decision", (0,), -3, 3, "decision of a positive (the negative's -0.5)"),
    Plot("metrics.crps_normal", {"obs": ZERO, "mu": ZERO, "sigma": np.array([1.0])}, "mu", (0,), -3, 3,
         "forecast mean (observation 0)", curves=_arrays("sigma", [0.5], [1.0], [2.0])),
    Plot("metrics.crps_ensemble", {"obs": ZERO, "fct": np.array([[0.0, -0.5, 0.5]])}, "fct", (0, 0), -3, 3,
         "one ensemble member (the others -0.5, 0.5; observation 0)"),
]


def _torch_curve(spec, curve, xs):
    import torch

    fn, options = spec.function, spec.curve_options(curve)
    values, grads = [], []
    for x in xs:
        arrays = {k: torch.tensor(v) for k, v in spec.curve_arrays(curve).items()}
        swept = arrays[spec.sweep].clone()
        swept[spec.index] = float(x)
        arrays[spec.sweep] = swept.requires_grad_(True)
        out = fn(**arrays, **options).sum()
        (g,) = torch.autograd.grad(out, swept)
        values.append(out.item())
        grads.append(g[spec.index].item())
    return np.array(values), np.array(grads)


def _jax_curve(spec, curve, xs):
    import jax

    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    fn, options = spec.function, spec.curve_options(curve)
    arrays = {k: jnp.asarray(v) for k, v in spec.curve_arrays(curve).items()}

    def loss_at(x):
        swept = arrays[spec.sweep].at[spec.index].set(x)
        return jnp.sum(fn(**{**arrays, spec.sweep: swept}, **options))

    values, grads = jax.jit(jax.vmap(jax.value_and_grad(loss_at)))(jnp.asarray(xs))
    return np.asarray(values), np.asarray(grads)


def _numpy_curve(spec, curve, xs):
    fn, options = spec.function, spec.curve_options(curve)
    values = []
    for x in xs:
        arrays = spec.curve_arrays(curve)
        arrays[spec.sweep] = arrays[spec.sweep].astype(np.float64)  # a copy: the spec's arrays stay as they are
        arrays[spec.sweep][spec.index] = x
        values.append(float(np.sum(fn(**arrays, **options))))
    return np.array(values)


def _agree(a, b, rtol, what):
    both_nan = np.isnan(a) & np.isnan(b)
    close = np.isclose(a, b, rtol=rtol, atol=rtol) | both_nan
    if not close.all():
        i = int(np.argmin(close))
        raise AssertionError(f"{what}: the backends disagree at point {i}: {a[i]!r} vs {b[i]!r}")


def curves(spec: Plot):
    """``[(label, xs, value, gradient)]``, after checking that NumPy, torch and JAX agree."""
    xs = np.linspace(spec.lo, spec.hi, POINTS)
    out = []
    with np.errstate(all="ignore"):
        for curve in spec.curves:
            label = f"{spec.name}{' ' + curve[0] if curve[0] else ''}"
            v_np = _numpy_curve(spec, curve, xs)
            v_t, g_t = _torch_curve(spec, curve, xs)
            v_j, g_j = _jax_curve(spec, curve, xs)
            _agree(v_t, v_np, RTOL_VALUE, f"{label}: value, torch vs NumPy")
            _agree(v_j, v_np, RTOL_VALUE, f"{label}: value, JAX vs NumPy")
            _agree(g_j, g_t, RTOL_GRAD, f"{label}: gradient, JAX vs torch")
            if not np.isfinite(v_np).any():
                raise AssertionError(f"{label}: no finite value over [{spec.lo}, {spec.hi}]")
            out.append((curve[0], xs, v_np, g_t))
    return out


def draw(spec: Plot, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "none"  # text as text: small files that follow the page's font
    plt.rcParams["svg.hashsalt"] = "agnostic-losses"  # the same figure gives the same file
    fig, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
    styles = ["-", "--", ":", "-.", (0, (6, 2, 1, 2, 1, 2)), (0, (1, 4))]
    if len(spec.curves) > len(styles):
        raise ValueError(f"{spec.name}: {len(spec.curves)} curves, but only {len(styles)} line styles to tell them apart")
    for k, (label, xs, value, grad) in enumerate(curves(spec)):
        style = styles[k % len(styles)]
        suffix = f" ({label})" if label else ""
        ax.plot(xs, value, linestyle=style, color="tab:blue", lw=2, label=f"loss{suffix}")
        ax.plot(xs, grad, linestyle=style, color="tab:orange", lw=1.6, label=f"gradient{suffix}")
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel(spec.xlabel)
    ax.set_title(spec.name, family="monospace")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", ncols=2 if len(spec.curves) > 1 else 1)
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)


def file_name(name: str, suffix: str = "svg") -> str:
    return f"{name.replace('.', '-')}.{suffix}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="site-plots", type=Path)
    parser.add_argument("--format", default="svg", choices=("svg", "png"))
    parser.add_argument("names", nargs="*", help="only these (default: every loss and metric)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    chosen = [s for s in SPECS if not args.names or s.name in args.names]
    for spec in chosen:
        draw(spec, args.out / file_name(spec.name, args.format))
        print(f"{spec.name}: {len(spec.curves)} curve(s), NumPy, torch and JAX agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
