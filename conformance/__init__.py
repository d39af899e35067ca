"""The conformance suite (``python -m agnostic_losses.conformance``; in a clone also ``python -m conformance``), and
``check_loss`` for a user's own loss."""

from .check import Report, check_loss

__all__ = ["check_loss", "Report"]
