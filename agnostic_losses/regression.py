"""The regression losses of torch.nn (L1, MSE, Huber and smooth L1), and those torch lacks (MAPE, MSLE, RMSE,
log-cosh, pinball), with their classes.

Each is an elementwise function of ``d = input - target`` (broadcast as torch
does, with a warning when the shapes differ), optionally multiplied by an
elementwise ``weight`` of ``input``'s shape, then reduced.  Each is made by
:func:`agnostic_losses.loss`, the decorator users write their own losses with,
from its formula and the formula's derivatives; the function of torch's name
and signature adds torch's own argument rules.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from . import _checks as checks
from . import _primitives as P
from ._classes import LossClass
from ._define import as_class, loss
from ._docs import with_args
from ._primitives._numerics import nonzero_root
from ._reduction import legacy_reduction
from ._typing import Array

__all__ = ["l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss",
           "mape_loss", "msle_loss", "rmse_loss", "log_cosh_loss", "pinball_loss",
           "MAPELoss", "MSLELoss", "RMSELoss", "LogCoshLoss", "PinballLoss"]


def _torch_rules(made, input, target, reduction, weight=None, *, legacy=(None, None), **options):
    """``made`` (a loss of ``input`` and ``target``) after torch's own argument rules: the legacy
    ``size_average``/``reduce`` pair, and a ``weight`` of exactly ``input``'s shape."""
    if legacy[0] is not None or legacy[1] is not None:
        reduction = legacy_reduction(*legacy, reduction)
    if weight is not None and P.is_array(input) and P.is_array(weight):
        checks.same_shape(made.__name__, "weight", weight, "input", input)
    return made(input, target, reduction=reduction, weight=weight, **options)


def _of_difference(wanted, g):
    """The derivatives of a function of ``input - target`` whose derivative is ``g``: ``g`` and ``-g``."""
    return (g if wanted[0] else None), (-g if wanted[1] else None)


def _absolute(input, target):
    """``|d|``, derivative ``sign(d)``: 0 at 0, as torch's."""
    return P.abs_(input - target)


def _absolute_derivatives(wanted, input, target):
    return _of_difference(wanted, P.sign(input - target))


def _squared(input, target):
    d = input - target
    d *= d
    return d


def _squared_derivatives(wanted, input, target):
    d = input - target
    d *= 2.0
    return _of_difference(wanted, d)


def _huber(input, target, *, k, scale):
    """``0.5 d^2 / scale`` where ``|d| < k``, else ``(k / scale) (|d| - k / 2)``, of ``d = input - target``.

    Huber is ``scale = 1``, smooth L1 is ``scale = k``.  One expression for
    both branches: ``m (z - m / 2) / scale`` with ``z = |d|`` and
    ``m = min(z, k)``, updated in place (a one-sided bound on ``|d|``, which
    XLA on the CPU fuses into the sum, where it does not fuse a two-sided clip
    of ``d``).  The derivative (``_huber_derivatives``) is
    ``clip(d, -k, k) / scale``, itself an elementwise function whose derivative
    (the second derivative) is torch's: 1 / scale strictly inside ``(-k, k)``,
    0 outside and at ``|d| == k`` (the clip's own would be 1 there).  A NaN
    ``d`` gives NaN, value and gradient, as in torch.
    """
    z = P.abs_(input - target)
    m = P.clip(z, max=k)
    m *= -0.5
    z += m
    z *= m  # (z - m/2) * (-m/2) with the original m
    z *= -2.0 / scale
    return z


def _huber_derivatives(wanted, input, target, *, k, scale):
    slope = functools.partial(_huber_slope, k=k, scale=scale)
    curvature = functools.partial(_huber_curvature, k=k, scale=scale)
    return _of_difference(wanted, P.elementwise(slope, curvature, input - target))


def _huber_slope(d, *, k, scale):
    if math.isinf(scale):  # smooth L1 with beta = inf: d / beta is 0, and torch's sign(d) where d is infinite
        xp = P.array_namespace(d)
        return xp.where(xp.isinf(d), P.sign(d), d / scale)
    g = P.clip(d, min=-k, max=k)
    if scale != 1:
        g /= scale
    return g


def _huber_curvature(wanted, d, *, k, scale):
    xp = P.array_namespace(d)
    c = xp.astype(xp.abs(d) < k, d.dtype)
    if scale != 1:
        c /= scale
    return (c,)


# The four losses as losses of ``agnostic_losses.loss``: an integer target is taken in the input's dtype, as
# torch's; the weighted mean of l1 and mse divides by sum(weight), huber's by the number of elements; torch's
# huber returns the input's dtype (and the weight's) whatever the target's
_L1 = loss(_absolute, name="l1_loss", derivatives=_absolute_derivatives, targets=("target",), weighted_mean="given")
_MSE = loss(_squared, name="mse_loss", derivatives=_squared_derivatives, targets=("target",), weighted_mean="given")
_HUBER = loss(_huber, name="huber_loss", derivatives=_huber_derivatives, targets=("target",), result=("input",),
              weighted_mean="count")
_SMOOTH_L1 = loss(_huber, name="smooth_l1_loss", derivatives=_huber_derivatives, targets=("target",))
_SMOOTH_L1_AT_0 = loss(_absolute, name="smooth_l1_loss", derivatives=_absolute_derivatives, targets=("target",))


def l1_loss(input: Array, target: Array, size_average: bool | None = None, reduce: bool | None = None,
            reduction: str = "mean", weight: Array | None = None) -> Array:
    """Mean absolute error ``|input - target|``, as ``torch.nn.functional.l1_loss``.

    Args:
        input: predictions, any shape.
        target: same shape as ``input`` (broadcast with a warning otherwise).
        size_average: deprecated, as in torch; use ``reduction``.
        reduce: deprecated, as in torch; use ``reduction``.
        reduction: ``'none' | 'mean' | 'sum'``.
        weight: optional elementwise weights of ``input``'s shape; with it
            ``'mean'`` is ``sum(weight * |d|) / sum(weight)``.

    The gradient at ``input == target`` is 0, as torch's.
    """
    return _torch_rules(_L1, input, target, reduction, weight, legacy=(size_average, reduce))


@with_args(l1_loss, weight="optional elementwise weights of ``input``'s shape; with it ``'mean'`` is "
           "``sum(weight * d^2) / sum(weight)``.")
def mse_loss(input: Array, target: Array, size_average: bool | None = None, reduce: bool | None = None,
             reduction: str = "mean", weight: Array | None = None) -> Array:
    """Mean squared error ``(input - target)^2``, as ``torch.nn.functional.mse_loss``."""
    return _torch_rules(_MSE, input, target, reduction, weight, legacy=(size_average, reduce))


def huber_loss(input: Array, target: Array, reduction: str = "mean", delta: float = 1.0,
               weight: Array | None = None) -> Array:
    """Huber loss, as ``torch.nn.functional.huber_loss``.

    ``0.5 d^2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 delta)``, with
    ``d = input - target`` and ``delta > 0``.  With ``weight`` (elementwise,
    ``input``'s shape), ``'mean'`` divides ``sum(weight * loss)`` by the number
    of elements, as torch does.  The result has ``input``'s dtype (promoted
    with ``weight``'s), as torch's, computed in the promotion with ``target``'s.

    Args:
        input: predictions, any shape.
        target: ``input``'s shape (broadcast with a warning otherwise).
        reduction: ``'none' | 'mean' | 'sum'``.
        delta: the threshold ``> 0`` between the quadratic and the linear part.
        weight: optional elementwise weights of ``input``'s shape; with it ``'mean'`` divides ``sum(weight * loss)``
            by the number of elements.
    """
    checks.positive("huber_loss", "delta", delta)
    return _torch_rules(_HUBER, input, target, reduction, weight, k=delta, scale=1.0)


def smooth_l1_loss(input: Array, target: Array, size_average: bool | None = None, reduce: bool | None = None,
                   reduction: str = "mean", beta: float = 1.0) -> Array:
    """Smooth L1 loss, as ``torch.nn.functional.smooth_l1_loss``.

    ``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``, i.e.
    ``huber_loss(delta=beta) / beta``; ``beta = 0`` is exactly :func:`l1_loss`.

    Args:
        input: predictions, any shape.
        target: ``input``'s shape (broadcast with a warning otherwise).
        size_average: deprecated, as in torch; use ``reduction``.
        reduce: deprecated, as in torch; use ``reduction``.
        reduction: ``'none' | 'mean' | 'sum'``.
        beta: the threshold ``>= 0`` between the quadratic and the linear part.
    """
    checks.positive("smooth_l1_loss", "beta", beta, allow_zero=True)
    if beta == 0:
        return _torch_rules(_SMOOTH_L1_AT_0, input, target, reduction, legacy=(size_average, reduce))
    return _torch_rules(_SMOOTH_L1, input, target, reduction, legacy=(size_average, reduce), k=beta, scale=beta)


# --- the regression losses torch lacks: scikit-learn's metrics as torch-style losses, and optax's log-cosh -----

_FLOAT64_EPS = 2.220446049250313e-16  # scikit-learn's MAPE denominator floor, whatever the dtype


@loss(targets=("target",))
def mape_loss(input: Array, target: Array, *, xp: Any) -> Array:
    """Mean absolute percentage error, ``|input - target| / max(|target|, eps)`` with float64's ``eps``.

    Its ``'mean'`` equals ``sklearn.metrics.mean_absolute_percentage_error(target, input)`` on 1-D arrays
    (``weight`` as its ``sample_weight``); a fraction, not a percentage.  The gradient at ``input == target``
    is 0 (torch's convention at a kink).

    Args:
        input: predictions, any shape.
        target: the true values, broadcasting with ``input``.
        reduction: ``'none' | 'mean' | 'sum'``.
        weight: optional elementwise weights broadcasting to the losses; with it ``'mean'`` is
            ``sum(weight * loss) / sum(weight)``.

    Examples:
        >>> import numpy as np
        >>> round(float(mape_loss(np.array([2.5, 0.0, 2, 8]), np.array([3.0, -0.5, 2, 7]))), 6)
        0.327381
    """
    floor = xp.asarray(_FLOAT64_EPS, dtype=target.dtype, device=P.device(target))  # an array: torch.compile
    return P.abs(input - target) / xp.maximum(xp.abs(target), floor)


@with_args(mape_loss)
@loss(targets=("target",))
def log_cosh_loss(input: Array, target: Array, *, xp: Any) -> Array:
    """``log(cosh(input - target))``, computed as ``logaddexp(d, -d) - log 2`` (no overflow at large ``|d|``), as
    ``optax.losses.log_cosh`` (float16 and bfloat16 in float32, where optax computes in their own precision):
    about ``d^2 / 2`` near 0 and ``|d| - log 2`` far from it.

    Examples:
        >>> import numpy as np
        >>> log_cosh_loss(np.array([0.0, 1000.0]), np.zeros(2), reduction="none").round(6).tolist()
        [0.0, 999.306853]
    """
    d = input - target
    return xp.logaddexp(d, -d) - math.log(2.0)


@loss(targets=("target",))
def pinball_loss(input: Array, target: Array, *, quantile: float = 0.5, xp: Any) -> Array:
    """The pinball (quantile) loss of ``d = target - input``: ``quantile * d`` where ``d >= 0``, else
    ``(quantile - 1) * d``.

    Its ``'mean'`` equals ``sklearn.metrics.mean_pinball_loss(target, input, alpha=quantile)`` on 1-D arrays,
    gradient included: ``-quantile`` at ``d == 0`` (scikit-learn's formula's first branch).

    Args:
        input: the predicted quantiles, any shape.
        target: the true values, broadcasting with ``input``.
        quantile: the quantile in [0, 1].
        reduction: ``'none' | 'mean' | 'sum'``.
        weight: optional elementwise weights broadcasting to the losses; with it ``'mean'`` is
            ``sum(weight * loss) / sum(weight)``.

    Examples:
        >>> import numpy as np
        >>> round(float(pinball_loss(np.array([0.0, 2, 3]), np.array([1.0, 2, 3]), quantile=0.1)), 6)
        0.033333
    """
    checks.option_in("pinball_loss", "quantile", quantile, 0.0, 1.0)
    d = target - input
    return xp.where(d >= 0, quantile * d, (quantile - 1.0) * d)


def _squared_log(input, target, *, xp):
    d = xp.log1p(input) - xp.log1p(target)
    return d * d


_MSLE = loss(_squared_log, name="msle_loss", targets=("target",))


def msle_loss(input: Array, target: Array, *, reduction: str = "mean", weight: Array | None = None) -> Array:
    """Mean squared logarithmic error, ``(log(1 + input) - log(1 + target))^2``.

    Its ``'mean'`` equals ``sklearn.metrics.mean_squared_log_error(target, input)`` on 1-D arrays; values
    ``<= -1`` are a ``ValueError`` where the data can be read (``value_checks``).

    Args:
        input: predictions ``> -1``, any shape.
        target: the true values ``> -1``, broadcasting with ``input``.
        reduction: ``'none' | 'mean' | 'sum'``.
        weight: optional elementwise weights broadcasting to the losses; with it ``'mean'`` is
            ``sum(weight * loss) / sum(weight)``.

    Examples:
        >>> import numpy as np
        >>> round(float(msle_loss(np.array([2.5, 5, 4, 8]), np.array([3.0, 5, 2.5, 7]))), 6)
        0.03973
    """
    if P.is_array(input) and P.is_array(target):
        for name, a in (("input", input), ("target", target)):
            checks.values("msle_loss", name, a, lambda v: ~(v <= -1), "values > -1")
    return _MSLE(input, target, reduction=reduction, weight=weight)


def rmse_loss(input: Array, target: Array, *, reduction: str = "mean", weight: Array | None = None) -> Array:
    """Root mean squared error, ``sqrt(mean(weight * (input - target)^2))`` (``'sum'``: the root of the sum;
    ``'none'``: the errors ``weight * |input - target|``), with gradient 0 at zero error (not NaN).

    Its ``'mean'`` equals ``sklearn.metrics.root_mean_squared_error(target, input)`` on 1-D arrays
    (``weight`` as its ``sample_weight``).

    Args:
        input: predictions, any shape.
        target: the true values, broadcasting with ``input``.
        reduction: ``'none' | 'mean' | 'sum'``.
        weight: optional elementwise weights broadcasting to the errors; with it ``'mean'`` is
            ``sqrt(sum(weight * d^2) / sum(weight))``.

    Examples:
        >>> import numpy as np
        >>> round(float(rmse_loss(np.array([2.5, 0.0, 2, 8]), np.array([3.0, -0.5, 2, 7]))), 6)
        0.612372
    """
    if reduction == "none":
        return _ABSOLUTE(input, target, reduction="none", weight=weight)
    squared = _SQUARED(input, target, reduction=reduction, weight=weight)
    return nonzero_root(squared, P.array_namespace(squared).sqrt)


# l1_loss's and mse_loss's formulas with this library's weighted mean (the weight broadcast)
_ABSOLUTE = loss(_absolute, name="rmse_loss", derivatives=_absolute_derivatives, targets=("target",))
_SQUARED = loss(_squared, name="rmse_loss", derivatives=_squared_derivatives, targets=("target",))
msle_loss.as_class = functools.partial(as_class, msle_loss, {})
rmse_loss.as_class = functools.partial(as_class, rmse_loss, {})

CLASSES = ("MAPELoss", "MSLELoss", "RMSELoss", "LogCoshLoss", "PinballLoss")  # agnostic_losses.torch's too
MAPELoss: type[LossClass] = mape_loss.as_class("MAPELoss")
MSLELoss: type[LossClass] = msle_loss.as_class("MSLELoss")
RMSELoss: type[LossClass] = rmse_loss.as_class("RMSELoss")
LogCoshLoss: type[LossClass] = log_cosh_loss.as_class("LogCoshLoss")
PinballLoss: type[LossClass] = pinball_loss.as_class("PinballLoss")
