"""The conformance suite (``python -m conformance``), and ``check_loss`` for a user's own loss."""

from .check import Report, check_loss

__all__ = ["check_loss", "Report"]
