"""The regression losses of torch.nn: L1, MSE, Huber and smooth L1.

Each is an elementwise function of ``d = input - target`` (broadcast as torch
does, with a warning when the shapes differ), optionally multiplied by an
elementwise ``weight`` of ``input``'s shape, then reduced.
"""

from __future__ import annotations

from . import _checks as checks
from . import _primitives as P
from ._reduction import legacy_reduction, reduce

__all__ = ["l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss"]


def _elementwise(loss, pointwise, input, target, reduction, weight=None, *, mean_over_weight=False):
    """The skeleton shared by the four losses: check, ``pointwise(input - target)``, weigh, reduce.

    With ``weight``, 'mean' divides by ``sum(weight)`` when ``mean_over_weight``
    (torch's l1 and mse) and by the number of elements otherwise (torch's huber).
    """
    xp = checks.namespace(loss, input=input, target=target, weight=weight)
    checks.floating(loss, xp, input=input, target=target, weight=weight)
    checks.reduction(loss, reduction)
    checks.broadcastable(loss, input, target)
    checks.same_shape(loss, "weight", weight, "input", input)
    out = pointwise(input - target)
    if weight is None:
        return reduce(out, reduction)
    return reduce(out * weight, reduction, mean_weights=weight if mean_over_weight else None)


def _huber(d, delta):
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``.

    The quadratic branch reads ``|d|`` only where it is taken, so an infinite
    ``d`` cannot put ``0 * inf`` into the gradient of the branch left out.
    """
    xp = P.array_namespace(d)
    z = P.abs(d)
    inside = z < delta
    zq = xp.where(inside, z, xp.zeros_like(z))
    return xp.where(inside, 0.5 * zq * zq, delta * (z - 0.5 * delta))


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
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _elementwise("l1_loss", P.abs, input, target, reduction, weight, mean_over_weight=True)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error ``(input - target)^2``, as ``torch.nn.functional.mse_loss``.

    Arguments as :func:`l1_loss`; with ``weight``, ``'mean'`` is
    ``sum(weight * d^2) / sum(weight)``.
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _elementwise("mse_loss", lambda d: d * d, input, target, reduction, weight, mean_over_weight=True)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber loss, as ``torch.nn.functional.huber_loss``.

    ``0.5 d^2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 delta)``, with
    ``d = input - target`` and ``delta > 0``.  With ``weight`` (elementwise,
    ``input``'s shape), ``'mean'`` divides ``sum(weight * loss)`` by the number
    of elements, as torch does.
    """
    checks.positive("huber_loss", "delta", delta)
    return _elementwise("huber_loss", lambda d: _huber(d, delta), input, target, reduction, weight)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Smooth L1 loss, as ``torch.nn.functional.smooth_l1_loss``.

    ``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``, i.e.
    ``huber_loss(delta=beta) / beta``; ``beta = 0`` is exactly :func:`l1_loss`.
    """
    checks.positive("smooth_l1_loss", "beta", beta, allow_zero=True)
    reduction = legacy_reduction(size_average, reduce, reduction)
    pointwise = P.abs if beta == 0 else (lambda d: _huber(d, beta) / beta)
    return _elementwise("smooth_l1_loss", pointwise, input, target, reduction)
