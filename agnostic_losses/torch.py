"""The loss classes as ``torch.nn.Module``s, made from the table of :mod:`agnostic_losses.nn`.

Imported on demand only (``import agnostic_losses`` imports no framework).
Each class has torch.nn's constructor signature; array options (``weight``,
``pos_weight``) are buffers, as in torch.nn, so ``.to(device)``,
``.to(torch.float64)``, ``state_dict()``/``load_state_dict()`` and placement
in a container treat them as torch.nn's losses do, and a ``None`` weight is a
``None`` buffer; the other options are plain attributes.  ``forward(*arrays)``
calls the functional form with the options.
:class:`LinearCrossEntropyLoss` owns its ``linear`` layer, as torch's.

>>> import torch
>>> from agnostic_losses.torch import CrossEntropyLoss
>>> loss = CrossEntropyLoss(weight=torch.tensor([1.0, 2.0])).to(torch.float64)
>>> loss.weight.dtype, list(loss.state_dict())
(torch.float64, ['weight'])
>>> round(loss(torch.zeros(3, 2, dtype=torch.float64), torch.tensor([0, 1, 1])).item(), 6)  # log 2
0.693147
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from . import detection, nn, regression, segmentation
from .linear import linear_cross_entropy

__all__ = [*nn.TABLE, *regression.CLASSES, *detection.TABLE, *segmentation.TABLE, "module"]

_BUFFERS = ("weight", "pos_weight")  # the constructor's array options, buffers in torch.nn's losses


class _Module(nn.Options, torch.nn.Module):
    """The base of this module's classes: array options as buffers, the others as attributes."""

    _doc = ("``torch.nn.Module`` form of :func:`agnostic_losses.{fn}`, as ``torch.nn.{name}``; "
            "called as ``loss({args})``.")

    def _init(self, options: dict) -> None:
        torch.nn.Module.__init__(self)
        self._options = tuple(options)
        for name, value in options.items():
            if name in _BUFFERS:
                self.register_buffer(name, self._tensor(value))
            else:
                setattr(self, name, value)

    def forward(self, *arrays: Any, **at_call: Any) -> Any:
        return self._loss(*arrays, **at_call)

    def extra_repr(self) -> str:
        return self._shown()

    @staticmethod
    def _tensor(value):
        return value


class _MonaiModule(_Module):
    """MONAI's classes: a ``weight`` given as a number or a sequence is a tensor, as MONAI's ``class_weight``."""

    @staticmethod
    def _tensor(value):
        return value if value is None else torch.as_tensor(value)


def module(loss: Callable[..., Any], name: str | None = None, module_name: str | None = None) -> type[_Module]:
    """The ``torch.nn.Module`` class of ``loss``, a loss made by :func:`agnostic_losses.loss`: its options and
    ``reduction`` at construction, ``forward(*arrays, weight=None)``; ``name`` and ``module_name`` are where
    pickle finds it (default: the loss's name in CamelCase, in the loss's module).

    >>> import agnostic_losses as al
    >>> @al.loss
    ... def squared_log_error(input, target, *, xp):
    ...     return (xp.log1p(input) - xp.log1p(target)) ** 2
    >>> SquaredLogError = module(squared_log_error)
    >>> torch.nn.Sequential(SquaredLogError(reduction="sum"))  # doctest: +ELLIPSIS
    Sequential(
      (0): SquaredLogError(reduction='sum')
    )
    """
    return loss.as_class(name, base=_Module, module=module_name)


def _linear_spec(in_features, num_classes, *, out_features=(), bias=False, device=None, dtype=None,
                 reduction="mean", weight=None, ignore_index=None, label_smoothing=0.0, options=None,
                 chunk_size=None):
    """torch.nn.LinearCrossEntropyLoss's constructor, plus ``chunk_size``; our option checks."""
    nn.TABLE["LinearCrossEntropyLoss"][1](in_features, num_classes, label_smoothing=label_smoothing, options=options)


class _LinearModule(_Module):
    """Cross-entropy of a linear layer's logits, as ``torch.nn.LinearCrossEntropyLoss``; ``loss(input, target)``.

    The module owns ``linear``, a ``torch.nn.Linear(in_features, num_classes *
    prod(out_features), bias=bias, device=device, dtype=dtype)``, made as
    torch's (so the same seed gives the same parameters, and the state_dict
    keys are torch's: ``weight`` if given, ``linear.weight``, ``linear.bias``);
    ``forward`` reshapes its flat storage to ``(num_classes, *out_features,
    in_features)`` and calls :func:`agnostic_losses.linear_cross_entropy`.

    ``options`` (a ``torch.nn.LinearCrossEntropyOptions``, or a dict of its
    fields) and ``chunk_size`` (ours) set the rows per chunk, as in the
    function; torch's fields that tune its own kernel have no effect here.
    """

    _doc = __doc__

    def _init(self, options: dict) -> None:
        layer = {k: options.pop(k) for k in ("in_features", "bias", "device", "dtype")}
        super()._init({**options, "out_features": tuple(options["out_features"])})
        features = math.prod(self.out_features, start=self.num_classes)
        self.linear = torch.nn.Linear(layer["in_features"], features, bias=layer["bias"], device=layer["device"],
                                      dtype=layer["dtype"])

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        shape = (self.num_classes, *self.out_features)
        linear_weight = self.linear.weight.reshape(shape + (self.linear.in_features,))
        linear_bias = None if self.linear.bias is None else self.linear.bias.reshape(shape)
        return linear_cross_entropy(input, linear_weight, target, linear_bias=linear_bias, weight=self.weight,
                                    reduction=self.reduction, ignore_index=self.ignore_index,
                                    label_smoothing=self.label_smoothing, options=self.options,
                                    chunk_size=self.chunk_size)


globals().update({name: nn.make_class(_Module, name, __name__) for name in nn.TABLE
                  if name != "LinearCrossEntropyLoss"})
LinearCrossEntropyLoss = nn.make_class(_LinearModule, "LinearCrossEntropyLoss", __name__, spec=_linear_spec)

# the classes of the losses torch lacks, as Modules of this module
globals().update({name: module(getattr(regression, name)._fn, name, __name__) for name in regression.CLASSES})
globals().update({name: nn.loss_class(_Module, name, __name__, fn, spec) for name, (fn, spec) in detection.TABLE.items()})
globals().update({name: nn.loss_class(_MonaiModule, name, __name__, fn, spec)
                  for name, (fn, spec) in segmentation.TABLE.items()})

# The classes made above, for type checkers (tests/test_typing.py checks that these are __all__'s names).
L1Loss: type[_Module]
MSELoss: type[_Module]
HuberLoss: type[_Module]
SmoothL1Loss: type[_Module]
CrossEntropyLoss: type[_Module]
NLLLoss: type[_Module]
BCELoss: type[_Module]
BCEWithLogitsLoss: type[_Module]
MultiLabelSoftMarginLoss: type[_Module]
SoftMarginLoss: type[_Module]
KLDivLoss: type[_Module]
PoissonNLLLoss: type[_Module]
GaussianNLLLoss: type[_Module]
MarginRankingLoss: type[_Module]
HingeEmbeddingLoss: type[_Module]
MultiMarginLoss: type[_Module]
MultiLabelMarginLoss: type[_Module]
CosineEmbeddingLoss: type[_Module]
TripletMarginLoss: type[_Module]
TripletMarginWithDistanceLoss: type[_Module]
CTCLoss: type[_Module]
MAPELoss: type[_Module]
MSLELoss: type[_Module]
RMSELoss: type[_Module]
LogCoshLoss: type[_Module]
PinballLoss: type[_Module]
FocalLoss: type[_Module]
DiceLoss: type[_Module]
GeneralizedDiceLoss: type[_Module]
TverskyLoss: type[_Module]
