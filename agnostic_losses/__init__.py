"""Loss functions of torch.nn, written once against the Python array API standard.

They run unchanged on NumPy, PyTorch, JAX, CuPy, Dask and array-api-strict
arrays, and equal ``torch.nn.functional`` in value and gradient.
"""

from . import (classification, detection, linear, margin, metrics, nn, optax_form, primitives, probabilistic,
               regression, segmentation, sequence)
from ._define import Loss as Loss  # the type of what loss makes, for annotations
from ._define import loss
from ._primitives import generic_primitives, value_checks
from .classification import *  # noqa: F403
from .detection import *  # noqa: F403
from .linear import *  # noqa: F403
from .margin import *  # noqa: F403
from .nn import *  # noqa: F403
from .optax_form import *  # noqa: F403
from .probabilistic import *  # noqa: F403
from .regression import *  # noqa: F403
from .segmentation import *  # noqa: F403
from .sequence import *  # noqa: F403

__version__ = "0.1.0"

# Each module's __all__ is its list of public names; the package's is their union.
__all__ = [
    *regression.__all__, *classification.__all__, *detection.__all__, *linear.__all__, *probabilistic.__all__,
    *margin.__all__, *sequence.__all__, *optax_form.__all__, *segmentation.__all__, *nn.__all__,
    "generic_primitives", "value_checks", "loss",
]
