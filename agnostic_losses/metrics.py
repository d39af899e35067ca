"""scikit-learn's regression metrics on every backend: the same names, arguments and values, differentiable.

Each function has the name, the arguments (``y_true, y_pred``, keyword-only
options) and the defaults of ``sklearn.metrics`` 1.9 and computes what it
computes, but returns an array of ``y_pred``'s library, dtype and device (0-d,
or 1-D for ``multioutput='raw_values'``) instead of a Python float, imports no
framework, is differentiable in ``y_pred`` through autodiff on torch and JAX
(at a kink with this library's convention, the subgradient 0 of ``|d|``), and
traces under ``jax.jit``, ``jax.vmap`` and ``torch.compile``.  float16 and
bfloat16 are computed in float32.

>>> import numpy as np
>>> from agnostic_losses import metrics
>>> y_true, y_pred = np.array([[0.5, 1.0], [-1.0, 1.0], [7.0, -6.0]]), np.array([[0.0, 2.0], [-1.0, 2.0], [8.0, -5.0]])
>>> float(metrics.mean_absolute_error(y_true, y_pred))  # sklearn's docstring example: 0.75
0.75
>>> metrics.mean_absolute_error(y_true, y_pred, multioutput="raw_values").tolist()
[0.5, 1.0]

Conventions shared by every metric here (scikit-learn's ``_check_reg_targets``):
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
"""

from __future__ import annotations

import math
import numbers

from . import _checks as checks
from . import _primitives as P
from ._primitives._numerics import nonzero_root
from ._setup import setup, silent_nonfinite

__all__ = [
    "mean_absolute_error", "mean_squared_error", "root_mean_squared_error", "mean_squared_log_error",
    "root_mean_squared_log_error", "mean_absolute_percentage_error", "max_error", "mean_pinball_loss",
    "r2_score", "explained_variance_score", "mean_tweedie_deviance", "mean_poisson_deviance", "mean_gamma_deviance",
]

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
def mean_absolute_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    """Mean absolute error, ``mean(|y_pred - y_true|)`` over samples, as ``sklearn.metrics.mean_absolute_error``.

    The gradient at ``y_pred == y_true`` is 0 (torch's convention).

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
def mean_squared_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    """Mean squared error, ``mean((y_true - y_pred)^2)`` over samples, as ``sklearn.metrics.mean_squared_error``.

    >>> import numpy as np
    >>> float(mean_squared_error(np.array([3.0, -0.5, 2, 7]), np.array([2.5, 0.0, 2, 8])))
    0.375
    """
    t = _targets("mean_squared_error", y_true, y_pred, sample_weight, multioutput)
    return _over_outputs(t, _squared_errors(t))


@silent_nonfinite
def root_mean_squared_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    """Root mean squared error, ``sqrt(mean((y_true - y_pred)^2))`` per output (then averaged over outputs), as
    ``sklearn.metrics.root_mean_squared_error``.

    Its gradient at zero error is 0, not NaN.

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
def mean_squared_log_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    """Mean squared logarithmic error, ``mean((log(1 + y_true) - log(1 + y_pred))^2)``, as
    ``sklearn.metrics.mean_squared_log_error``.

    Values ``<= -1`` are a ``ValueError`` where the data can be read (see
    ``value_checks``), as scikit-learn's.

    >>> import numpy as np
    >>> round(float(mean_squared_log_error(np.array([3.0, 5, 2.5, 7]), np.array([2.5, 5, 4, 8]))), 6)
    0.03973
    """
    t = _log1p_targets("mean_squared_log_error", y_true, y_pred, sample_weight, multioutput)
    return _over_outputs(t, _squared_errors(t))


@silent_nonfinite
def root_mean_squared_log_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    """Root mean squared logarithmic error, the square root of :func:`mean_squared_log_error` per output, as
    ``sklearn.metrics.root_mean_squared_log_error``; gradient 0 at zero error.

    >>> import numpy as np
    >>> round(float(root_mean_squared_log_error(np.array([3.0, 5, 2.5, 7]), np.array([2.5, 5, 4, 8]))), 6)
    0.199324
    """
    t = _log1p_targets("root_mean_squared_log_error", y_true, y_pred, sample_weight, multioutput)
    return _over_outputs(t, nonzero_root(_squared_errors(t), t.xp.sqrt))


@silent_nonfinite
def mean_absolute_percentage_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    """Mean absolute percentage error, ``mean(|y_pred - y_true| / max(|y_true|, eps))`` with float64's ``eps``, as
    ``sklearn.metrics.mean_absolute_percentage_error`` (a fraction, not a percentage: 0.1 is 10%).

    >>> import numpy as np
    >>> round(float(mean_absolute_percentage_error(np.array([3.0, -0.5, 2, 7]), np.array([2.5, 0.0, 2, 8]))), 6)
    0.327381
    """
    t = _targets("mean_absolute_percentage_error", y_true, y_pred, sample_weight, multioutput)
    xp = t.xp
    relative = P.abs(t.y_pred - t.y_true) / xp.maximum(xp.abs(t.y_true), _constant(xp, _EPSILON, t.y_true))
    return _over_outputs(t, _sample_mean(xp, relative, t.sample_weight))


@silent_nonfinite
def max_error(y_true, y_pred):
    """The largest absolute error, ``max(|y_true - y_pred|)``, as ``sklearn.metrics.max_error`` (one output only).

    Its gradient is shared equally by the elements that reach the maximum (as ``torch.amax``'s and JAX's).

    >>> import numpy as np
    >>> float(max_error(np.array([3.0, 2, 7, 1]), np.array([4.0, 2, 7, 1])))
    1.0
    """
    t = _targets("max_error", y_true, y_pred, one_output=True)
    return t.setup.finish(t.xp.max(P.abs(t.y_true - t.y_pred)))


@silent_nonfinite
def mean_pinball_loss(y_true, y_pred, *, sample_weight=None, alpha=0.5, multioutput="uniform_average"):
    """Pinball (quantile) loss, ``alpha d`` where ``d = y_true - y_pred >= 0``, else ``(alpha - 1) d``, averaged,
    as ``sklearn.metrics.mean_pinball_loss``.

    At ``d == 0`` the gradient in ``y_pred`` is ``-alpha`` (scikit-learn's formula's: the first branch).

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


def _is_bool(metric, name, value):
    if not (isinstance(value, bool) or getattr(value, "dtype", None) is not None and value.dtype.kind == "b"
            and value.ndim == 0):  # a NumPy bool too
        raise TypeError(f"{metric}: {name} must be True or False, got {value!r}")


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
def r2_score(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average", force_finite=True):
    """The coefficient of determination, ``1 - sum(w (y_true - y_pred)^2) / sum(w (y_true - mean_w(y_true))^2)``
    per output, as ``sklearn.metrics.r2_score``.

    ``multioutput`` may also be 'variance_weighted' (the outputs weighted by
    the variance of ``y_true``).  ``force_finite``: a constant ``y_true`` scores
    1 if predicted exactly, else 0 (not NaN or -inf).  Fewer than two samples:
    NaN and a warning, as scikit-learn's.

    >>> import numpy as np
    >>> round(float(r2_score(np.array([3.0, -0.5, 2, 7]), np.array([2.5, 0.0, 2, 8]))), 6)
    0.948608
    """
    multioutput = "uniform_average" if multioutput is None else multioutput  # scikit-learn 1.9 still takes None
    _is_bool("r2_score", "force_finite", force_finite)
    t = _targets("r2_score", y_true, y_pred, sample_weight, multioutput, allowed=_SCORES_MULTIOUTPUT)
    xp = t.xp
    if t.y_pred.shape[0] < 2:
        checks.warn_user("r2_score: R^2 score is not well-defined with less than two samples.")
        return t.setup.finish(xp.full((), math.nan, dtype=t.y_pred.dtype, device=P.device(t.y_pred)))
    w = 1.0 if t.sample_weight is None else t.sample_weight[:, None]
    d, centred = t.y_true - t.y_pred, t.y_true - _sample_mean(xp, t.y_true, t.sample_weight)
    return _fraction_explained(t, xp.sum(w * (d * d), axis=0), xp.sum(w * (centred * centred), axis=0), force_finite)


@silent_nonfinite
def explained_variance_score(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average",
                             force_finite=True):
    """Explained variance, ``1 - Var_w(y_true - y_pred) / Var_w(y_true)`` per output, as
    ``sklearn.metrics.explained_variance_score``; ``multioutput`` and ``force_finite`` as :func:`r2_score`.

    >>> import numpy as np
    >>> round(float(explained_variance_score(np.array([3.0, -0.5, 2, 7]), np.array([2.5, 0.0, 2, 8]))), 6)
    0.957173
    """
    _is_bool("explained_variance_score", "force_finite", force_finite)
    t = _targets("explained_variance_score", y_true, y_pred, sample_weight, multioutput,
                 allowed=_SCORES_MULTIOUTPUT)
    xp, w = t.xp, t.sample_weight
    d = t.y_true - t.y_pred
    spread, centred = d - _sample_mean(xp, d, w), t.y_true - _sample_mean(xp, t.y_true, w)
    return _fraction_explained(t, _sample_mean(xp, spread * spread, w), _sample_mean(xp, centred * centred, w),
                               force_finite)


@silent_nonfinite
def mean_tweedie_deviance(y_true, y_pred, *, sample_weight=None, power=0):
    """Mean Tweedie deviance with ``power`` ``p``, as ``sklearn.metrics.mean_tweedie_deviance`` (one output only).

    ``2 (max(y, 0)^(2-p) / ((1-p)(2-p)) - y mu^(1-p) / (1-p) + mu^(2-p) / (2-p))`` of ``y = y_true`` and
    ``mu = y_pred``; ``p = 0`` the squared error, ``p = 1`` Poisson's ``2 (y log(y / mu) - y + mu)`` (0 log 0 =
    0), ``p = 2`` Gamma's ``2 (log(mu / y) + y / mu - 1)``.  ``p`` in (0, 1) is refused; the domain (``mu > 0``
    for ``p < 0`` and ``p >= 1``, ``y >= 0`` for ``1 <= p < 2``, ``y > 0`` for ``p >= 2``) is checked where the
    data can be read.

    >>> import numpy as np
    >>> round(float(mean_tweedie_deviance(np.array([2.0, 0, 1, 4]), np.array([0.5, 0.5, 2.0, 2.0]), power=1)), 6)
    1.426015
    """
    return _tweedie("mean_tweedie_deviance", y_true, y_pred, sample_weight, power)


@silent_nonfinite
def mean_poisson_deviance(y_true, y_pred, *, sample_weight=None):
    """Mean Poisson deviance, :func:`mean_tweedie_deviance` with ``power=1``, as
    ``sklearn.metrics.mean_poisson_deviance``.

    >>> import numpy as np
    >>> round(float(mean_poisson_deviance(np.array([2.0, 0, 1, 4]), np.array([0.5, 0.5, 2.0, 2.0]))), 6)
    1.426015
    """
    return _tweedie("mean_poisson_deviance", y_true, y_pred, sample_weight, 1)


@silent_nonfinite
def mean_gamma_deviance(y_true, y_pred, *, sample_weight=None):
    """Mean Gamma deviance, :func:`mean_tweedie_deviance` with ``power=2``, as
    ``sklearn.metrics.mean_gamma_deviance``.

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
