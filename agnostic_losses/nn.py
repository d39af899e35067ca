"""torch.nn-style loss classes: options at construction, arrays at call.

They are plain callables (not ``torch.nn.Module``s), so they work with every
array library; ``forward`` is an alias of ``__call__`` for torch habits.  Each
constructor has torch's signature; the options it keeps are passed to the
functional form by keyword at every call.
"""

from __future__ import annotations

import math

from . import _checks as checks
from . import classification as C
from . import margin as M
from . import probabilistic as Pr
from . import regression as R
from . import sequence as S
from ._reduction import legacy_reduction

__all__ = [
    "L1Loss", "MSELoss", "HuberLoss", "SmoothL1Loss",
    "CrossEntropyLoss", "LinearCrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "MultiLabelSoftMarginLoss",
    "SoftMarginLoss", "KLDivLoss", "PoissonNLLLoss", "GaussianNLLLoss",
    "MarginRankingLoss", "HingeEmbeddingLoss", "MultiMarginLoss", "MultiLabelMarginLoss",
    "CosineEmbeddingLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss",
    "CTCLoss",
]


class _Loss:
    """Keeps the constructor's options; ``size_average``/``reduce`` become ``reduction`` as in torch."""

    _fn = None  # the functional form, set by each subclass

    def _keep(self, options: dict) -> None:
        options = {k: v for k, v in options.items() if k not in ("self", "__class__")}
        legacy = options.pop("size_average", None), options.pop("reduce", None)
        options["reduction"] = legacy_reduction(*legacy, options["reduction"])
        self._options = options
        for name, value in options.items():
            setattr(self, name, value)

    def __call__(self, *arrays):
        return type(self)._fn(*arrays, **{k: getattr(self, k) for k in self._options})

    forward = __call__

    def __repr__(self):
        shown = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._options
                          if not hasattr(getattr(self, k), "shape"))
        return f"{type(self).__name__}({shown})"


class L1Loss(_Loss):
    """See :func:`agnostic_losses.l1_loss`."""

    _fn = staticmethod(R.l1_loss)

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        self._keep(locals())


class MSELoss(_Loss):
    """See :func:`agnostic_losses.mse_loss`."""

    _fn = staticmethod(R.mse_loss)

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        self._keep(locals())


class HuberLoss(_Loss):
    """See :func:`agnostic_losses.huber_loss`."""

    _fn = staticmethod(R.huber_loss)

    def __init__(self, reduction="mean", delta=1.0):
        checks.positive("HuberLoss", "delta", delta)
        self._keep(locals())


class SmoothL1Loss(_Loss):
    """See :func:`agnostic_losses.smooth_l1_loss`."""

    _fn = staticmethod(R.smooth_l1_loss)

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        checks.positive("SmoothL1Loss", "beta", beta, allow_zero=True)
        self._keep(locals())


class CrossEntropyLoss(_Loss):
    """See :func:`agnostic_losses.cross_entropy`."""

    _fn = staticmethod(C.cross_entropy)

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        self._keep(locals())


class LinearCrossEntropyLoss(_Loss):
    """See :func:`agnostic_losses.linear_cross_entropy`; called as ``loss(input, target, linear_weight, linear_bias=None)``.

    torch's class owns a ``torch.nn.Linear`` (its parameters made on ``device``
    in ``dtype``).  A loss written for every array library cannot make
    parameters for one of them, and JAX differentiates only what is passed in,
    so this class owns none: the linear layer's weight (and bias) are arrays
    the caller passes at every call.  The constructor keeps torch's shape
    contract (``in_features``, ``num_classes``, ``out_features``, ``bias``),
    checked at each call, and torch's loss options, plus ``chunk_size`` (ours;
    see the function) in place of torch's ``options``; ``device`` and ``dtype``
    are not taken (they would have nothing to act on).

    ``linear_weight`` has shape ``(num_classes, *out_features, in_features)``
    or torch's flat storage ``(num_classes * prod(out_features), in_features)``
    (as ``torch.nn.LinearCrossEntropyLoss(...).linear.weight``); ``linear_bias``,
    required with ``bias=True`` and refused without, ``(num_classes,
    *out_features)`` or flat.
    """

    _fn = staticmethod(C.linear_cross_entropy)

    def __init__(self, in_features, num_classes, *, out_features=(), bias=False, reduction="mean", weight=None,
                 ignore_index=None, label_smoothing=0.0, chunk_size=None):
        checks.option_in("LinearCrossEntropyLoss", "label_smoothing", label_smoothing, 0.0, 1.0)
        out_features = tuple(out_features)
        self._keep(locals())

    def __call__(self, input, target, linear_weight, linear_bias=None):
        if self.bias != (linear_bias is not None):
            raise ValueError(f"LinearCrossEntropyLoss: made with bias={self.bias}, so linear_bias must be "
                             f"{'an array' if self.bias else 'None'}, got {type(linear_bias).__name__}")
        shape = (self.num_classes, *self.out_features)
        linear_weight = self._shaped("linear_weight", linear_weight, shape + (self.in_features,))
        if linear_bias is not None:
            linear_bias = self._shaped("linear_bias", linear_bias, shape)
        return C.linear_cross_entropy(input, linear_weight, target, linear_bias=linear_bias, weight=self.weight,
                                      reduction=self.reduction, ignore_index=self.ignore_index,
                                      label_smoothing=self.label_smoothing, chunk_size=self.chunk_size)

    def _shaped(self, name, a, shape):
        """``a`` of ``shape``; torch's flat storage (class and out_features axes in one) is reshaped to it."""
        xp = checks.namespace("LinearCrossEntropyLoss", **{name: a})
        k = 1 + len(self.out_features)
        flat = (math.prod(shape[:k]),) + shape[k:]
        if tuple(a.shape) not in (shape, flat):
            raise ValueError(f"LinearCrossEntropyLoss: {name} must have shape {shape} or {flat}, got {tuple(a.shape)}")
        return xp.reshape(a, shape)

    forward = __call__


class NLLLoss(_Loss):
    """See :func:`agnostic_losses.nll_loss`."""

    _fn = staticmethod(C.nll_loss)

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        self._keep(locals())


class BCELoss(_Loss):
    """See :func:`agnostic_losses.binary_cross_entropy`."""

    _fn = staticmethod(C.binary_cross_entropy)

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        self._keep(locals())


class BCEWithLogitsLoss(_Loss):
    """See :func:`agnostic_losses.binary_cross_entropy_with_logits`."""

    _fn = staticmethod(C.binary_cross_entropy_with_logits)

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        self._keep(locals())


class MultiLabelSoftMarginLoss(_Loss):
    """See :func:`agnostic_losses.multilabel_soft_margin_loss`."""

    _fn = staticmethod(C.multilabel_soft_margin_loss)

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        self._keep(locals())


class SoftMarginLoss(_Loss):
    """See :func:`agnostic_losses.soft_margin_loss`."""

    _fn = staticmethod(C.soft_margin_loss)

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        self._keep(locals())


class KLDivLoss(_Loss):
    """See :func:`agnostic_losses.kl_div`."""

    _fn = staticmethod(Pr.kl_div)

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        self._keep(locals())


class PoissonNLLLoss(_Loss):
    """See :func:`agnostic_losses.poisson_nll_loss`."""

    _fn = staticmethod(Pr.poisson_nll_loss)

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
        self._keep(locals())


class GaussianNLLLoss(_Loss):
    """See :func:`agnostic_losses.gaussian_nll_loss`; called as ``loss(input, target, var)``."""

    _fn = staticmethod(Pr.gaussian_nll_loss)

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        self._keep(locals())


class MarginRankingLoss(_Loss):
    """See :func:`agnostic_losses.margin_ranking_loss`; called as ``loss(input1, input2, target)``."""

    _fn = staticmethod(M.margin_ranking_loss)

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        self._keep(locals())


class HingeEmbeddingLoss(_Loss):
    """See :func:`agnostic_losses.hinge_embedding_loss`."""

    _fn = staticmethod(M.hinge_embedding_loss)

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        self._keep(locals())


class MultiMarginLoss(_Loss):
    """See :func:`agnostic_losses.multi_margin_loss`."""

    _fn = staticmethod(M.multi_margin_loss)

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: p must be 1 or 2, got {p!r}")
        self._keep(locals())


class MultiLabelMarginLoss(_Loss):
    """See :func:`agnostic_losses.multilabel_margin_loss`."""

    _fn = staticmethod(M.multilabel_margin_loss)

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        self._keep(locals())


class CosineEmbeddingLoss(_Loss):
    """See :func:`agnostic_losses.cosine_embedding_loss`; called as ``loss(input1, input2, target)``."""

    _fn = staticmethod(M.cosine_embedding_loss)

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        self._keep(locals())


class TripletMarginLoss(_Loss):
    """See :func:`agnostic_losses.triplet_margin_loss`; called as ``loss(anchor, positive, negative)``."""

    _fn = staticmethod(M.triplet_margin_loss)

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None,
                 reduction="mean"):
        checks.positive("TripletMarginLoss", "margin", margin)
        self._keep(locals())


class TripletMarginWithDistanceLoss(_Loss):
    """See :func:`agnostic_losses.triplet_margin_with_distance_loss`."""

    _fn = staticmethod(M.triplet_margin_with_distance_loss)

    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        checks.positive("TripletMarginWithDistanceLoss", "margin", margin)
        self._keep(locals())


class CTCLoss(_Loss):
    """See :func:`agnostic_losses.ctc_loss`."""

    _fn = staticmethod(S.ctc_loss)

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        self._keep(locals())
