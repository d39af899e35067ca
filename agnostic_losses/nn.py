"""torch.nn-style loss classes: options at construction, arrays at call.

They are plain callables (not ``torch.nn.Module``s), so they work with every
array library; ``forward`` is an alias of ``__call__`` for torch habits.
"""

from __future__ import annotations

from . import _checks as checks
from . import regression
from ._reduction import legacy_reduction

__all__ = ["L1Loss", "MSELoss", "HuberLoss", "SmoothL1Loss"]


class _Loss:
    """Holds the reduction (and torch's deprecated ``size_average``/``reduce``)."""

    _fn = None  # the functional form, set by each subclass

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        self.reduction = legacy_reduction(size_average, reduce, reduction)

    def _options(self):
        return {"reduction": self.reduction}

    def __call__(self, input, target):
        return type(self)._fn(input, target, **self._options())

    forward = __call__

    def __repr__(self):
        options = ", ".join(f"{k}={v!r}" for k, v in self._options().items())
        return f"{type(self).__name__}({options})"


class L1Loss(_Loss):
    """See :func:`agnostic_losses.l1_loss`."""

    _fn = staticmethod(regression.l1_loss)


class MSELoss(_Loss):
    """See :func:`agnostic_losses.mse_loss`."""

    _fn = staticmethod(regression.mse_loss)


class HuberLoss(_Loss):
    """See :func:`agnostic_losses.huber_loss`."""

    _fn = staticmethod(regression.huber_loss)

    def __init__(self, reduction="mean", delta=1.0):
        checks.positive("HuberLoss", "delta", delta)
        super().__init__(reduction=reduction)
        self.delta = delta

    def _options(self):
        return {"reduction": self.reduction, "delta": self.delta}


class SmoothL1Loss(_Loss):
    """See :func:`agnostic_losses.smooth_l1_loss`."""

    _fn = staticmethod(regression.smooth_l1_loss)

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        checks.positive("SmoothL1Loss", "beta", beta, allow_zero=True)
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def _options(self):
        return {"reduction": self.reduction, "beta": self.beta}
