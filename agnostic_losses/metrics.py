"""scikit-learn's regression and probabilistic classification metrics on every backend: the same names, arguments
and values, differentiable.

Each function has the name, the arguments (``y_true, y_pred``; ``y_true,
y_proba`` for :func:`log_loss` and :func:`brier_score_loss`; ``y_true,
pred_decision`` for :func:`hinge_loss`; keyword-only options) and the defaults of ``sklearn.metrics`` 1.9 and computes what it
computes, but returns an array of ``y_pred``'s library, dtype and device (0-d,
or 1-D for ``multioutput='raw_values'``) instead of a Python float, imports no
framework, is differentiable in ``y_pred`` through autodiff on torch and JAX
(at a kink with this library's convention, the subgradient 0 of ``|d|``), and
traces under ``jax.jit``, ``jax.vmap`` and ``torch.compile``.  float16 and
bfloat16 are computed in float32.

Examples:
    >>> import numpy as np
    >>> from agnostic_losses import metrics
    >>> y_true, y_pred = np.array([[0.5, 1.0], [-1.0, 1.0], [7.0, -6.0]]), np.array([[0.0, 2.0], [-1.0, 2.0], [8.0, -5.0]])
    >>> float(metrics.mean_absolute_error(y_true, y_pred))  # sklearn's docstring example: 0.75
    0.75
    >>> metrics.mean_absolute_error(y_true, y_pred, multioutput="raw_values").tolist()
    [0.5, 1.0]

Conventions shared by the regression metrics (scikit-learn's ``_check_reg_targets``):
``y_true`` and ``y_pred`` of shape ``(n_samples,)`` or ``(n_samples,
n_outputs)`` (the same); ``sample_weight`` of shape ``(n_samples,)``, weighting
the mean over samples; ``multioutput`` 'raw_values' (one value per output),
'uniform_average' (their mean) or an array of ``n_outputs`` weights (their
weighted mean).  An integer ``y_true`` is taken in ``y_pred``'s dtype; an
integer ``y_pred`` in float64 (as scikit-learn computes it; float32 where the
library has no float64: JAX without x64).  Where the data can be read (see
``value_checks``), they must be finite, and weights must not sum to 0, as
scikit-learn's checks say.  float16 and bfloat16 are computed in float32
(scikit-learn computes float16 in float16, so an overflow there is not ours).

The classification metrics take ``y_true`` as labels (numbers or strings, an
array of any library or a sequence, as scikit-learn's) and find the classes on
the host as scikit-learn's ``LabelBinarizer`` does: ``y_true`` is read (from a
GPU too) whatever ``value_checks`` says, and where it cannot be (under
``jax.jit``, ``jax.vmap``, ``torch.compile``, or a lazy Dask array) ``labels``
(or ``pos_label``) must name the classes, and ``y_true`` must be an array of
the prediction's library.  Only the prediction is differentiable.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

from . import _checks as checks
from . import _primitives as P
from ._crps import crps_ensemble, crps_normal
from ._docs import with_args
from ._primitives._numerics import nonzero_root
from ._setup import setup, silent_nonfinite
from ._typing import Array

__all__ = [
    "mean_absolute_error", "mean_squared_error", "root_mean_squared_error", "mean_squared_log_error",
    "root_mean_squared_log_error", "mean_absolute_percentage_error", "median_absolute_error", "max_error",
    "mean_pinball_loss", "r2_score", "explained_variance_score", "mean_tweedie_deviance", "mean_poisson_deviance",
    "mean_gamma_deviance",
    "log_loss", "brier_score_loss", "hinge_loss",
    "crps_normal", "crps_ensemble",
]

# The regression metrics' shared arguments (the conventions above), in each one's Args section.
_REGRESSION_ARGS = {
    "y_true": "the true values, ``(n_samples,)`` or ``(n_samples, n_outputs)``; an integer array is taken in "
              "``y_pred``'s dtype.",
    "y_pred": "the predictions, of ``y_true``'s shape; differentiable.",
    "sample_weight": "optional weights of the samples, ``(n_samples,)``, in the mean over samples.",
    "multioutput": "``'raw_values'`` (one value per output), ``'uniform_average'`` (their mean) or ``n_outputs`` "
                   "weights (their weighted mean).",
}
_LABELS = "``(n_samples,)`` labels (numbers or strings; an array of any library, or a sequence)."
_ONE_OUTPUT = {
    "y_true": "the true values, ``(n_samples,)`` (one output only).",
    "y_pred": "the predictions, ``(n_samples,)``; differentiable.",
}

_MULTIOUTPUT = ("raw_values", "uniform_average")
_SCORES_MULTIOUTPUT = (*_MULTIOUTPUT, "variance_weighted")  # r2_score's and explained_variance_score's
_EPSILON = 2.220446049250313e-16  # float64's eps: scikit-learn's MAPE denominator floor, whatever the dtype


class _Targets:
    """What ``_targets`` found: ``xp``, ``y_true`` and ``y_pred`` as ``(n_samples, n_outputs)``, ``sample_weight``,
    ``multioutput`` (a string, or an array of the outputs' weights) and the ``Setup`` (``finish``)."""

    __slots__ = ("xp", "y_true", "y_pred", "sample_weight", "multioutput", "setup")

    def __init__(self, xp, y_true, y_pred, sample_weight, multioutput, s):
        self.xp, self.y_true, self.y_pred, self.sample_weight = xp, y_true, y_pred, sample_weight
        self.multioutput, self.setup = multioutput, s


def _targets(metric, y_true, y_pred, sample_weight=None, multioutput="uniform_average", allowed=_MULTIOUTPUT,
             one_output=False) -> _Targets:
    """scikit-learn's checks of a regression metric's arguments (``_check_reg_targets``), as this library's errors."""
    if P.is_array(y_pred):
        xp = P.array_namespace(y_pred)
        if xp.isdtype(y_pred.dtype, ("integral", "bool")):  # scikit-learn computes integers in float64
            wide = P.wide_float(y_pred)  # the integer dtype itself where the library has no float64 (JAX, no x64)
            y_pred = xp.astype(y_pred, wide if xp.isdtype(wide, "real floating") else xp.float32)
    s = setup(metric, "none", {"y_pred": y_pred, "y_true": y_true, "sample_weight": sample_weight},
              targets=("y_true", "sample_weight"), result=("y_pred",))
    xp = s.xp
    y_pred, y_true, sample_weight = s.arrays
    for name, a in (("y_true", y_true), ("y_pred", y_pred)):
        if a.ndim not in (1, 2):
            raise ValueError(f"{metric}: {name} must have shape (n_samples,) or (n_samples, n_outputs), "
                             f"got {tuple(a.shape)}")
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(f"{metric}: y_true and y_pred must have the same number of samples, got "
                         f"{y_true.shape[0]} and {y_pred.shape[0]}")
    y_true = y_true if y_true.ndim == 2 else xp.reshape(y_true, (-1, 1))
    y_pred = y_pred if y_pred.ndim == 2 else xp.reshape(y_pred, (-1, 1))
    if y_true.shape[1] != y_pred.shape[1]:
        raise ValueError(f"{metric}: y_true and y_pred must have the same number of outputs, got "
                         f"{y_true.shape[1]} and {y_pred.shape[1]}")
    if sample_weight is not None and tuple(sample_weight.shape) != (y_true.shape[0],):
        raise ValueError(f"{metric}: sample_weight must have shape ({y_true.shape[0]},) (one weight per sample), "
                         f"got {tuple(sample_weight.shape)}")
    if y_true.shape[0] == 0:
        raise ValueError(f"{metric}: y_true and y_pred must hold at least one sample, got 0")
    for name, a in (("y_true", y_true), ("y_pred", y_pred), ("sample_weight", sample_weight)):
        if a is not None:
            checks.values(metric, name, a, _finite, "finite values (scikit-learn refuses NaN and inf)")
    _not_zero_sum(metric, "sample_weight", sample_weight)
    outputs = y_true.shape[1]
    if one_output and outputs != 1:
        raise ValueError(f"{metric}: multioutput targets are not supported (scikit-learn's neither), got "
                         f"{outputs} outputs")
    if isinstance(multioutput, str):
        if multioutput not in allowed:
            raise ValueError(f"{metric}: multioutput must be one of {', '.join(map(repr, allowed))} or an array "
                             f"of output weights, got {multioutput!r}")
    else:
        multioutput = _output_weights(metric, xp, multioutput, outputs, y_pred)
    return _Targets(xp, y_true, y_pred, sample_weight, multioutput, s)


def _output_weights(metric, xp, weights, outputs, like):
    """``multioutput`` given as weights (an array of ``like``'s library, or a sequence of numbers) as an array."""
    if P.is_array(weights):
        checks.namespace(metric, y_pred=like, multioutput=weights)
        weights = xp.astype(weights, like.dtype)
    elif isinstance(weights, (list, tuple)) and all(isinstance(w, numbers.Real) for w in weights):
        weights = xp.asarray([float(w) for w in weights], dtype=like.dtype, device=P.device(like))
    else:
        raise TypeError(f"{metric}: multioutput must be a string or an array of output weights, got "
                        f"{type(weights).__name__}")
    if outputs == 1:
        raise ValueError(f"{metric}: multioutput weights are useful only with several outputs (scikit-learn's "
                         "error), got one output")
    if tuple(weights.shape) != (outputs,):
        raise ValueError(f"{metric}: multioutput must hold one weight per output ({outputs}), got shape "
                         f"{tuple(weights.shape)}")
    _not_zero_sum(metric, "multioutput", weights)
    return weights


def _finite(v):
    """Of the host data (NumPy): neither NaN nor infinite, without importing NumPy here."""
    return (v == v) & (abs(v) != math.inf)


def _not_zero_sum(metric, name, weights):
    """Where the data can be read, ``weights`` do not sum to 0 (a weighted mean of nothing: scikit-learn's error)."""
    v = None if weights is None else P.host_values(weights)
    if v is not None and v.sum() == 0:
        raise ValueError(f"{metric}: {name} must not sum to 0 (the weights of a mean), got {v.reshape(-1)[:5].tolist()}"
                         f"{' ...' if v.size > 5 else ''}")


def _sample_mean(xp, a, sample_weight):
    """The mean over samples (axis 0) of ``a``, weighted by ``sample_weight``: one value per output."""
    if sample_weight is None:
        return xp.mean(a, axis=0)
    return P.divide(xp.sum(a * sample_weight[:, None], axis=0), xp.sum(sample_weight))


def _over_outputs(t: _Targets, errors, weights=None):
    """``errors`` (one per output) as the metric's result: themselves ('raw_values'), their mean, or their mean
    weighted by ``multioutput`` (or by ``weights``, where the metric chooses them)."""
    xp = t.xp
    if isinstance(t.multioutput, str):
        if t.multioutput == "raw_values":
            return t.setup.finish(errors)
        if weights is None:
            return t.setup.finish(xp.mean(errors))
    else:
        weights = t.multioutput
    return t.setup.finish(P.divide(xp.sum(errors * weights), xp.sum(weights)))


def _constant(xp, value, like):
    """``value`` as a 0-d array of ``like``'s dtype and device (torch.compile traces no Python scalar there)."""
    return xp.asarray(value, dtype=like.dtype, device=P.device(like))


def _above(metric, name, a, bound):
    """Where the data can be read, no value of ``a`` is ``<= bound`` (NaN passes, as scikit-learn's test)."""
    checks.values(metric, name, a, lambda v: ~(v <= bound), f"values > {bound}")


@silent_nonfinite
@with_args(_REGRESSION_ARGS)
def mean_absolute_error(y_true: Array, y_pred: Array, *, sample_weight: Array | None = None,
                        multioutput: str | Array | Sequence[float] = "uniform_average") -> Array:
    """Mean absolute error, ``mean(|y_pred - y_true|)`` over samples, as ``sklearn.metrics.mean_absolute_error``.

    The gradient at ``y_pred == y_true`` is 0 (torch's convention).

    Examples:
        >>> import numpy as np
        >>> float(mean_absolute_error(np.array([3.0, -0.5, 2, 7]), np.array([2.5, 0.0, 2, 8])))
        0.5
    """
    t = _targets("mean_absolute_error", y_true, y_pred, sample_weight, multioutput)
    return _over_outputs(t, _sample_mean(t.xp, P.abs(t.y_pred - t.y_true), t.sample_weight))


def _squared_errors(t: _Targets):
    d = t.y_true - t.y_pred
    return _sample_mean(t.xp, d * d, t.sample_weight)


@silent_nonfinite
@with_args(_REGRESSION_ARGS)
def mean_squared_error(y_true: Array, y_pred: Array, *, sample_weight: Array | None = None,
                       multioutput: str | Array | Sequence[float] = "uniform_average") -> Array:
    """Mean squared error, ``mean((y_true - y_pred)^2)`` over samples, as ``sklearn.metrics.mean_squared_error``.

    Examples:
        >>> import numpy as np
        >>> float(mean_squared_error(np.array([3.0, -0.5, 2, 7]), np.array([2.5, 0.0, 2, 8])))
        0.375
    """
    t = _targets("mean_squared_error", y_true, y_pred, sample_weight, multioutput)
    return _over_outputs(t, _squared_errors(t))


@silent_nonfinite
@with_args(_REGRESSION_ARGS)
def root_mean_squared_error(y_true: Array, y_pred: Array, *, sample_weight: Array | None = None,
                            multioutput: str | Array | Sequence[float] = "uniform_average") -> Array:
    """Root mean squared error, ``sqrt(mean((y_true - y_pred)^2))`` per output (then averaged over outputs), as
    ``sklearn.metrics.root_mean_squared_error``.

    Its gradient at zero error is 0, not NaN.

    Examples:
        >>> import numpy as np
        >>> round(float(root_mean_squared_error(np.array([3.0, -0.5, 2, 7]), np.array([2.5, 0.0, 2, 8]))), 6)
        0.612372
    """
    t = _targets("root_mean_squared_error", y_true, y_pred, sample_weight, multioutput)
    return _over_outputs(t, nonzero_root(_squared_errors(t), t.xp.sqrt))


def _log1p_targets(metric, y_true, y_pred, sample_weight, multioutput) -> _Targets:
    t = _targets(metric, y_true, y_pred, sample_weight, multioutput)
    _above(metric, "y_true", t.y_true, -1)
    _above(metric, "y_pred", t.y_pred, -1)
    t.y_true, t.y_pred = t.xp.log1p(t.y_true), t.xp.log1p(t.y_pred)
    return t


@silent_nonfinite
@with_args(_REGRESSION_ARGS)
def mean_squared_log_error(y_true: Array, y_pred: Array, *, sample_weight: Array | None = None,
                           multioutput: str | Array | Sequence[float] = "uniform_average") -> Array:
    """Mean squared logarithmic error, ``mean((log(1 + y_true) - log(1 + y_pred))^2)``, as
    ``sklearn.metrics.mean_squared_log_error``.

    Values ``<= -1`` are a ``ValueError`` where the data can be read (see
    ``value_checks``), as scikit-learn's.

    Examples:
        >>> import numpy as np
        >>> round(float(mean_squared_log_error(np.array([3.0, 5, 2.5, 7]), np.array([2.5, 5, 4, 8]))), 6)
        0.03973
    """
    t = _log1p_targets("mean_squared_log_error", y_true, y_pred, sample_weight, multioutput)
    return _over_outputs(t, _squared_errors(t))


@silent_nonfinite
@with_args(_REGRESSION_ARGS)
def root_mean_squared_log_error(y_true: Array, y_pred: Array, *, sample_weight: Array | None = None,
                                multioutput: str | Array | Sequence[float] = "uniform_average") -> Array:
    """Root mean squared logarithmic error, the square root of :func:`mean_squared_log_error` per output, as
    ``sklearn.metrics.root_mean_squared_log_error``; gradient 0 at zero error.

    Examples:
        >>> import numpy as np
        >>> round(float(root_mean_squared_log_error(np.array([3.0, 5, 2.5, 7]), np.array([2.5, 5, 4, 8]))), 6)
        0.199324
    """
    t = _log1p_targets("root_mean_squared_log_error", y_true, y_pred, sample_weight, multioutput)
    return _over_outputs(t, nonzero_root(_squared_errors(t), t.xp.sqrt))


@silent_nonfinite
@with_args(_REGRESSION_ARGS)
def mean_absolute_percentage_error(y_true: Array, y_pred: Array, *, sample_weight: Array | None = None,
                                   multioutput: str | Array | Sequence[float] = "uniform_average") -> Array:
    """Mean absolute percentage error, ``mean(|y_pred - y_true| / max(|y_true|, eps))`` with float64's ``eps``, as
    ``sklearn.metrics.mean_absolute_percentage_error`` (a fraction, not a percentage: 0.1 is 10%).

    Examples:
        >>> import numpy as np
        >>> round(float(mean_absolute_percentage_error(np.array([3.0, -0.5, 2, 7]), np.array([2.5, 0.0, 2, 8]))), 6)
        0.327381
    """
    t = _targets("mean_absolute_percentage_error", y_true, y_pred, sample_weight, multioutput)
    xp = t.xp
    relative = P.abs(t.y_pred - t.y_true) / xp.maximum(xp.abs(t.y_true), _constant(xp, _EPSILON, t.y_true))
    return _over_outputs(t, _sample_mean(xp, relative, t.sample_weight))


@silent_nonfinite
@with_args(_REGRESSION_ARGS, sample_weight="optional weights of the samples, ``(n_samples,)``: the "
           "weighted median above.")
def median_absolute_error(y_true: Array, y_pred: Array, *,
                          multioutput: str | Array | Sequence[float] = "uniform_average",
                          sample_weight: Array | None = None) -> Array:
    """Median absolute error, the median over samples of ``|y_pred - y_true|``, as
    ``sklearn.metrics.median_absolute_error``.

    With ``sample_weight``, the weighted median of scikit-learn's
    ``_weighted_percentile(..., average=True)`` (NumPy's 'averaged_inverted_cdf'
    method): the smallest error whose cumulative weight reaches half the total,
    averaged with the next error that carries weight where the cumulative weight
    meets the half exactly (within the dtype's eps); a next error of weight 0 is
    passed over, as scikit-learn passes it.  The gradient reaches the
    one or two errors the median is taken from (of tied errors, the first in
    the samples' order), and is 0 at a zero error.

    Examples:
        >>> import numpy as np
        >>> float(median_absolute_error(np.array([3.0, -0.5, 2, 7]), np.array([2.5, 0.0, 2, 8])))
        0.5
    """
    t = _targets("median_absolute_error", y_true, y_pred, sample_weight, multioutput)
    xp = t.xp
    errors, order = P.sort(P.abs(t.y_pred - t.y_true), axis=0)
    n = errors.shape[0]
    if t.sample_weight is None:
        return _over_outputs(t, (errors[(n - 1) // 2, :] + errors[n // 2, :]) / 2)
    weights = P.take_along_axis(xp.broadcast_to(t.sample_weight[:, None], errors.shape), order, axis=0)
    cdf = P.cumulative_sum(weights, axis=0)
    half = cdf[-1:, :] / 2
    # the first sorted error whose cumulative weight reaches the half
    at = xp.clip(xp.sum(P.wide_indices(cdf < half), axis=0, keepdims=True), 0, n - 1)
    cdf_at = P.take_along_axis(cdf, at, axis=0)
    # the next error, unless it weighs 0: then the first whose cumulative weight rises (itself where none does)
    plus = xp.clip(at + 1, 0, n - 1)
    rise = xp.sum(P.wide_indices(cdf <= cdf_at), axis=0, keepdims=True)
    after = xp.where(P.take_along_axis(weights, plus, axis=0) != 0, plus, xp.where(rise > n - 1, at, rise))
    low, high = P.take_along_axis(errors, at, axis=0), P.take_along_axis(errors, after, axis=0)
    median = xp.where(cdf_at - half > xp.finfo(errors.dtype).eps, low, (low + high) / 2)
    return _over_outputs(t, median[0, :])


@silent_nonfinite
@with_args(_ONE_OUTPUT)
def max_error(y_true: Array, y_pred: Array) -> Array:
    """The largest absolute error, ``max(|y_true - y_pred|)``, as ``sklearn.metrics.max_error`` (one output only).

    Its gradient is shared equally by the elements that reach the maximum (as ``torch.amax``'s and JAX's).

    Examples:
        >>> import numpy as np
        >>> float(max_error(np.array([3.0, 2, 7, 1]), np.array([4.0, 2, 7, 1])))
        1.0
    """
    t = _targets("max_error", y_true, y_pred, one_output=True)
    return t.setup.finish(t.xp.max(P.abs(t.y_true - t.y_pred)))


@silent_nonfinite
@with_args(_REGRESSION_ARGS, alpha="the quantile, in [0, 1].")
def mean_pinball_loss(y_true: Array, y_pred: Array, *, sample_weight: Array | None = None, alpha: float = 0.5,
                      multioutput: str | Array | Sequence[float] = "uniform_average") -> Array:
    """Pinball (quantile) loss, ``alpha d`` where ``d = y_true - y_pred >= 0``, else ``(alpha - 1) d``, averaged,
    as ``sklearn.metrics.mean_pinball_loss``.

    At ``d == 0`` the gradient in ``y_pred`` is ``-alpha`` (scikit-learn's formula's: the first branch).

    Examples:
        >>> import numpy as np
        >>> float(mean_pinball_loss(np.array([1.0, 2, 3]), np.array([0.0, 2, 3]), alpha=0.1))
        0.03333333333333333
    """
    checks.option_in("mean_pinball_loss", "alpha", alpha, 0.0, 1.0)
    t = _targets("mean_pinball_loss", y_true, y_pred, sample_weight, multioutput)
    xp = t.xp
    d = t.y_true - t.y_pred
    loss = xp.where(d >= 0, alpha * d, (alpha - 1.0) * d)
    return _over_outputs(t, _sample_mean(xp, loss, t.sample_weight))


def _fraction_explained(t: _Targets, numerator, denominator, force_finite):
    """``1 - numerator / denominator`` per output, and scikit-learn's rules: with ``force_finite``, 1 where the
    numerator is 0 (a perfect prediction) and 0 where only the denominator is (a constant ``y_true``); averaged
    over the outputs as ``multioutput`` says ('variance_weighted': by the denominators, uniformly where all are 0)."""
    xp = t.xp
    nonzero = denominator != 0
    if not force_finite:
        scores = 1 - numerator / denominator
    else:
        safe = xp.where(nonzero, denominator, xp.ones_like(denominator))  # no 0 / 0 in the untaken branch
        scores = xp.where(numerator != 0, xp.where(nonzero, 1 - numerator / safe, xp.zeros_like(numerator)),
                          xp.ones_like(numerator))
    weights = None
    if isinstance(t.multioutput, str) and t.multioutput == "variance_weighted":
        weights = xp.where(xp.any(nonzero), denominator, xp.ones_like(denominator))
    return _over_outputs(t, scores, weights)


@silent_nonfinite
@with_args(
    _REGRESSION_ARGS,
    multioutput=_REGRESSION_ARGS["multioutput"] + " Also ``'variance_weighted'``: the outputs weighted by the "
                "variance of ``y_true``.",
    force_finite="a constant ``y_true`` scores 1 if predicted exactly, else 0 (not NaN or -inf).")
def r2_score(y_true: Array, y_pred: Array, *, sample_weight: Array | None = None,
             multioutput: str | Array | Sequence[float] = "uniform_average", force_finite: bool = True) -> Array:
    """The coefficient of determination, ``1 - sum(w (y_true - y_pred)^2) / sum(w (y_true - mean_w(y_true))^2)``
    per output, as ``sklearn.metrics.r2_score``.

    Fewer than two samples: NaN and a warning, as scikit-learn's.

    Examples:
        >>> import numpy as np
        >>> round(float(r2_score(np.array([3.0, -0.5, 2, 7]), np.array([2.5, 0.0, 2, 8]))), 6)
        0.948608
    """
    multioutput = "uniform_average" if multioutput is None else multioutput  # scikit-learn 1.9 still takes None
    checks.boolean("r2_score", "force_finite", force_finite)
    t = _targets("r2_score", y_true, y_pred, sample_weight, multioutput, allowed=_SCORES_MULTIOUTPUT)
    xp = t.xp
    if t.y_pred.shape[0] < 2:
        checks.warn_user("r2_score: R^2 score is not well-defined with less than two samples.")
        return t.setup.finish(xp.full((), math.nan, dtype=t.y_pred.dtype, device=P.device(t.y_pred)))
    w = 1.0 if t.sample_weight is None else t.sample_weight[:, None]
    d, centred = t.y_true - t.y_pred, t.y_true - _sample_mean(xp, t.y_true, t.sample_weight)
    return _fraction_explained(t, xp.sum(w * (d * d), axis=0), xp.sum(w * (centred * centred), axis=0), force_finite)


@silent_nonfinite
@with_args(r2_score)
def explained_variance_score(y_true: Array, y_pred: Array, *, sample_weight: Array | None = None,
                             multioutput: str | Array | Sequence[float] = "uniform_average",
                             force_finite: bool = True) -> Array:
    """Explained variance, ``1 - Var_w(y_true - y_pred) / Var_w(y_true)`` per output, as
    ``sklearn.metrics.explained_variance_score``.

    Examples:
        >>> import numpy as np
        >>> round(float(explained_variance_score(np.array([3.0, -0.5, 2, 7]), np.array([2.5, 0.0, 2, 8]))), 6)
        0.957173
    """
    checks.boolean("explained_variance_score", "force_finite", force_finite)
    t = _targets("explained_variance_score", y_true, y_pred, sample_weight, multioutput,
                 allowed=_SCORES_MULTIOUTPUT)
    xp, w = t.xp, t.sample_weight
    d = t.y_true - t.y_pred
    spread, centred = d - _sample_mean(xp, d, w), t.y_true - _sample_mean(xp, t.y_true, w)
    return _fraction_explained(t, _sample_mean(xp, spread * spread, w), _sample_mean(xp, centred * centred, w),
                               force_finite)


@silent_nonfinite
@with_args(_ONE_OUTPUT, sample_weight=_REGRESSION_ARGS["sample_weight"],
           power="the power ``p``: ``p <= 0`` or ``p >= 1``.")
def mean_tweedie_deviance(y_true: Array, y_pred: Array, *, sample_weight: Array | None = None,
                          power: float = 0) -> Array:
    """Mean Tweedie deviance with ``power`` ``p``, as ``sklearn.metrics.mean_tweedie_deviance`` (one output only).

    ``2 (max(y, 0)^(2-p) / ((1-p)(2-p)) - y mu^(1-p) / (1-p) + mu^(2-p) / (2-p))`` of ``y = y_true`` and
    ``mu = y_pred``; ``p = 0`` the squared error, ``p = 1`` Poisson's ``2 (y log(y / mu) - y + mu)`` (0 log 0 =
    0), ``p = 2`` Gamma's ``2 (log(mu / y) + y / mu - 1)``.  ``p`` in (0, 1) is refused; the domain (``mu > 0``
    for ``p < 0`` and ``p >= 1``, ``y >= 0`` for ``1 <= p < 2``, ``y > 0`` for ``p >= 2``) is checked where the
    data can be read.

    Examples:
        >>> import numpy as np
        >>> round(float(mean_tweedie_deviance(np.array([2.0, 0, 1, 4]), np.array([0.5, 0.5, 2.0, 2.0]), power=1)), 6)
        1.426015
    """
    return _tweedie("mean_tweedie_deviance", y_true, y_pred, sample_weight, power)


@silent_nonfinite
@with_args(_ONE_OUTPUT, sample_weight=_REGRESSION_ARGS["sample_weight"])
def mean_poisson_deviance(y_true: Array, y_pred: Array, *, sample_weight: Array | None = None) -> Array:
    """Mean Poisson deviance, :func:`mean_tweedie_deviance` with ``power=1``, as
    ``sklearn.metrics.mean_poisson_deviance``.

    Examples:
        >>> import numpy as np
        >>> round(float(mean_poisson_deviance(np.array([2.0, 0, 1, 4]), np.array([0.5, 0.5, 2.0, 2.0]))), 6)
        1.426015
    """
    return _tweedie("mean_poisson_deviance", y_true, y_pred, sample_weight, 1)


@silent_nonfinite
@with_args(_ONE_OUTPUT, sample_weight=_REGRESSION_ARGS["sample_weight"])
def mean_gamma_deviance(y_true: Array, y_pred: Array, *, sample_weight: Array | None = None) -> Array:
    """Mean Gamma deviance, :func:`mean_tweedie_deviance` with ``power=2``, as
    ``sklearn.metrics.mean_gamma_deviance``.

    Examples:
        >>> import numpy as np
        >>> round(float(mean_gamma_deviance(np.array([2.0, 0.5, 1, 4]), np.array([0.5, 0.5, 2.0, 2.0]))), 6)
        1.056853
    """
    return _tweedie("mean_gamma_deviance", y_true, y_pred, sample_weight, 2)


def _tweedie(metric, y_true, y_pred, sample_weight, power):
    if isinstance(power, bool) or not isinstance(power, numbers.Real) or 0 < power < 1 or not math.isfinite(power):
        raise ValueError(f"{metric}: power must be a finite real number <= 0 or >= 1, got {power!r}")
    t = _targets(metric, y_true, y_pred, sample_weight, one_output=True)
    xp, y, mu = t.xp, t.y_true, t.y_pred
    why = f" (the Tweedie deviance with power={power})"
    if power != 0:  # mu > 0; y >= 0 for 1 <= p < 2, y > 0 for p >= 2
        checks.values(metric, "y_pred", mu, lambda v: ~(v <= 0), "values > 0" + why)
    if 1 <= power < 2:
        checks.values(metric, "y_true", y, lambda v: ~(v < 0), "values >= 0" + why)
    elif power >= 2:
        checks.values(metric, "y_true", y, lambda v: ~(v <= 0), "values > 0" + why)
    p = power
    if p == 0:
        d = y - mu
        dev = d * d
    elif p == 1:
        zero = y == 0  # y log(y / mu) is 0 there, and so is its derivative in mu
        dev = 2 * (xp.where(zero, xp.zeros_like(y), y * xp.log(xp.where(zero, xp.ones_like(y), y) / mu)) - y + mu)
    elif p == 2:
        dev = 2 * (xp.log(mu / y) + y / mu - 1)
    else:
        kept = y if p >= 1 else xp.where(y > 0, y, xp.zeros_like(y))
        dev = 2 * (kept ** (2 - p) / ((1 - p) * (2 - p)) - y * mu ** (1 - p) / (1 - p) + mu ** (2 - p) / (2 - p))
    return t.setup.finish(xp.reshape(_sample_mean(xp, dev, t.sample_weight), ()))


# -- Classification: the labels are read on the host, as scikit-learn's LabelBinarizer reads them; the
# -- probabilities and decision values are the differentiable arrays.

def _prediction(metric, name, prediction, sample_weight, ndims=(1, 2)):
    """``prediction`` (an integer one in float64, as scikit-learn's ``check_array``) and ``sample_weight`` checked
    and prepared: ``(setup, prediction, sample_weight)``."""
    if P.is_array(prediction):
        xp = P.array_namespace(prediction)
        if xp.isdtype(prediction.dtype, ("integral", "bool")):
            wide = P.wide_float(prediction)
            prediction = xp.astype(prediction, wide if xp.isdtype(wide, "real floating") else xp.float32)
    s = setup(metric, "none", {name: prediction, "sample_weight": sample_weight}, targets=("sample_weight",),
              result=(name,))
    prediction, sample_weight = s.arrays
    if prediction.ndim not in ndims:
        raise ValueError(f"{metric}: {name} must have shape (n_samples,) or (n_samples, n_classes), got "
                         f"{tuple(prediction.shape)}")
    if prediction.shape[0] == 0:
        raise ValueError(f"{metric}: {name} must hold at least one sample, got 0")
    if sample_weight is not None and tuple(sample_weight.shape) != (prediction.shape[0],):
        raise ValueError(f"{metric}: sample_weight must have shape ({prediction.shape[0]},) (one weight per "
                         f"sample), got {tuple(sample_weight.shape)}")
    for label, a in ((name, prediction), ("sample_weight", sample_weight)):
        if a is not None:
            checks.values(metric, label, a, _finite, "finite values (scikit-learn refuses NaN and inf)")
    _not_zero_sum(metric, "sample_weight", sample_weight)
    return s, prediction, sample_weight


class _Labels:
    """``y_true`` of a classification metric: the array (or sequence) as given (a column ``(n, 1)`` flattened, as
    scikit-learn's ``column_or_1d``), its values as a Python list where they can be read (None where traced or
    lazy), its number of samples, and whether it holds one-hot rows."""

    __slots__ = ("given", "values", "n", "indicator")

    def __init__(self, metric, y_true):
        if isinstance(y_true, (list, tuple)):
            values = list(y_true)
            rows = bool(values) and isinstance(values[0], (list, tuple))
            shape = (len(values), len(values[0])) if rows else (len(values),)
            if rows and shape[1] == 1:
                values, shape = [row[0] for row in values], (shape[0],)
        elif P.is_array(y_true):
            shape = tuple(y_true.shape)
            if len(shape) == 2 and shape[1] == 1:
                y_true, shape = P.array_namespace(y_true).reshape(y_true, (-1,)), (shape[0],)
            v = P.host_data(y_true)  # the labels are data the metric needs, read whatever value_checks says
            values = None if v is None else v.tolist()
        else:
            raise TypeError(f"{metric}: y_true must be an array or a sequence of labels, got {type(y_true).__name__}")
        if len(shape) not in (1, 2):
            raise ValueError(f"{metric}: y_true must have shape (n_samples,), or (n_samples, n_classes) of 0 and 1, "
                             f"got {shape}")
        self.given, self.values, self.n, self.indicator = y_true, values, shape[0], len(shape) == 2
        found = self.values if not self.indicator else [v for row in self.values for v in row] if self.values else []
        odd = next((v for v in found or () if isinstance(v, float) and not v.is_integer()), None)
        if odd is not None:
            raise ValueError(f"{metric}: y_true must hold class labels (integers, strings or booleans), got the "
                             f"continuous value {odd!r} (scikit-learn's 'Unknown label type')")
        if self.indicator and any(v not in (0, 1) for v in found):
            raise ValueError(f"{metric}: y_true of shape (n_samples, n_classes) must hold one-hot rows of 0 and 1, "
                             f"got {sorted(set(found) - {0, 1})[:5]}")

    def classes(self, metric, labels):
        """The sorted classes: of ``labels`` where given, else found in ``y_true`` (a one-hot ``y_true``'s columns)."""
        if labels is not None:
            classes = _label_list(metric, labels)
            if self.indicator and len(classes) != self.given_columns:
                raise ValueError(f"{metric}: labels hold {len(classes)} classes and the one-hot y_true "
                                 f"{self.given_columns} columns")
            return classes
        if self.indicator:
            return list(range(self.given_columns))
        if self.values is None:
            raise ValueError(f"{metric}: labels must be given where y_true cannot be read (traced by jax.jit or "
                             "torch.compile, or a lazy Dask array)")
        return sorted(set(self.values))

    @property
    def given_columns(self) -> int:
        return len(self.values[0]) if self.values else self.given.shape[1]

    def one_hot(self, metric, xp, classes, like):
        """``y_true`` as ``(n_samples, len(classes))`` rows of 0 and 1 of ``like``'s library, dtype and device."""
        where = P.device(like)
        if self.indicator:
            rows = self.given if _same_library(self.given, like) else xp.asarray(self.values, device=where)
            return xp.astype(rows, like.dtype)
        if _same_library(self.given, like) and all(isinstance(c, numbers.Real) for c in classes):
            labels = self.given  # compared in its library: traced and lazy labels too
            if xp.isdtype(labels.dtype, "bool"):
                labels = P.wide_indices(labels)  # True == 1, as Python and scikit-learn compare them
            numeric = xp.isdtype(labels.dtype, "real floating") or all(float(c).is_integer() for c in classes)
            if numeric:
                table = xp.asarray([c if xp.isdtype(labels.dtype, "real floating") else int(c) for c in classes],
                                   dtype=labels.dtype, device=where)
                return xp.astype(labels[:, None] == table[None, :], like.dtype)
        if self.values is None:
            raise ValueError(f"{metric}: y_true must be an array of {P.library_name(like)}, like the prediction, "
                             f"where it cannot be read (traced or lazy), got {type(self.given).__name__}")
        position = {c: i for i, c in enumerate(classes)}
        codes = xp.asarray([position.get(v, -1) for v in self.values], device=where)
        return xp.astype(codes[:, None] == xp.arange(len(classes), device=where)[None, :], like.dtype)

    def not_in(self, metric, labels, classes):
        """Where ``y_true`` can be read, every label is one of ``classes`` (the ``labels`` given: scikit-learn's
        error)."""
        if self.values is not None and not self.indicator:
            unknown = set(self.values) - set(classes)
            if unknown:
                raise ValueError(f"{metric}: y_true contains values {sorted(unknown)} not belonging to the passed "
                                 f"labels {labels}")


def _label_list(metric, labels):
    if P.is_array(labels):
        v = P.host_data(labels)
        if v is None:
            raise ValueError(f"{metric}: labels must be readable on the host (not traced), got {type(labels).__name__}")
        if v.ndim != 1:
            raise ValueError(f"{metric}: labels must be 1-D, got shape {tuple(v.shape)}")
        labels = v.tolist()
    if not isinstance(labels, (list, tuple, range)):
        raise TypeError(f"{metric}: labels must be an array or a sequence of class labels, got "
                        f"{type(labels).__name__}")
    if len(set(labels)) != len(labels):
        raise ValueError(f"{metric}: labels must be distinct, got {list(labels)}")
    return sorted(set(labels))


def _same_library(a, like):
    return P.is_array(a) and P.library_name(a) == P.library_name(like)


def _n_samples(metric, name, y: _Labels, prediction):
    if y.n != prediction.shape[0]:
        raise ValueError(f"{metric}: y_true and {name} must have the same number of samples, got {y.n} and "
                         f"{prediction.shape[0]}")


def _probability_checks(metric, y_proba):
    """Where the data can be read: probabilities in [0, 1] (scikit-learn's errors)."""
    checks.values(metric, "y_proba", y_proba, lambda v: ~(v > 1) & ~(v < 0), "probabilities in [0, 1]",
                  within=(0.0, 1.0))


def _multiclass(metric, y: _Labels, y_proba, labels):
    """scikit-learn's ``_validate_multiclass_probabilistic_prediction``: ``(one-hot y_true, y_proba as
    (n_samples, n_classes))``, a binary ``y_proba`` of one column completed by ``1 - y_proba``."""
    xp = P.array_namespace(y_proba)
    _probability_checks(metric, y_proba)
    _n_samples(metric, "y_proba", y, y_proba)
    classes = y.classes(metric, labels)
    if labels is not None:
        given = P.host_data(labels).tolist() if P.is_array(labels) else list(labels)
        if given != classes:
            checks.warn_user(f"{metric}: labels passed were {given}, but the columns of y_proba are taken to be the "
                             f"sorted labels {classes}")
        y.not_in(metric, labels, classes)
    if len(classes) == 1:
        raise ValueError(f"{metric}: y_true contains only one label ({classes[0]!r}); pass all the expected classes "
                         "as labels" if labels is None else
                         f"{metric}: labels must hold at least two labels, got {classes}")
    if y_proba.ndim == 1:
        y_proba = y_proba[:, None]
    if y_proba.shape[1] == 1:
        y_proba = xp.concat((1 - y_proba, y_proba), axis=1)
    if len(classes) != y_proba.shape[1]:
        raise ValueError(f"{metric}: y_true and y_proba hold different numbers of classes: {len(classes)} "
                         f"({classes}) and {y_proba.shape[1]}; pass the classes as labels" if labels is None else
                         f"{metric}: labels hold {len(classes)} classes and y_proba {y_proba.shape[1]}")
    sums = P.host_values(xp.sum(y_proba, axis=1))
    if sums is not None and (abs(sums - 1) > math.sqrt(xp.finfo(y_proba.dtype).eps)).any():
        checks.warn_user(f"{metric}: the rows of y_proba do not sum to one; pass probabilities")
    return y.one_hot(metric, xp, classes, y_proba), y_proba


def _average(xp, losses, sample_weight, normalize=True):
    """scikit-learn's ``_average``: the (weighted) mean of the per-sample ``losses``, or their (weighted) sum."""
    weighted = losses if sample_weight is None else losses * sample_weight
    if not normalize:
        return xp.sum(weighted)
    return xp.mean(losses) if sample_weight is None else P.divide(xp.sum(weighted), xp.sum(sample_weight))


@silent_nonfinite
def log_loss(y_true: Array | Sequence[Any], y_proba: Array | None = None, *, normalize: bool = True,
             sample_weight: Array | None = None, labels: Array | Sequence[Any] | None = None,
             y_pred: Array | str = "deprecated") -> Array:
    """Log loss (cross-entropy of predicted probabilities), ``-mean(sum_c y_c log(clip(p_c, eps, 1 - eps)))`` with
    the dtype's ``eps``, as ``sklearn.metrics.log_loss``.

    Args:
        y_true: ``(n_samples,)`` labels (numbers or strings; an array of any
            library, or a sequence), or ``(n_samples, n_classes)`` one-hot rows.
        y_proba: ``(n_samples, n_classes)`` probabilities, the columns in the
            sorted order of the classes; or ``(n_samples,)`` the probability of
            the greater of two classes.  Differentiable.
        normalize: the mean over samples (else their sum).
        sample_weight: ``(n_samples,)``.
        labels: all the classes, where ``y_true`` may miss some (required where
            ``y_true`` cannot be read: under ``jax.jit``, ``torch.compile``, Dask).
        y_pred: ``y_proba``'s old name (scikit-learn deprecated it in 1.9).

    The classes are found on the host (``y_true`` is read, even from a GPU);
    probabilities outside [0, 1] are an error and rows that do not sum to 1 a
    warning where the data can be read (see ``value_checks``).  The gradient at
    a clipped probability is 0.

    Examples:
        >>> import numpy as np
        >>> round(float(log_loss(["spam", "ham", "ham", "spam"], np.array([[.1, .9], [.9, .1], [.8, .2], [.35, .65]]))), 6)
        0.216162
    """
    if not (isinstance(y_pred, str) and y_pred == "deprecated"):
        if y_proba is not None:
            raise ValueError("log_loss: pass y_proba only (y_pred is its deprecated name), got both")
        checks.warn_user("log_loss: y_pred was renamed to y_proba in scikit-learn 1.9; pass y_proba", FutureWarning)
        y_proba = y_pred
    checks.boolean("log_loss", "normalize", normalize)
    y = _Labels("log_loss", y_true)
    s, y_proba, sample_weight = _prediction("log_loss", "y_proba", y_proba, sample_weight)
    xp = s.xp
    one_hot, y_proba = _multiclass("log_loss", y, y_proba, labels)
    eps = xp.finfo(s.dtype).eps  # of the caller's dtype (float16's too, computed in float32), as scikit-learn's
    clipped = P.clip(y_proba, eps, 1 - eps)
    return s.finish(_average(xp, -xp.sum(one_hot * xp.log(clipped), axis=1), sample_weight, normalize))


@silent_nonfinite
@with_args(
    log_loss, y_true=_LABELS,
    y_proba="``(n_samples,)`` the probability of ``pos_label`` (binary), or ``(n_samples, n_classes)`` "
            "probabilities as :func:`log_loss`'s.  Differentiable.",
    pos_label="the positive class of a binary ``y_true`` (its default as above).",
    labels="all the classes of a multiclass ``y_proba``, where ``y_true`` may miss some (required where "
           "``y_true`` cannot be read); unused in the binary case, where ``pos_label`` names the positive class.",
    scale_by_half="``'auto'`` (halve the sum for fewer than three columns: the binary score in [0, 1]), True or "
                  "False.")
def brier_score_loss(y_true: Array | Sequence[Any], y_proba: Array, *, sample_weight: Array | None = None,
                     pos_label: int | float | str | None = None, labels: Array | Sequence[Any] | None = None,
                     scale_by_half: bool | str = "auto") -> Array:
    """Brier score, ``mean(sum_c (y_c - p_c)^2)``, times 1/2 for two classes, as ``sklearn.metrics.brier_score_loss``.

    Binary (``y_proba`` of shape ``(n_samples,)``: the probability of
    ``pos_label``): ``mean((y == pos_label) - p)^2``; ``pos_label`` defaults to 1
    where ``y_true``'s labels are {0, 1} or {-1, 1} (or one of them), else to the
    greatest label (numbers) or must be given (strings, or a ``y_true`` that
    cannot be read).  Multiclass (``(n_samples, n_classes)``): the classes as
    :func:`log_loss` finds them (``labels``).

    Examples:
        >>> import numpy as np
        >>> round(float(brier_score_loss(np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.8, 0.3]))), 6)
        0.0375
    """
    metric = "brier_score_loss"
    if not (isinstance(scale_by_half, str) and scale_by_half == "auto"):
        checks.boolean(metric, "scale_by_half", scale_by_half)
    y = _Labels(metric, y_true)
    s, y_proba, sample_weight = _prediction(metric, "y_proba", y_proba, sample_weight)
    xp = s.xp
    if y_proba.ndim == 1 or y_proba.shape[1] == 1:
        y_proba = xp.reshape(y_proba, (-1,))
        _binary_checks(metric, y, y_proba)
        positive = _positive(metric, xp, y, pos_label, y_proba)
        one_hot, y_proba = xp.stack((1 - positive, positive), axis=1), xp.stack((1 - y_proba, y_proba), axis=1)
    else:
        one_hot, y_proba = _multiclass(metric, y, y_proba, labels)
    d = one_hot - y_proba
    score = _average(xp, xp.sum(d * d, axis=1), sample_weight)
    half = y_proba.shape[1] < 3 if isinstance(scale_by_half, str) else scale_by_half
    return s.finish(score * 0.5 if half else score)


def _binary_checks(metric, y: _Labels, y_proba):
    """scikit-learn's ``_validate_binary_probabilistic_prediction``: one column of labels, at most two of them."""
    if y.indicator:
        raise ValueError(f"{metric}: y_true must be 1-D labels with a 1-D y_proba, got one-hot rows")
    _n_samples(metric, "y_proba", y, y_proba)
    _probability_checks(metric, y_proba)
    if y.values is not None:
        found = set(y.values)
        if len(found) > 2:
            raise ValueError(f"{metric}: y_true must hold at most two labels (binary) with a 1-D y_proba, got "
                             f"{sorted(found)[:5]}")


def _positive(metric, xp, y: _Labels, pos_label, like):
    """``y_true == pos_label`` as 0 and 1 of ``like``'s dtype, ``pos_label`` found as scikit-learn finds it."""
    if pos_label is None:
        if y.values is None:
            raise ValueError(f"{metric}: pos_label must be given where y_true cannot be read (traced by jax.jit or "
                             "torch.compile, or a lazy Dask array)")
        found = sorted(set(y.values))
        if any(isinstance(v, str) for v in found):
            raise ValueError(f"{metric}: y_true takes values in {found} and pos_label is not given: make y_true "
                             "take values in {0, 1} or {-1, 1}, or pass pos_label")
        pos_label = 1 if found in ([0, 1], [-1, 1], [0], [-1], [1]) else found[-1]
    return y.one_hot(metric, xp, [pos_label], like)[:, 0]


@silent_nonfinite
@with_args(log_loss, y_true=_LABELS,
           pred_decision="``(n_samples,)`` decision values of a binary problem, or ``(n_samples, n_classes)`` one "
           "per class (the classes sorted).  Differentiable.")
def hinge_loss(y_true: Array | Sequence[Any], pred_decision: Array, *, labels: Array | Sequence[Any] | None = None,
               sample_weight: Array | None = None) -> Array:
    """Average hinge loss, ``mean(max(1 - margin, 0))``, as ``sklearn.metrics.hinge_loss``.

    Binary (``pred_decision`` of shape ``(n_samples,)``): ``margin = y
    pred_decision`` with ``y`` +1 for the greater of ``y_true``'s two labels and
    -1 for the other (-1 for all where ``y_true`` holds one label, as
    scikit-learn's ``LabelBinarizer``; where ``y_true`` cannot be read, the
    greater of ``labels``).  Multiclass (more than two classes in
    ``labels`` or ``y_true``; ``(n_samples, n_classes)``, Crammer-Singer): the
    true class's decision less the greatest other one.  The gradient at the
    hinge (``margin == 1``) is 0, as torch's margin losses', and a tie for the
    greatest other decision shares it equally.  This is scikit-learn's averaged
    metric; ``agnostic_losses.hinge_loss`` is optax's elementwise loss.

    Examples:
        >>> import numpy as np
        >>> round(float(hinge_loss(np.array([-1, 1, 1]), np.array([-2.18, 2.36, 0.09]))), 6)
        0.303333
    """
    metric = "hinge_loss"
    y = _Labels(metric, y_true)
    s, pred_decision, sample_weight = _prediction(metric, "pred_decision", pred_decision, sample_weight)
    xp = s.xp
    _n_samples(metric, "pred_decision", y, pred_decision)
    if y.indicator:
        raise ValueError(f"{metric}: y_true must be 1-D labels, got one-hot rows")
    classes = y.classes(metric, labels)
    if len(classes) > 2:
        if pred_decision.ndim != 2 or pred_decision.shape[1] != len(classes):
            raise ValueError(f"{metric}: with {len(classes)} classes pred_decision must have shape (n_samples, "
                             f"{len(classes)}), got {tuple(pred_decision.shape)}" +
                             ("; pass all the labels" if labels is None else ""))
        if labels is not None:
            y.not_in(metric, labels, classes)
        true = y.one_hot(metric, xp, classes, pred_decision) != 0
        lowest = xp.full_like(pred_decision, -math.inf)
        margin = (xp.sum(xp.where(true, pred_decision, xp.zeros_like(pred_decision)), axis=1)
                  - xp.max(xp.where(true, lowest, pred_decision), axis=1))
    else:
        if pred_decision.ndim == 2 and pred_decision.shape[1] != 1:
            raise ValueError(f"{metric}: with two classes pred_decision must have shape (n_samples,), got "
                             f"{tuple(pred_decision.shape)}")
        pred_decision = xp.reshape(pred_decision, (-1,))
        found = classes if y.values is None else sorted(set(y.values))  # scikit-learn's signs come from y_true
        sign = 2 * y.one_hot(metric, xp, found[1:], pred_decision)[:, 0] - 1 if len(found) == 2 else -1
        margin = sign * pred_decision
    z = 1 - margin
    return s.finish(_average(xp, xp.where(z > 0, z, xp.zeros_like(z)), sample_weight))
