"""The regression losses of torch.nn: L1, MSE, Huber and smooth L1.

Each is an elementwise function of ``d = input - target`` (broadcast as torch
does, with a warning when the shapes differ), optionally multiplied by an
elementwise ``weight`` of ``input``'s shape, then reduced.
"""

from __future__ import annotations

import math

from . import _checks as checks
from . import _primitives as P
from ._reduction import reduce_elementwise
from ._setup import setup, silent_nonfinite

__all__ = ["l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss"]


def _elementwise(loss, pointwise, input, target, reduction, weight=None, *, legacy=(None, None),
                 mean_over_weight=False, result_of_input=False):
    """The skeleton shared by the four losses: check, the elementwise ``pointwise`` (a pair ``value,
    derivatives`` for ``P.elementwise``) of ``input`` and ``target``, weigh, reduce.

    An integer ``target`` is taken in ``input``'s dtype, as torch does.  With
    ``weight``, 'mean' divides by ``sum(weight)`` when ``mean_over_weight``
    (torch's l1 and mse) and by the number of elements otherwise (torch's
    huber).  ``result_of_input``: torch's huber returns ``input``'s dtype (and
    ``weight``'s) whatever ``target``'s, computed in their promotion.
    """
    s = setup(loss, reduction, {"input": input, "target": target, "weight": weight}, legacy=legacy,
              targets=("target",), result=("input", "weight") if result_of_input else None)
    checks.broadcastable(loss, input, target)
    checks.same_shape(loss, "weight", weight, "input", input)
    input, target, weight = s.arrays
    return s.finish(reduce_elementwise(*pointwise, (input, target), s.reduction, weight=weight,
                                       mean_over_weight=mean_over_weight))


def _of_difference(f, df):
    """The elementwise loss ``f(d)`` of ``d = input - target``, with derivative ``df(d)``: the pair
    ``value, derivatives`` of ``P.elementwise``.

    ``f`` and ``df`` get ``d`` as a fresh array that they may update in place;
    the target's derivative is ``-df(d)``.
    """
    def value(input, target):
        return f(input - target)

    def derivatives(wanted, input, target):
        g = df(input - target)
        return (g if wanted[0] else None), (-g if wanted[1] else None)

    return value, derivatives


def _abs(d):
    """``|d|``, derivative ``sign(d)``: 0 at 0, as torch's."""
    return P.abs_(d)


def _square(d):
    d *= d
    return d


def _twice(d):
    d *= 2.0
    return d


def _huber(k, scale):
    """``0.5 d^2 / scale`` where ``|d| < k``, else ``(k / scale) (|d| - k / 2)``, as an elementwise loss of the difference.

    Huber is ``scale = 1``, smooth L1 is ``scale = k``.  One expression for
    both branches: ``m (z - m / 2) / scale`` with ``z = |d|`` and
    ``m = min(z, k)``, updated in place (a one-sided bound on ``|d|``, which
    XLA on the CPU fuses into the sum, where it does not fuse a two-sided clip
    of ``d``).  The derivative is
    ``clip(d, -k, k) / scale``, itself an elementwise function whose derivative
    (the second derivative) is torch's: 1 / scale strictly inside ``(-k, k)``,
    0 outside and at ``|d| == k`` (the clip's own would be 1 there).  A NaN
    ``d`` gives NaN, value and gradient, as in torch.
    """
    def value(d):
        z = P.abs_(d)
        m = P.clip(z, max=k)
        m *= -0.5
        z += m
        z *= m  # (z - m/2) * (-m/2) with the original m
        z *= -2.0 / scale
        return z

    def slope(d):
        if math.isinf(scale):  # smooth L1 with beta = inf: d / beta is 0, and torch's sign(d) where d is infinite
            xp = P.array_namespace(d)
            return xp.where(xp.isinf(d), P.sign(d), d / scale)
        g = P.clip(d, min=-k, max=k)
        if scale != 1:
            g /= scale
        return g

    def curvature(wanted, d):
        xp = P.array_namespace(d)
        c = xp.astype(xp.abs(d) < k, d.dtype)
        if scale != 1:
            c /= scale
        return (c,)

    return _of_difference(value, lambda d: P.elementwise(slope, curvature, d))


_L1 = _of_difference(_abs, P.sign)
_MSE = _of_difference(_square, _twice)


@silent_nonfinite
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error ``|input - target|``, as ``torch.nn.functional.l1_loss``.

    Args:
        input: predictions, any shape.
        target: same shape as ``input`` (broadcast with a warning otherwise).
        size_average, reduce: deprecated, as in torch; use ``reduction``.
        reduction: ``'none' | 'mean' | 'sum'``.
        weight: optional elementwise weights of ``input``'s shape; with it
            ``'mean'`` is ``sum(weight * |d|) / sum(weight)``.

    The gradient at ``input == target`` is 0, as torch's.
    """
    return _elementwise("l1_loss", _L1, input, target, reduction, weight, legacy=(size_average, reduce),
                        mean_over_weight=True)


@silent_nonfinite
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error ``(input - target)^2``, as ``torch.nn.functional.mse_loss``.

    Arguments as :func:`l1_loss`; with ``weight``, ``'mean'`` is
    ``sum(weight * d^2) / sum(weight)``.
    """
    return _elementwise("mse_loss", _MSE, input, target, reduction, weight, legacy=(size_average, reduce),
                        mean_over_weight=True)


@silent_nonfinite
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber loss, as ``torch.nn.functional.huber_loss``.

    ``0.5 d^2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 delta)``, with
    ``d = input - target`` and ``delta > 0``.  With ``weight`` (elementwise,
    ``input``'s shape), ``'mean'`` divides ``sum(weight * loss)`` by the number
    of elements, as torch does.  The result has ``input``'s dtype (promoted
    with ``weight``'s), as torch's, computed in the promotion with ``target``'s.
    """
    checks.positive("huber_loss", "delta", delta)
    return _elementwise("huber_loss", _huber(delta, 1.0), input, target, reduction, weight,
                        result_of_input=True)


@silent_nonfinite
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Smooth L1 loss, as ``torch.nn.functional.smooth_l1_loss``.

    ``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``, i.e.
    ``huber_loss(delta=beta) / beta``; ``beta = 0`` is exactly :func:`l1_loss`.
    """
    checks.positive("smooth_l1_loss", "beta", beta, allow_zero=True)
    pointwise = _L1 if beta == 0 else _huber(beta, beta)
    return _elementwise("smooth_l1_loss", pointwise, input, target, reduction, legacy=(size_average, reduce))
