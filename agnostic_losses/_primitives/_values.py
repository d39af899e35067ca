"""The data behind value checks (class indices in range, probabilities in [0, 1], variances >= 0).

Shapes and dtypes are always checked; values only where the data can be read
without tracing or a device transfer, unless ``value_checks('always')`` asks
for the transfer (docs/design.md, "Bad input").
"""

from __future__ import annotations

from ._dispatch import compiling, own
from ._settings import value_check_mode


def host_values(x):
    """``x`` as a NumPy array when value checks may read it (see ``value_checks``), else None: traced
    arrays, lazy Dask arrays, and device arrays unless the mode is 'always'."""
    mode = value_check_mode()
    if mode == "never" or compiling():
        return None
    hook = own(x, "host_values")
    return None if hook is None else hook(x, always=mode == "always")


def host_data(x):
    """``x`` as a NumPy array, read from any device, where its data exist (what a result needs, such as a
    classification metric's labels, whatever ``value_checks`` says), else None: traced arrays, lazy Dask arrays."""
    if compiling():
        return None
    hook = own(x, "host_values")
    return None if hook is None else hook(x, always=True)


def value_range(x):
    """``(min, max)`` of ``x``'s elements as Python numbers where value checks may read its data (as
    ``host_values``), ``()`` for an empty ``x``, else None: the backend's own reduction where it has one (torch:
    one ``aminmax``, two scalars to the host), else NumPy's of ``host_values``."""
    mode = value_check_mode()
    if mode == "never" or compiling():
        return None
    hook = own(x, "value_range")
    if hook is not None:
        return hook(x, always=mode == "always")
    v = host_values(x)
    return None if v is None else (v.min().item(), v.max().item()) if v.size else ()
