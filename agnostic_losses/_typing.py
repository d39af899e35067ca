"""The type of the arrays in the public signatures.

``Array`` is a type variable, not a union of the libraries' array types: a
loss given torch tensors returns a ``torch.Tensor`` and one given JAX arrays a
``jax.Array`` to a type checker, without this package importing either.
"""

from typing import Any, TypeVar

Array = TypeVar("Array", bound=Any)
