"""Framework-neutral metrics code: an evaluation report with only NumPy installed.

    python examples/numpy_metrics.py

Evaluation and monitoring code often runs where no deep-learning framework is
installed (a batch job, a dashboard, a data-validation step), yet must report
the same numbers as the training code, which may run on torch or JAX.  The
metrics of :mod:`agnostic_losses.metrics` are scikit-learn's, with its names,
arguments and values, written against the array API, so the function below
runs on NumPy here and unchanged on torch, JAX or CuPy arrays elsewhere.  The
script checks that importing the library imported no framework, and, where
scikit-learn is installed, that every number equals scikit-learn's.
"""

from __future__ import annotations

import sys

import numpy as np

import agnostic_losses as al
from agnostic_losses import metrics

FRAMEWORKS = ("torch", "jax", "cupy", "dask", "sklearn")


def evaluation_report(metrics, y_true, y_pred, weights, labels, proba):
    """Regression and classification metrics of one evaluation run.  ``metrics`` is
    :mod:`agnostic_losses.metrics`, or ``sklearn.metrics`` itself: the names and arguments are the same."""
    return {
        "MAE": metrics.mean_absolute_error(y_true, y_pred, sample_weight=weights),
        "RMSE": metrics.root_mean_squared_error(y_true, y_pred, sample_weight=weights),
        "MAPE": metrics.mean_absolute_percentage_error(y_true, y_pred, sample_weight=weights),
        "R2": metrics.r2_score(y_true, y_pred, sample_weight=weights),
        "pinball(0.9)": metrics.mean_pinball_loss(y_true, y_pred, alpha=0.9, sample_weight=weights),
        "log loss": metrics.log_loss(labels, proba),
        "Brier": metrics.brier_score_loss(labels, proba[:, 1]),
    }


def main() -> int:
    imported = [name for name in FRAMEWORKS if name in sys.modules]
    print("frameworks imported by `import agnostic_losses`:", ", ".join(imported) or "none")
    rng = np.random.default_rng(0)
    y_true = rng.gamma(2.0, 2.0, size=200)
    y_pred = y_true + rng.normal(scale=0.5, size=200)
    weights = rng.uniform(0.5, 1.5, size=200)
    labels = rng.integers(0, 2, size=200)
    p1 = np.clip(0.5 + (labels - 0.5) * rng.uniform(0.0, 0.9, size=200), 0.01, 0.99)
    proba = np.stack([1.0 - p1, p1], axis=1)

    ours = {k: float(v) for k, v in evaluation_report(metrics, y_true, y_pred, weights, labels, proba).items()}
    for name, value in ours.items():
        print(f"{name:>13} {value:.6f}")
    ok = not imported
    try:
        from sklearn import metrics as sklearn_metrics  # the reference, not needed to run
    except ImportError:
        print("scikit-learn is not installed: no comparison (the metrics ran without it)")
    else:
        reference = evaluation_report(sklearn_metrics, y_true, y_pred, weights, labels, proba)
        worst = max(abs(ours[k] - reference[k]) / max(abs(reference[k]), 1e-300) for k in ours)
        print(f"largest relative difference from scikit-learn: {worst:.1e}")
        ok = ok and worst <= 1e-12
    print("ok" if ok else "FAILED", f"(agnostic_losses {al.__version__})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
