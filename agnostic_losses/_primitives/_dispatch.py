"""Which library an array comes from, and that library's backend module.

A backend module (``_torch``, ``_jax``, ``_numpy`` for NumPy and
array-api-strict, ``_dask``, ``_cupy``) holds everything its library does its
own way, and is the only module that imports it.  It is imported when an array
of that library is first seen, so ``import agnostic_losses`` imports no
framework.  A primitive asks ``native(x, name)`` for its library's fast path
(None while ``generic_primitives`` is on: then the standard-only code runs) and
``own(x, name)`` for what the library must do its own way whatever the switch
(its autodiff hooks, its memory layout).  A backend's function may return None
for arguments it leaves to the generic code.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import array_api_compat as _compat

from .._typing import Array
from ._settings import _GENERIC


def is_torch(x) -> bool:
    """A torch tensor: a plain isinstance, which torch.compile traces without a graph break (torch is
    already imported where ``x`` can be one)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def is_jax(x) -> bool:
    """A JAX array, concrete or traced."""
    jax = sys.modules.get("jax")
    return jax is not None and isinstance(x, jax.Array)


# the backend modules by their library's top-level module name (JAX's arrays are found by isinstance: their
# types live in jaxlib and jax._src)
_BACKENDS = {"numpy": "_numpy", "array_api_strict": "_numpy", "dask": "_dask", "cupy": "_cupy"}
_TORCH = f"{__package__}._torch"
_BY_TYPE = {}  # type -> backend module or None: found once per type, as a primitive asks at every call


def backend(x):
    """``x``'s backend module, or None for a library without one (its arrays take the generic code)."""
    torch = sys.modules.get("torch")  # is_torch, inline: this runs several times in every call of a loss
    if torch is not None and isinstance(x, torch.Tensor):  # no cache by type: torch.compile traces fake tensors
        return sys.modules.get(_TORCH) or _import_torch()
    kind = type(x)
    try:
        return _BY_TYPE[kind]
    except KeyError:
        found = _BY_TYPE[kind] = _find(x)
        return found


def _find(x):
    name = "_jax" if is_jax(x) else _BACKENDS.get(type(x).__module__.partition(".")[0])
    return None if name is None else importlib.import_module(f"{__package__}.{name}")


def _import_torch():
    from . import _torch  # an import statement, which torch.compile traces where it meets the first tensor

    return _torch


def own(x, name: str):
    """The function ``name`` of ``x``'s backend module, whatever ``generic_primitives`` says, or None."""
    module = backend(x)
    key = None if module is None else module.__name__, name  # torch.compile takes no module as a key
    try:
        return _OWN[key]
    except KeyError:  # once per backend and name: getattr's default costs an AttributeError at every miss
        found = getattr(module, name, None)
        if not compiling():  # torch.compile traces no store into a global
            _OWN[key] = found
        return found


_OWN = {}  # (backend module's name or None, name) -> its function or None


def native(x, name: str):
    """The fast path ``name`` of ``x``'s backend module, or None (none there, or the generic primitives forced)."""
    if _GENERIC[0]:
        return None
    return own(x, name)


def compiling() -> bool:
    """Whether torch.compile is tracing the caller (Python side effects such as warnings are not allowed)."""
    if sys.modules.get("torch") is None:
        return False
    return (sys.modules.get(_TORCH) or _import_torch()).compiling()


def is_array(x) -> bool:
    """An array of some library (a NumPy scalar counts; a Python number does not)."""
    if type(x) in (bool, int, float, complex):
        return False
    return is_torch(x) or is_jax(x) or _compat.is_array_api_obj(x)


def array_namespace(*arrays: Any) -> Any:
    """The array-API namespace shared by ``arrays`` (None entries are skipped); a TypeError for two libraries.

    All torch tensors: array-api-compat's torch namespace, found without a call into array-api-compat,
    whose cached helpers torch.compile warns about.

    >>> P.array_namespace(np.zeros(1)).__name__
    'array_api_compat.numpy'
    """
    given = [a for a in arrays if a is not None]
    if given and all(is_torch(a) for a in given):
        return (sys.modules.get(_TORCH) or _import_torch()).xp
    return _compat.array_namespace(*given)


def library_name(x) -> str:
    """A short name of the library that made ``x``, for error messages."""
    top = type(x).__module__.split(".")[0]
    return {"jaxlib": "jax"}.get(top, top)


def device(x):
    """The device ``x`` lives on."""
    return x.device if is_torch(x) else _compat.device(x)


def placement(x):
    """Where ``x`` lives, for the one-device check, or None where the library moves arrays itself (JAX
    names incompatible devices in its own error) or has one device."""
    hook = own(x, "placement")
    return None if hook is None else hook(x)


def placement_function(x):
    """``placement`` for the arrays of ``x``'s library, or None where that library places none itself (a
    caller that checks many arrays of one library looks it up once)."""
    return own(x, "placement")


def as_array(x):
    """``x``, with a NumPy scalar (what NumPy's reductions return) made a 0-d array."""
    hook = own(x, "as_array")
    return x if hook is None else hook(x)


def quiet(x):
    """A context in which ``x``'s library computes inf and NaN without a warning, as torch does (NumPy warns):
    None where the library is silent already."""
    kind = type(x)
    try:
        hook = _QUIET[kind]
    except KeyError:
        hook = own(x, "quiet")
        if not compiling():  # torch.compile traces no store into a global
            _QUIET[kind] = hook
    return None if hook is None else hook()


_QUIET = {}  # type -> its backend's quiet or None: asked at every call of a loss


def divide(a: Array, b: Array) -> Array:
    """``a / b``, where ``0 / 0`` is NaN and ``x / 0`` inf without a warning, as torch's (a mean over no
    elements; NumPy warns): the backend's own division where it has one.

    >>> float(P.divide(np.float64(0.0), 0))
    nan
    """
    hook = own(a, "divide")
    return a / b if hook is None else hook(a, b)
