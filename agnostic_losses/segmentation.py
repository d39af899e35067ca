"""MONAI's overlap losses of segmentation, which torch.nn lacks: Dice (and Jaccard), generalized Dice, Tversky.

Same names, arguments, defaults and values as ``monai.losses`` 1.6
(``DiceLoss``, ``GeneralizedDiceLoss``, ``TverskyLoss``), gradients included
(MONAI's are torch autograd of these formulas): functional forms
``dice_loss(input, target, **options)`` and classes with MONAI's constructors.
``input`` is ``(B, N, *spatial)``: a batch, ``N`` classes (MONAI's channels)
along ``axis`` (keyword only; MONAI's: 1) and at least one spatial axis.
``target`` has ``input``'s shape (one-hot or soft labels), or 1 along the
class axis with ``to_onehot_y=True`` (class indices).

Per sample and class (or per class, with ``batch=True``), sums over the
spatial axes give ``tp = sum(p g)``, ``fp = sum(p) - tp``, ``fn = sum(g) - tp``
(``p`` the prediction after its activation, ``g`` the target); with
``soft_label=True`` they are MONAI's norm forms, ``tp = (|p| + |g| - |p - g|) / 2``
with ``|a| = sum(|a|)``, exact for soft labels, and with ``squared_pred=True``
the same with squared norms ``|a| = sum(a^2)``.

Where MONAI computes in float32 whatever the input's dtype, ours computes in
the input's: its one-hot target (``to_onehot_y``; the squared and soft-label
norms of it then round), a class ``weight`` given as numbers, and the
generalized Dice weights; in float64 the values differ from MONAI's in the
8th digit there.  With ``to_onehot_y`` the class indices' dtype does not
enter the result's (MONAI: float32 indices give float32).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

from . import _checks as checks
from . import _primitives as P
from ._classes import LossClass, loss_class
from ._docs import with_args
from ._setup import setup, silent_nonfinite
from ._typing import Array

__all__ = ["dice_loss", "generalized_dice_loss", "tversky_loss", "DiceLoss", "GeneralizedDiceLoss", "TverskyLoss"]

_W_TYPES = ("square", "simple", "uniform")


def _common_options(loss, include_background, to_onehot_y, sigmoid, softmax, other_act, batch, ignore_index):
    """The checks of the options every one of MONAI's losses takes (at a call, and at a class's construction)."""
    if other_act is not None and not callable(other_act):
        raise TypeError(f"{loss}: other_act must be None or callable, got {type(other_act).__name__}")
    for name, flag in (("include_background", include_background), ("to_onehot_y", to_onehot_y),
                       ("sigmoid", sigmoid), ("softmax", softmax), ("batch", batch)):
        checks.boolean(loss, name, flag)
    if sigmoid + softmax + (other_act is not None) > 1:
        raise ValueError(f"{loss}: at most one of sigmoid=True, softmax=True and other_act may be given")
    if ignore_index is not None and (isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral)):
        raise TypeError(f"{loss}: ignore_index must be an int or None, got {type(ignore_index).__name__}")


def _activated(loss, input, target, reduction, include_background, to_onehot_y, sigmoid, softmax, other_act,
               ignore_index, batch, axis):
    """MONAI's common steps: options checked, the activation applied, ``target`` made one-hot, the background
    class dropped and ignored positions zeroed.  Returns the setup, ``p``, ``g``, the class axis and the axes the
    overlaps sum over."""
    _common_options(loss, include_background, to_onehot_y, sigmoid, softmax, other_act, batch, ignore_index)
    # class indices to make one-hot are indices: their dtype is not the result's
    s = setup(loss, reduction, {"input": input, "target": target}, **(
        {"indices": ("target",), "result": ("input",)} if to_onehot_y else {"targets": ("target",)}))
    xp, (p, g) = s.xp, s.arrays
    if p.ndim < 3:
        raise ValueError(f"{loss}: input must be (B, N, *spatial) with at least one spatial axis, got shape "
                         f"{tuple(p.shape)}")
    if g.ndim != p.ndim:
        raise ValueError(f"{loss}: target must have input's {p.ndim} axes, got shape {tuple(g.shape)}")
    axis = checks.axis(loss, axis, p.ndim, "input", exclude=(0,))
    n = p.shape[axis]
    if sigmoid:
        p = P.sigmoid(p)
    if softmax and n == 1:
        checks.warn_user(f"{loss}: single channel prediction, softmax=True ignored")
    elif softmax:
        p = xp.exp(P.log_softmax(p, axis=axis))
    if other_act is not None:
        p = other_act(p)
    labels = g
    if to_onehot_y and n == 1:  # the target is used as given, as without to_onehot_y
        checks.warn_user(f"{loss}: single channel prediction, to_onehot_y=True ignored")
        to = xp.result_type(p.dtype, g.dtype) if xp.isdtype(g.dtype, "real floating") else p.dtype
        s.dtype = xp.result_type(s.dtype, to)
        p, g = xp.astype(p, to), xp.astype(g, to)
    elif to_onehot_y:
        if g.shape[axis] != 1:
            raise ValueError(f"{loss}: with to_onehot_y=True, target must have 1 class index along axis {axis}, "
                             f"got shape {tuple(g.shape)}")
        other = ignore_index if ignore_index is not None and not 0 <= ignore_index < n else None
        checks.values(loss, "target", g, lambda v: ((v >= 0) & (v < n) & (v % 1 == 0)) | (v == other),
                      f"class indices in [0, {n})" + ("" if other is None else f" or ignore_index={other}"))
        if other is not None:  # MONAI's: made class 0 before the one-hot, then masked
            g = xp.where(g == other, xp.zeros_like(g), g)
        g = xp.astype(g == _classes(xp, n, g, axis), p.dtype)
    if g.shape != p.shape:
        raise ValueError(f"{loss}: target must have input's shape {tuple(p.shape)}" +
                         (" (one-hot)" if to_onehot_y else "") + f", got {tuple(g.shape)}")
    if not include_background and n == 1:
        checks.warn_user(f"{loss}: single channel prediction, include_background=False ignored")
    elif not include_background:
        p, g = _from(p, 1, axis), _from(g, 1, axis)
    keep = _kept(xp, labels, ignore_index, axis, p.dtype)
    if keep is not None:
        p, g = p * keep, g * keep
    axes = tuple(a for a in range(p.ndim) if a != axis and (batch or a != 0))
    return s, p, g, axis, axes


def _classes(xp, n, like, axis):
    """``0, 1, ..., n-1`` along ``axis`` of an array of ``like``'s rank and dtype."""
    shape = (n,) + (1,) * (like.ndim - axis - 1)
    return xp.reshape(xp.arange(n, dtype=like.dtype, device=P.device(like)), shape)


def _from(a, start, axis, stop=None):
    return a[(slice(None),) * axis + (slice(start, stop), ...)]


def _kept(xp, labels, ignore_index, axis, dtype):
    """MONAI's mask of the positions ``ignore_index`` keeps (1) and drops (0), one along the class axis: a
    class-index target's positions not equal to it; a one-hot one's positions outside that class, or where it
    is no class (labels all 0), for an index that is none; in ``dtype``."""
    if ignore_index is None:
        return None
    n = labels.shape[axis]
    if n == 1:
        return xp.astype(labels != ignore_index, dtype)
    if 0 <= ignore_index < n:
        return 1 - _from(labels, ignore_index, axis, ignore_index + 1)
    return xp.astype(xp.sum(labels, axis=axis, keepdims=True) > 0, dtype)


def _overlaps(xp, p, g, axes, order, soft_label, decoupled=True):
    """``tp, fp, fn`` summed over ``axes`` (kept, of size 1), as MONAI's ``compute_tp_fp_fn``."""
    def total(a):
        return xp.sum(a, axis=axes, keepdims=True)

    if order == 1 and not soft_label:
        tp = total(p * g)
        if decoupled:
            return tp, total(p) - tp, total(g) - tp
        return tp, total(p * (1 - g)), total((1 - p) * g)

    def norm(a):  # MONAI's vector norm, to the power ``order``
        return total(P.abs(a)) if order == 1 else total(a * a)

    p_o, g_o = norm(p), norm(g)
    tp = (p_o + g_o - norm(p - g)) / 2
    return tp, p_o - tp, g_o - tp


def _reduced(xp, f, reduction, batch, shape=None):
    """MONAI's reductions; ``'none'`` keeps ``f``'s summed axes as 1 (and drops the batch axis where ``batch``
    summed it), or gives ``shape``."""
    if reduction == "mean":
        return xp.mean(f)
    if reduction == "sum":
        return xp.sum(f)
    if shape is not None:
        return xp.reshape(f, shape)
    return xp.reshape(f, f.shape[1:]) if batch else f


def _class_weight(loss, xp, weight, n, f, axis, include_background):
    """DiceLoss's ``weight``: a number or ``n`` numbers >= 0, along the class axis of ``f``, in its dtype."""
    if P.is_array(weight):
        checks.namespace(loss, input=f, weight=weight)
        w = xp.astype(weight, f.dtype)
    else:
        w = xp.asarray(weight, dtype=f.dtype, device=P.device(f))
    if w.ndim > 1 or w.ndim == 1 and w.shape[0] != n:
        without = "" if include_background else ", the background left out"
        raise ValueError(f"{loss}: weight must be a number or one per class ({n}{without}), got shape "
                         f"{tuple(w.shape)}")
    checks.values(loss, "weight", w, lambda v: v >= 0, "values >= 0")
    return xp.reshape(w, (-1,) + (1,) * (f.ndim - axis - 1))


@silent_nonfinite
def dice_loss(input: Array, target: Array, include_background: bool = True, to_onehot_y: bool = False,
              sigmoid: bool = False, softmax: bool = False, other_act: Callable[[Array], Array] | None = None,
              squared_pred: bool = False, jaccard: bool = False, reduction: str = "mean", smooth_nr: float = 1e-5,
              smooth_dr: float = 1e-5, batch: bool = False, weight: Array | float | Sequence[float] | None = None,
              soft_label: bool = False, ignore_index: int | None = None, *, axis: int = 1) -> Array:
    """Dice loss (or Jaccard's, ``jaccard=True``), as ``monai.losses.DiceLoss``.

    ``1 - (2 tp + smooth_nr) / (2 tp + fp + fn + smooth_dr)`` per sample and
    class (Jaccard: ``1 - (2 tp + smooth_nr) / (2 (tp + fp + fn) + smooth_dr)``),
    times the class's ``weight``; see the module for ``tp, fp, fn``.

    Args:
        input: predictions ``(B, N, *spatial)`` (probabilities, or logits with an activation).
        target: ``input``'s shape, or ``(B, 1, *spatial)`` class indices with ``to_onehot_y``.
        include_background: False drops class 0 (after the activation).
        to_onehot_y: ``target`` holds class indices, made one-hot over the ``N`` classes.
        sigmoid: apply the sigmoid to ``input`` (at most one of the three activations).
        softmax: apply the softmax over the class axis.
        other_act: another activation, a function of an array of ``input``'s library.
        squared_pred: ``sum(p^2)`` and ``sum(g^2)`` in the denominator (the norm forms of order 2).
        jaccard: the Jaccard (soft IoU) loss instead.
        reduction: ``'mean'`` (default) | ``'sum'`` | ``'none'``: ``(B, N, 1, ...)``, or ``(N, 1, ...)`` with
            ``batch`` (MONAI's broadcastable shapes; with another ``axis``, ``N`` on that axis).
        smooth_nr: added to the numerator.
        smooth_dr: added to the denominator.
        batch: sum the overlaps over the batch too: one loss per class.
        weight: per-class weights of the loss, a number or ``N`` numbers (``N - 1`` without the background),
            >= 0; ignored with a single class.
        soft_label: the norm forms, exact for soft labels.
        ignore_index: positions whose target is this class index are left out (both ``p`` and ``g`` zeroed);
            for a one-hot target, positions of that class, or positions of no class for an index of none.
        axis: the class axis (keyword only), not 0.

    Returns a 0-d array, or the ``'none'`` shape above.  A single class with
    ``softmax``, ``to_onehot_y`` or ``include_background=False`` warns and skips
    that step, as MONAI.  Unlike MONAI, bad options raise ``ValueError`` or
    ``TypeError`` (MONAI: ``AssertionError`` for shapes).

    Examples:
        >>> import numpy as np
        >>> p = np.array([[[0.9, 0.2, 0.1]], [[0.3, 0.8, 0.7]]])  # (B=2, N=1, 3)
        >>> g = np.array([[[1.0, 0.0, 0.0]], [[0.0, 1.0, 1.0]]])
        >>> round(float(dice_loss(p, g)), 6)
        0.196172

    Reference: Milletari et al., V-Net (2016); ``monai.losses.DiceLoss``.
    """
    loss = "dice_loss"
    for name, flag in (("squared_pred", squared_pred), ("jaccard", jaccard), ("soft_label", soft_label)):
        checks.boolean(loss, name, flag)
    s, p, g, axis, axes = _activated(loss, input, target, reduction, include_background, to_onehot_y, sigmoid,
                                     softmax, other_act, ignore_index, batch, axis)
    tp, fp, fn = _overlaps(s.xp, p, g, axes, 2 if squared_pred else 1, soft_label)
    if not jaccard:
        fp, fn = fp * 0.5, fn * 0.5
    f = 1 - (2 * tp + smooth_nr) / (2 * (tp + fp + fn) + smooth_dr)
    if weight is not None and f.shape[axis] != 1:
        f = f * _class_weight(loss, s.xp, weight, f.shape[axis], f, axis, include_background)
    return s.finish(_reduced(s.xp, f, s.reduction, batch))


@silent_nonfinite
@with_args(dice_loss, batch="sum the overlaps over the batch too: one loss in all (the classes are "
           "summed either way).")
def generalized_dice_loss(input: Array, target: Array, include_background: bool = True, to_onehot_y: bool = False,
                          sigmoid: bool = False, softmax: bool = False,
                          other_act: Callable[[Array], Array] | None = None, w_type: str = "square",
                          reduction: str = "mean", smooth_nr: float = 1e-5, smooth_dr: float = 1e-5,
                          batch: bool = False, soft_label: bool = False, *, axis: int = 1) -> Array:
    """Generalised Dice loss, as ``monai.losses.GeneralizedDiceLoss``.

    ``1 - (2 sum_c w_c tp_c + smooth_nr) / (sum_c w_c (2 tp_c + fp_c + fn_c) + smooth_dr)``
    per sample (over the batch with ``batch``), the class weights
    ``w_c = 1 / G_c^2`` (``w_type='square'``), ``1 / G_c`` (``'simple'``) or 1
    (``'uniform'``) of the target's volume ``G_c = sum(g)``; a class of volume 0
    takes the largest finite weight of the sample's classes (of all, with
    ``batch``), as MONAI.

    Args:
        w_type: ``'square'`` (default) | ``'simple'`` | ``'uniform'``.
        reduction: ``'mean'`` (default) | ``'sum'`` | ``'none'``: ``(B, 1, 1, ...)``, or ``(1, 1, ...)`` with
            ``batch``.

    MONAI computes the weights in float32 whatever the input's dtype; ours in
    the input's (in float64 they differ in the 8th digit).  MONAI's cannot be
    differentiated with respect to ``target`` (it updates the weights in
    place); ours can, the gradient through the largest weight going to every
    tied class equally, and 0 through an empty class's.

    Examples:
        >>> import numpy as np
        >>> p = np.array([[[0.9, 0.2, 0.1], [0.1, 0.8, 0.9]]])  # (B=1, N=2, 3)
        >>> g = np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]])
        >>> round(float(generalized_dice_loss(p, g)), 6)
        0.15873

    Reference: Sudre et al., Generalised Dice overlap as a deep learning loss function for highly unbalanced
    segmentations (2017); ``monai.losses.GeneralizedDiceLoss``.
    """
    loss = "generalized_dice_loss"
    if w_type not in _W_TYPES:
        raise ValueError(f"{loss}: w_type must be one of {_W_TYPES}, got {w_type!r}")
    checks.boolean(loss, "soft_label", soft_label)
    s, p, g, axis, axes = _activated(loss, input, target, reduction, include_background, to_onehot_y, sigmoid,
                                     softmax, other_act, None, batch, axis)
    xp = s.xp
    tp, fp, fn = _overlaps(xp, p, g, axes, 1, soft_label)
    volume = xp.sum(g, axis=axes, keepdims=True)
    w = _volume_weights(xp, volume, w_type)
    empty = xp.isinf(w)  # a volume of 0 (or one whose weight overflows), as MONAI finds it
    w = xp.where(empty, xp.zeros_like(w), _volume_weights(xp, xp.where(empty, xp.ones_like(volume), volume), w_type))
    w = w + xp.astype(empty, w.dtype) * xp.max(w, axis=None if batch else axis, keepdims=True)
    numerator = 2 * xp.sum(tp * w, axis=axis, keepdims=True) + smooth_nr
    denominator = xp.sum((2 * tp + fp + fn) * w, axis=axis, keepdims=True) + smooth_dr
    return s.finish(_reduced(xp, 1 - numerator / denominator, s.reduction, batch))


def _volume_weights(xp, volume, w_type):
    return 1 / (volume * volume) if w_type == "square" else 1 / volume if w_type == "simple" else xp.ones_like(volume)


@silent_nonfinite
@with_args(dice_loss)
def tversky_loss(input: Array, target: Array, include_background: bool = True, to_onehot_y: bool = False,
                 sigmoid: bool = False, softmax: bool = False, other_act: Callable[[Array], Array] | None = None,
                 alpha: float = 0.5, beta: float = 0.5, reduction: str = "mean", smooth_nr: float = 1e-5,
                 smooth_dr: float = 1e-5, batch: bool = False, soft_label: bool = False,
                 ignore_index: int | None = None, *, axis: int = 1) -> Array:
    """Tversky loss, as ``monai.losses.TverskyLoss``.

    ``1 - (tp + smooth_nr) / (tp + alpha fp + beta fn + smooth_dr)`` per sample
    and class, with ``fp = sum(p (1 - g))`` and ``fn = sum((1 - p) g)`` (the norm
    forms with ``soft_label``); ``alpha = beta = 0.5`` is the Dice loss (but for
    the smoothing terms).

    Args:
        alpha: the weight of false positives.
        beta: the weight of false negatives.
        reduction: ``'mean'`` (default) | ``'sum'`` | ``'none'``: ``(B, N)``, or ``(N,)`` with ``batch``, whatever
            the ``axis``.

    Examples:
        >>> import numpy as np
        >>> p = np.array([[[0.9, 0.2, 0.1]], [[0.3, 0.8, 0.7]]])  # (B=2, N=1, 3)
        >>> g = np.array([[[1.0, 0.0, 0.0]], [[0.0, 1.0, 1.0]]])
        >>> round(float(tversky_loss(p, g, alpha=0.3, beta=0.7)), 6)
        0.188872

    Reference: Salehi et al., Tversky loss function for image segmentation using 3D fully convolutional deep
    networks (2017); ``monai.losses.TverskyLoss``.
    """
    loss = "tversky_loss"
    for name, value in (("alpha", alpha), ("beta", beta)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{loss}: {name} must be a float, got {type(value).__name__}")
    checks.boolean(loss, "soft_label", soft_label)
    s, p, g, axis, axes = _activated(loss, input, target, reduction, include_background, to_onehot_y, sigmoid,
                                     softmax, other_act, ignore_index, batch, axis)
    tp, fp, fn = _overlaps(s.xp, p, g, axes, 1, soft_label, decoupled=False)
    f = 1 - (tp + smooth_nr) / (tp + alpha * fp + beta * fn + smooth_dr)
    shape = (f.shape[axis],) if batch else (f.shape[0], f.shape[axis])
    return s.finish(_reduced(s.xp, f, s.reduction, batch, shape))


def _constructor(loss, reduction, include_background, to_onehot_y, sigmoid, softmax, other_act, batch,
                 ignore_index=None):
    """What MONAI's constructors check: the reduction and the activations."""
    checks.reduction(loss, reduction, ("none", "mean", "sum"))
    _common_options(loss, include_background, to_onehot_y, sigmoid, softmax, other_act, batch, ignore_index)


def _dice_spec(include_background=True, to_onehot_y=False, sigmoid=False, softmax=False, other_act=None,
               squared_pred=False, jaccard=False, reduction="mean", smooth_nr=1e-5, smooth_dr=1e-5, batch=False,
               weight=None, soft_label=False, ignore_index=None):
    _constructor("DiceLoss", reduction, include_background, to_onehot_y, sigmoid, softmax, other_act, batch,
                 ignore_index)


def _generalized_dice_spec(include_background=True, to_onehot_y=False, sigmoid=False, softmax=False,
                           other_act=None, w_type="square", reduction="mean", smooth_nr=1e-5, smooth_dr=1e-5,
                           batch=False, soft_label=False):
    _constructor("GeneralizedDiceLoss", reduction, include_background, to_onehot_y, sigmoid, softmax, other_act,
                 batch)
    if w_type not in _W_TYPES:
        raise ValueError(f"GeneralizedDiceLoss: w_type must be one of {_W_TYPES}, got {w_type!r}")


def _tversky_spec(include_background=True, to_onehot_y=False, sigmoid=False, softmax=False, other_act=None,
                  alpha=0.5, beta=0.5, reduction="mean", smooth_nr=1e-5, smooth_dr=1e-5, batch=False,
                  soft_label=False, ignore_index=None):
    _constructor("TverskyLoss", reduction, include_background, to_onehot_y, sigmoid, softmax, other_act, batch,
                 ignore_index)


# name: (functional form, constructor with MONAI's signature); agnostic_losses.torch makes Modules of them too
TABLE = {
    "DiceLoss": (dice_loss, _dice_spec),
    "GeneralizedDiceLoss": (generalized_dice_loss, _generalized_dice_spec),
    "TverskyLoss": (tversky_loss, _tversky_spec),
}
DiceLoss = loss_class(LossClass, "DiceLoss", __name__, *TABLE["DiceLoss"])
GeneralizedDiceLoss = loss_class(LossClass, "GeneralizedDiceLoss", __name__, *TABLE["GeneralizedDiceLoss"])
TverskyLoss = loss_class(LossClass, "TverskyLoss", __name__, *TABLE["TverskyLoss"])
