"""torch.nn-style loss classes: options at construction, arrays at call.

Every class is made from one row of :data:`TABLE`: the functional form, and a
function with torch.nn's constructor signature whose body checks the options.
The classes of this module are plain callables (not ``torch.nn.Module``s), so
they work with every array library; ``forward`` is an alias of ``__call__``
for torch habits.  :mod:`agnostic_losses.torch` makes ``torch.nn.Module``
classes from the same table.

>>> import numpy as np
>>> import agnostic_losses as al
>>> loss = al.HuberLoss(reduction="sum", delta=0.5)
>>> float(loss(np.array([0.0, 2.0]), np.zeros(2)))
0.875
"""

from __future__ import annotations

import math
from collections.abc import Callable

from . import _checks as checks
from . import classification as C
from . import linear as L
from . import margin as M
from . import probabilistic as Pr
from . import regression as R
from . import sequence as S
from ._classes import _Class, LossClass, Options, loss_class  # noqa: F401  (Options: agnostic_losses.torch's base too)


def _p_is_1_or_2(p):
    if p not in (1, 2):
        raise ValueError(f"MultiMarginLoss: p must be 1 or 2, got {p!r}")


def _linear_options(label_smoothing, options):
    """torch's checks at construction: label_smoothing (its RuntimeError), options (its class's __post_init__)."""
    checks.option_in("LinearCrossEntropyLoss", "label_smoothing", label_smoothing, 0.0, 1.0, nan=True)
    if options is not None:
        L.option_fields("LinearCrossEntropyLoss", options)


# name: (functional form, constructor).  The constructor has torch.nn's signature (names, order,
# defaults, keyword-only marks) and checks the options that torch checks at construction.
TABLE = {
    "L1Loss": (R.l1_loss, lambda size_average=None, reduce=None, reduction="mean": None),
    "MSELoss": (R.mse_loss, lambda size_average=None, reduce=None, reduction="mean": None),
    "HuberLoss": (R.huber_loss, lambda reduction="mean", delta=1.0: checks.positive("HuberLoss", "delta", delta)),
    "SmoothL1Loss": (R.smooth_l1_loss, lambda size_average=None, reduce=None, reduction="mean", beta=1.0:
                     checks.positive("SmoothL1Loss", "beta", beta, allow_zero=True)),
    "CrossEntropyLoss": (C.cross_entropy, lambda weight=None, size_average=None, ignore_index=-100, reduce=None,
                         reduction="mean", label_smoothing=0.0: None),
    "LinearCrossEntropyLoss": (
        L.linear_cross_entropy,
        lambda in_features, num_classes, *, out_features=(), bias=False, reduction="mean", weight=None,
        ignore_index=None, label_smoothing=0.0, options=None, chunk_size=None:
        _linear_options(label_smoothing, options)),
    "NLLLoss": (C.nll_loss, lambda weight=None, size_average=None, ignore_index=-100, reduce=None,
                reduction="mean": None),
    "BCELoss": (C.binary_cross_entropy, lambda weight=None, size_average=None, reduce=None, reduction="mean": None),
    "BCEWithLogitsLoss": (C.binary_cross_entropy_with_logits, lambda weight=None, size_average=None, reduce=None,
                          reduction="mean", pos_weight=None: None),
    "MultiLabelSoftMarginLoss": (C.multilabel_soft_margin_loss, lambda weight=None, size_average=None, reduce=None,
                                 reduction="mean": None),
    "SoftMarginLoss": (C.soft_margin_loss, lambda size_average=None, reduce=None, reduction="mean": None),
    "KLDivLoss": (Pr.kl_div, lambda size_average=None, reduce=None, reduction="mean", log_target=False: None),
    "PoissonNLLLoss": (Pr.poisson_nll_loss, lambda log_input=True, full=False, size_average=None, eps=1e-8,
                       reduce=None, reduction="mean": None),
    "GaussianNLLLoss": (Pr.gaussian_nll_loss, lambda *, full=False, eps=1e-6, reduction="mean": None),
    "MarginRankingLoss": (M.margin_ranking_loss, lambda margin=0.0, size_average=None, reduce=None,
                          reduction="mean": None),
    "HingeEmbeddingLoss": (M.hinge_embedding_loss, lambda margin=1.0, size_average=None, reduce=None,
                           reduction="mean": None),
    "MultiMarginLoss": (M.multi_margin_loss, lambda p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                        reduction="mean": _p_is_1_or_2(p)),
    "MultiLabelMarginLoss": (M.multilabel_margin_loss, lambda size_average=None, reduce=None, reduction="mean": None),
    "CosineEmbeddingLoss": (M.cosine_embedding_loss, lambda margin=0.0, size_average=None, reduce=None,
                            reduction="mean": None),
    "TripletMarginLoss": (M.triplet_margin_loss, lambda margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None,
                          reduce=None, reduction="mean": checks.positive("TripletMarginLoss", "margin", margin)),
    "TripletMarginWithDistanceLoss": (
        M.triplet_margin_with_distance_loss,
        lambda *, distance_function=None, margin=1.0, swap=False, reduction="mean":
        checks.positive("TripletMarginWithDistanceLoss", "margin", margin)),
    "CTCLoss": (S.ctc_loss, lambda blank=0, reduction="mean", zero_infinity=False: None),
}

# TABLE's names, written out for type checkers (tests/test_typing.py checks that they agree)
__all__ = [
    "L1Loss", "MSELoss", "HuberLoss", "SmoothL1Loss", "CrossEntropyLoss", "LinearCrossEntropyLoss", "NLLLoss",
    "BCELoss", "BCEWithLogitsLoss", "MultiLabelSoftMarginLoss", "SoftMarginLoss", "KLDivLoss", "PoissonNLLLoss",
    "GaussianNLLLoss", "MarginRankingLoss", "HingeEmbeddingLoss", "MultiMarginLoss", "MultiLabelMarginLoss",
    "CosineEmbeddingLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss", "CTCLoss",
]


class _LinearAtCall(LossClass):
    """See :func:`agnostic_losses.linear_cross_entropy`; called as ``loss(input, target, linear_weight, linear_bias=None)``.

    torch's class owns a ``torch.nn.Linear`` (its parameters made on ``device``
    in ``dtype``).  A loss written for every array library cannot make
    parameters for one of them, and JAX differentiates only what is passed in,
    so this class owns none: the linear layer's weight (and bias) are arrays
    the caller passes at every call (:class:`agnostic_losses.torch.LinearCrossEntropyLoss`
    owns them, as torch's).  The constructor keeps torch's shape contract
    (``in_features``, ``num_classes``, ``out_features``, ``bias``), checked at
    each call, and torch's loss options with its ``options`` (a
    ``torch.nn.LinearCrossEntropyOptions`` or a dict of its fields; see the
    function), plus ``chunk_size`` (ours); ``device`` and ``dtype`` are not
    taken (they would have nothing to act on).

    ``linear_weight`` has shape ``(num_classes, *out_features, in_features)``
    or torch's flat storage ``(num_classes * prod(out_features), in_features)``
    (as ``torch.nn.LinearCrossEntropyLoss(...).linear.weight``); ``linear_bias``,
    required with ``bias=True`` and refused without, ``(num_classes,
    *out_features)`` or flat.
    """

    _doc = __doc__

    def _init(self, options: dict) -> None:
        super()._init({**options, "out_features": tuple(options["out_features"])})

    def __call__(self, input, target, linear_weight, linear_bias=None):
        if self.bias != (linear_bias is not None):
            raise ValueError(f"LinearCrossEntropyLoss: made with bias={self.bias}, so linear_bias must be "
                             f"{'an array' if self.bias else 'None'}, got {type(linear_bias).__name__}")
        shape = (self.num_classes, *self.out_features)
        linear_weight = self._shaped("linear_weight", linear_weight, shape + (self.in_features,))
        if linear_bias is not None:
            linear_bias = self._shaped("linear_bias", linear_bias, shape)
        return L.linear_cross_entropy(input, linear_weight, target, linear_bias=linear_bias, weight=self.weight,
                                      reduction=self.reduction, ignore_index=self.ignore_index,
                                      label_smoothing=self.label_smoothing, options=self.options,
                                      chunk_size=self.chunk_size)

    forward = __call__

    def _shaped(self, name, a, shape):
        """``a`` of ``shape``; torch's flat storage (class and out_features axes in one) is reshaped to it."""
        xp = checks.namespace("LinearCrossEntropyLoss", **{name: a})
        k = 1 + len(self.out_features)
        flat = (math.prod(shape[:k]),) + shape[k:]
        if tuple(a.shape) not in (shape, flat):
            raise ValueError(f"LinearCrossEntropyLoss: {name} must have shape {shape} or {flat}, got {tuple(a.shape)}")
        return xp.reshape(a, shape)


def make_class(base: type[_Class], name: str, module: str, spec: Callable[..., None] | None = None) -> type[_Class]:
    """The class ``name`` of :data:`TABLE` as a subclass of ``base`` (an :class:`Options`), in ``module``;
    ``spec`` replaces the row's constructor (its signature and checks)."""
    fn, row_spec = TABLE[name]
    return loss_class(base, name, module, fn, spec or row_spec)


globals().update({name: make_class(_LinearAtCall if name == "LinearCrossEntropyLoss" else LossClass, name, __name__)
                  for name in TABLE})

# The classes made above, for type checkers (tests/test_typing.py checks that these are TABLE's names)
L1Loss: type[LossClass]
MSELoss: type[LossClass]
HuberLoss: type[LossClass]
SmoothL1Loss: type[LossClass]
CrossEntropyLoss: type[LossClass]
LinearCrossEntropyLoss: type[_LinearAtCall]
NLLLoss: type[LossClass]
BCELoss: type[LossClass]
BCEWithLogitsLoss: type[LossClass]
MultiLabelSoftMarginLoss: type[LossClass]
SoftMarginLoss: type[LossClass]
KLDivLoss: type[LossClass]
PoissonNLLLoss: type[LossClass]
GaussianNLLLoss: type[LossClass]
MarginRankingLoss: type[LossClass]
HingeEmbeddingLoss: type[LossClass]
MultiMarginLoss: type[LossClass]
MultiLabelMarginLoss: type[LossClass]
CosineEmbeddingLoss: type[LossClass]
TripletMarginLoss: type[LossClass]
TripletMarginWithDistanceLoss: type[LossClass]
CTCLoss: type[LossClass]
