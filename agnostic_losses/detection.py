"""Losses of dense detection and segmentation that torch.nn lacks: the focal losses (``torchvision.ops``'
sigmoid one, ``kornia.losses``' softmax one) and torchvision's IoU losses of boxes (generalized, distance,
complete).

Same names, arguments, defaults and values as the library that defines each,
gradients included (torchvision's and kornia's are torch autograd of these
formulas).  Boxes are ``(x1, y1, x2, y2)`` with ``x1 < x2`` and ``y1 < y2``,
along the last axis.
"""

from __future__ import annotations

import math
import numbers

from . import _checks as checks
from . import _primitives as P
from ._classes import LossClass, loss_class
from ._docs import with_args
from ._reduction import reduce as _reduce
from ._setup import setup, silent_nonfinite
from ._typing import Array
from .classification import _bce_logits_derivatives

__all__ = [
    "sigmoid_focal_loss",
    "focal_loss",
    "FocalLoss",
    "generalized_box_iou_loss",
    "distance_box_iou_loss",
    "complete_box_iou_loss",
]


@silent_nonfinite
def sigmoid_focal_loss(inputs: Array, targets: Array, alpha: float = 0.25, gamma: float = 2,
                       reduction: str = "none") -> Array:
    """Focal loss of logits (RetinaNet), as ``torchvision.ops.sigmoid_focal_loss``.

    ``a_t (1 - p_t)^gamma bce(x, t)`` with ``p = sigmoid(x)``,
    ``p_t = p t + (1 - p)(1 - t)``, ``a_t = alpha t + (1 - alpha)(1 - t)`` (no
    ``a_t`` where ``alpha == -1``) and ``bce`` the binary cross-entropy of
    logits, elementwise.

    Args:
        inputs: logits, any shape.
        targets: labels in [0, 1] (usually 0 or 1) of ``inputs``' shape; integer and boolean labels are taken
            as floats.
        alpha: the weight of the positive class, in [0, 1], or -1 for none.
        gamma: the exponent of the modulating factor ``1 - p_t``.
        reduction: ``'none'`` (default, as torchvision) | ``'mean'`` | ``'sum'``.

    Returns ``inputs``' shape for ``'none'``, else a 0-d array.

    Examples:
        >>> import numpy as np
        >>> float(sigmoid_focal_loss(np.array([2.0, -1.0]), np.array([1.0, 0.0]), reduction="sum"))  # doctest: +ELLIPSIS
        0.0174...

    Reference: Lin et al., Focal Loss for Dense Object Detection (2017); ``torchvision.ops.sigmoid_focal_loss``.
    """
    loss = "sigmoid_focal_loss"
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"{loss}: alpha must be a float, got {type(alpha).__name__}")
    if not (0 <= alpha <= 1 or alpha == -1):
        raise ValueError(f"{loss}: alpha must be in [0, 1] or -1 for none, got {alpha}")
    if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real):
        raise TypeError(f"{loss}: gamma must be a float or int, got {type(gamma).__name__}")
    s = setup(loss, reduction, {"inputs": inputs, "targets": targets}, targets=("targets",), result=("inputs",))
    checks.same_shape(loss, "targets", targets, "inputs", inputs)
    x, t = s.arrays
    ce = P.elementwise(_bce_of_logits, _bce_logits_derivatives, x, t)  # torch's gradient of it too
    p = P.sigmoid(x)
    p_t = p * t + (1 - p) * (1 - t)
    out = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        out = (alpha * t + (1 - alpha) * (1 - t)) * out
    return s.finish(_reduce(out, s.reduction))


@silent_nonfinite
def focal_loss(pred: Array, target: Array, alpha: float | None, gamma: float = 2.0, reduction: str = "none",
               weight: Array | None = None, ignore_index: int | None = -100, *, axis: int = 1) -> Array:
    """Softmax focal loss of class indices, as ``kornia.losses.focal_loss``.

    ``-a_t w_t (1 - p_t)^gamma log(p_t)`` at each position, ``p_t`` the
    softmax probability of the target class along ``axis``, ``a_t = 1 - alpha``
    for class 0 (the background) and ``alpha`` for the others (1 where
    ``alpha`` is None), ``w_t = weight[target]`` (1 without ``weight``).

    Args:
        pred: logits ``(B, C, *)``, the classes along ``axis`` (kornia's: 1).
        target: class indices, ``pred``'s shape less ``axis``, in ``[0, C)`` or ``ignore_index``.
        alpha: the weight of the classes other than 0, in [0, 1], or None.
        gamma: the exponent of ``1 - p_t``, >= 0.
        reduction: ``'none'`` (default, as kornia: the ``(B, C, *)`` map, the loss in the target's slice
            and 0 in the others) | ``'mean'`` (the map's mean: the sum divided by ``B C *``, ignored
            positions included) | ``'sum'``.
        weight: one weight per class ``(C,)``, or None; ``'mean'`` is not divided by the weights.
        ignore_index: positions of this target are 0 in every slice, with a zero gradient (None: none).
        axis: the class axis (keyword only).

    Where ``1 - p_t`` rounds to 0 its factor takes no gradient, as kornia's
    (``x^gamma`` has an infinite slope at 0 for ``gamma < 1``).  Unlike
    kornia, ``alpha`` outside [0, 1] and a negative ``gamma`` are errors, and an
    infinite ``weight`` of a class no position is labelled with leaves the loss
    finite (kornia's dense map multiplies it by 0: NaN).

    Examples:
        >>> import numpy as np
        >>> pred = np.array([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]])
        >>> float(focal_loss(pred, np.array([0, 2]), alpha=0.25, reduction="sum"))  # doctest: +ELLIPSIS
        0.0093...

    Reference: Lin et al., Focal Loss for Dense Object Detection (2017); ``kornia.losses.focal_loss``.
    """
    loss = "focal_loss"
    if alpha is not None:
        checks.option_in(loss, "alpha", alpha, 0.0, 1.0)
    checks.positive(loss, "gamma", gamma, allow_zero=True)
    s = setup(loss, reduction, {"pred": pred, "weight": weight, "target": target}, indices=("target",))
    xp, (x, w, t) = s.xp, s.arrays
    if x.ndim < 2:
        raise ValueError(f"{loss}: pred must hold logits (B, C, *), got shape {tuple(x.shape)}")
    axis = checks.axis(loss, axis, x.ndim, "pred")
    n = x.shape[axis]
    checks.integral(loss, xp, "target", t, "class indices")
    checks.shape_is(loss, "target", t, x.shape[:axis] + x.shape[axis + 1:], "pred's shape less the class axis")
    if w is not None:
        checks.shape_is(loss, "weight", w, (n,), "one weight per class")
    checks.indices(loss, "target", t, 0, n, f"class indices in [0, {n}) or ignore_index={ignore_index}",
                   also=ignore_index)
    t = P.wide_indices(t)
    kept = None if ignore_index is None else t != ignore_index
    if kept is not None:  # kornia's: an ignored position's logits are 0, so that none of it overflows
        t = xp.where(kept, t, 0)
        x = xp.where(xp.expand_dims(kept, axis=axis), x, 0.0)
    log_p = xp.squeeze(P.log_softmax_at(x, xp.expand_dims(t, axis=axis), axis=axis), axis=axis)
    base = 1 - xp.exp(log_p)
    saturated = base == 0
    factor = xp.where(saturated, P.stop_gradient(base) ** gamma, xp.where(saturated, 1.0, base) ** gamma)
    out = -factor * log_p
    if alpha is not None:
        out = xp.where(t == 0, 1 - alpha, xp.full_like(out, alpha)) * out
    if w is not None:
        out = xp.reshape(xp.take(w, xp.reshape(t, (-1,))), t.shape) * out
    if kept is not None:
        out = xp.where(kept, out, 0.0)
    if s.reduction == "mean":  # the mean of the (B, C, *) map
        return s.finish(P.divide(_reduce(out, "sum"), math.prod(x.shape)))
    if s.reduction == "sum":
        return s.finish(_reduce(out, "sum"))
    classes = xp.reshape(xp.arange(n, dtype=t.dtype, device=P.device(t)), (n,) + (1,) * (x.ndim - axis - 1))
    return s.finish(xp.where(xp.expand_dims(t, axis=axis) == classes, xp.expand_dims(out, axis=axis), 0.0))


def _bce_of_logits(x, t):
    """``t softplus(-x) + (1 - t) softplus(x)``, the binary cross-entropy of logits as a sum of two positive
    terms: exact in float32 where torch's ``(1 - t) x - log_sigmoid(x)`` cancels (a small loss)."""
    out = P.softplus(-x)
    out *= t
    out += (1 - t) * P.softplus(x)
    return out


def _boxes(loss, boxes1, boxes2, reduction):
    """The boxes' setup: two arrays of boxes, last axis 4, broadcasting together."""
    s = setup(loss, reduction, {"boxes1": boxes1, "boxes2": boxes2}, targets=("boxes2",))
    for name, b in (("boxes1", boxes1), ("boxes2", boxes2)):
        if b.ndim < 1 or b.shape[-1] != 4:
            raise ValueError(f"{loss}: {name} must hold boxes (x1, y1, x2, y2) along its last axis, an array of "
                             f"shape (..., 4), got {tuple(b.shape)}")
    checks.broadcast_shape(loss, boxes1=boxes1, boxes2=boxes2)
    return s


def _corners(b):
    return tuple(b[..., i] for i in range(4))


def _reduce_boxes(xp, out, reduction):
    """torchvision's reductions of the box losses: the 'mean' of no boxes is 0, not NaN."""
    if reduction == "mean" and math.prod(out.shape) == 0:
        return xp.sum(out) * 0.0
    return _reduce(out, reduction)


def _enclosing(xp, b1, b2):
    """The smallest box enclosing both (a tie of corners splits the gradient, as ``torch.min``/``torch.max``)."""
    (x1, y1, x2, y2), (x1g, y1g, x2g, y2g) = _corners(b1), _corners(b2)
    return xp.minimum(x1, x1g), xp.minimum(y1, y1g), xp.maximum(x2, x2g), xp.maximum(y2, y2g)


def _intersection_union(xp, b1, b2):
    """The areas of the boxes' intersection (0 where they do not overlap, with a zero gradient) and union."""
    (x1, y1, x2, y2), (x1g, y1g, x2g, y2g) = _corners(b1), _corners(b2)
    w = xp.minimum(x2, x2g) - xp.maximum(x1, x1g)
    h = xp.minimum(y2, y2g) - xp.maximum(y1, y1g)
    intersection = xp.where((h > 0) & (w > 0), w * h, 0.0)
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - intersection
    return intersection, union


def _distance_iou(xp, b1, b2, eps):
    """``1 - IoU + rho^2 / c^2``, and the IoU: ``rho`` the distance of the centres, ``c`` the enclosing box's
    diagonal."""
    intersection, union = _intersection_union(xp, b1, b2)
    iou = intersection / (union + eps)
    xc1, yc1, xc2, yc2 = _enclosing(xp, b1, b2)
    diagonal = (xc2 - xc1) ** 2 + (yc2 - yc1) ** 2 + eps
    (x1, y1, x2, y2), (x1g, y1g, x2g, y2g) = _corners(b1), _corners(b2)
    centres = ((x2 + x1) / 2 - (x1g + x2g) / 2) ** 2 + ((y2 + y1) / 2 - (y1g + y2g) / 2) ** 2
    return 1 - iou + centres / diagonal, iou


@silent_nonfinite
def generalized_box_iou_loss(boxes1: Array, boxes2: Array, reduction: str = "none", eps: float = 1e-7) -> Array:
    """Generalized IoU loss of boxes, as ``torchvision.ops.generalized_box_iou_loss``.

    ``1 - IoU + (|C| - |A u B|) / |C|`` per pair of boxes A, B, with ``C``
    their smallest enclosing box; ``IoU = |A n B| / (|A u B| + eps)`` and
    ``eps`` also added to ``|C|`` in the denominator.  Symmetric in its arguments.

    Args:
        boxes1: predicted boxes ``(x1, y1, x2, y2)``, ``(..., 4)``, floating (torchvision: ``(N, 4)`` or
            ``(4,)``).
        boxes2: target boxes, ``(..., 4)``, broadcasting with ``boxes1``; integer boxes (ground truth in
            pixels) are taken in ``boxes1``'s dtype.
        reduction: ``'none'`` (default) | ``'mean'`` (0 for no boxes, as torchvision) | ``'sum'``.
        eps: keeps the divisions finite.

    Returns the boxes' shape less its last axis for ``'none'``, else a 0-d array.

    Examples:
        >>> import numpy as np
        >>> float(generalized_box_iou_loss(np.array([0.0, 0.0, 2.0, 2.0]), np.array([1.0, 1.0, 3.0, 4.0])))
        ... # doctest: +ELLIPSIS
        1.1388...

    Reference: Rezatofighi et al., Generalized Intersection over Union (2019);
    ``torchvision.ops.generalized_box_iou_loss``.
    """
    loss = "generalized_box_iou_loss"
    s = _boxes(loss, boxes1, boxes2, reduction)
    xp, (b1, b2) = s.xp, s.arrays
    intersection, union = _intersection_union(xp, b1, b2)
    iou = intersection / (union + eps)
    xc1, yc1, xc2, yc2 = _enclosing(xp, b1, b2)
    area = (xc2 - xc1) * (yc2 - yc1)
    return s.finish(_reduce_boxes(xp, 1 - (iou - (area - union) / (area + eps)), s.reduction))


@silent_nonfinite
@with_args(generalized_box_iou_loss)
def distance_box_iou_loss(boxes1: Array, boxes2: Array, reduction: str = "none", eps: float = 1e-7) -> Array:
    """Distance IoU loss of boxes, as ``torchvision.ops.distance_box_iou_loss``.

    ``1 - IoU + rho^2 / (c^2 + eps)`` per pair of boxes, with ``rho`` the
    distance of their centres, ``c`` the diagonal of their smallest enclosing
    box and ``IoU = |A n B| / (|A u B| + eps)``.  Symmetric in its arguments.
    The output's shape and the reductions are :func:`generalized_box_iou_loss`'s.

    Examples:
        >>> import numpy as np
        >>> boxes = np.array([[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 3.0, 3.0]])
        >>> distance_box_iou_loss(boxes, np.array([1.0, 1.0, 3.0, 4.0])).round(4).tolist()
        [1.0189, 0.3526]

    Reference: Zheng et al., Distance-IoU Loss (2020); ``torchvision.ops.distance_box_iou_loss``.
    """
    s = _boxes("distance_box_iou_loss", boxes1, boxes2, reduction)
    xp, (b1, b2) = s.xp, s.arrays
    return s.finish(_reduce_boxes(xp, _distance_iou(xp, b1, b2, eps)[0], s.reduction))


@silent_nonfinite
@with_args(generalized_box_iou_loss, eps="added to ``alpha``'s denominator only.")
def complete_box_iou_loss(boxes1: Array, boxes2: Array, reduction: str = "none", eps: float = 1e-7) -> Array:
    """Complete IoU loss of boxes, as ``torchvision.ops.complete_box_iou_loss``.

    The distance IoU loss plus ``alpha v``, with
    ``v = 4 / pi^2 (atan(w2 / h2) - atan(w1 / h1))^2`` (the boxes' aspect
    ratios; ``boxes2`` is the ground truth ``w2, h2``) and
    ``alpha = v / (1 - IoU + v + eps)`` a constant of the gradient (torchvision
    computes it under ``no_grad``).

    As torchvision's, the distance IoU part always takes ``eps = 1e-7``.  The
    output's shape and the reductions are :func:`generalized_box_iou_loss`'s.

    Examples:
        >>> import numpy as np
        >>> float(complete_box_iou_loss(np.array([0.0, 0.0, 2.0, 2.0]), np.array([1.0, 1.0, 3.0, 4.0])))
        ... # doctest: +ELLIPSIS
        1.0191...

    Reference: Zheng et al., Distance-IoU Loss (2020); ``torchvision.ops.complete_box_iou_loss``.
    """
    s = _boxes("complete_box_iou_loss", boxes1, boxes2, reduction)
    xp, (b1, b2) = s.xp, s.arrays
    distance, iou = _distance_iou(xp, b1, b2, 1e-7)
    (x1, y1, x2, y2), (x1g, y1g, x2g, y2g) = _corners(b1), _corners(b2)
    v = (4 / math.pi ** 2) * (xp.atan((x2g - x1g) / (y2g - y1g)) - xp.atan((x2 - x1) / (y2 - y1))) ** 2
    alpha = P.stop_gradient(v / (1 - iou + v + eps))
    return s.finish(_reduce_boxes(xp, distance + alpha * v, s.reduction))


def _focal_spec(alpha, gamma=2.0, reduction="none", weight=None, ignore_index=-100):
    """kornia.losses.FocalLoss's constructor; the options are checked at each call, as kornia's."""


# name: (functional form, constructor with the oracle's signature); agnostic_losses.torch makes Modules of them too
TABLE = {"FocalLoss": (focal_loss, _focal_spec)}
FocalLoss = loss_class(LossClass, "FocalLoss", __name__, *TABLE["FocalLoss"])
