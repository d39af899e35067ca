"""The two switches of the primitives layer: generic primitives everywhere, and when value checks read data.

Plain module-level lists, not ContextVars: torch.compile cannot trace ``ContextVar.get``.  The context
managers set and restore them (not thread-local).  This module imports nothing of the package, so every
other module, the backend modules included, may read it.
"""

from __future__ import annotations

import contextlib
import os
from contextlib import AbstractContextManager

_GENERIC = [os.environ.get("AGNOSTIC_LOSSES_GENERIC", "") not in ("", "0")]
_VALUE_CHECKS = ["host"]


@contextlib.contextmanager
def _switched(cell: list, value):
    """``cell[0]`` set to ``value`` within the block, restored after it."""
    saved, cell[0] = cell[0], value
    try:
        yield
    finally:
        cell[0] = saved


def generic_primitives(enabled: bool = True) -> AbstractContextManager[None]:
    """Within this block, use the generic array-API primitives on every backend.

    The generic version of each primitive is written against the standard alone; the tests and
    ``python -m conformance --generic`` run every loss with it, which proves both paths equal torch.nn.
    (The environment variable ``AGNOSTIC_LOSSES_GENERIC=1`` sets it for a whole process.)

    Args:
        enabled: False restores the native fast paths inside the block.

    >>> import agnostic_losses as al, numpy as np
    >>> with al.generic_primitives():
    ...     float(al.l1_loss(np.array([1.0, -2.0]), np.zeros(2)))
    1.5
    """
    return _switched(_GENERIC, bool(enabled))


def using_generic() -> bool:
    """Whether the generic primitives are forced now."""
    return _GENERIC[0]


def value_checks(mode: str = "always") -> AbstractContextManager[None]:
    """Set when checks that read the data run: 'host' (default), 'always' or 'never'.

    'host': where the data is concrete in host memory (NumPy, array-api-strict,
    eager torch CPU tensors, concrete JAX CPU arrays); skipped under tracing,
    on lazy Dask arrays and on GPUs.  'always' also copies device arrays to the
    host (a synchronisation); traced arrays still cannot be read.

    Args:
        mode: 'host', 'always' or 'never', for the block (the default of the call, 'always', reads every array
            it can).

    >>> x, t = np.array([1.5]), np.array([1.0])
    >>> al.binary_cross_entropy(x, t)
    Traceback (most recent call last):
        ...
    ValueError: binary_cross_entropy: input must hold probabilities in [0, 1], got 1.5
    >>> with al.value_checks("never"):  # not looked for: computed as the data are
    ...     float(al.binary_cross_entropy(x, t))
    nan
    """
    if mode not in ("host", "always", "never"):
        raise ValueError(f"value_checks: mode must be 'host', 'always' or 'never', got {mode!r}")
    return _switched(_VALUE_CHECKS, mode)


def value_check_mode() -> str:
    """'host', 'always' or 'never' (see ``value_checks``)."""
    return _VALUE_CHECKS[0]
