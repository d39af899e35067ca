"""Loss functions of torch.nn, written once against the Python array API standard.

They run unchanged on NumPy, PyTorch, JAX, CuPy, Dask and array-api-strict
arrays, and equal ``torch.nn.functional`` in value and gradient.
"""

from ._primitives import generic_primitives
from .nn import HuberLoss, L1Loss, MSELoss, SmoothL1Loss
from .regression import huber_loss, l1_loss, mse_loss, smooth_l1_loss

__version__ = "0.1.0"

__all__ = [
    "l1_loss",
    "mse_loss",
    "huber_loss",
    "smooth_l1_loss",
    "L1Loss",
    "MSELoss",
    "HuberLoss",
    "SmoothL1Loss",
    "generic_primitives",
]
