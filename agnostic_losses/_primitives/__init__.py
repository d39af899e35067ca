"""What the array API standard lacks, for the losses: one package, split by concern.

    _settings    the switches: generic_primitives, value_checks
    _dispatch    which library an array comes from, and its backend module
    _numerics    logsumexp, log_softmax, softplus, sigmoid, vector_norm, clip, ...
    _indexing    take_along_axis, mark, bin_sum, sort, searchsorted
    _autodiff    stop_gradient, elementwise, custom_vjp
    _chunks      elementwise formulas in pieces, row-wise ones in chunks, scan
    _values      the data value checks read
    _torch, _jax, _numpy, _dask, _cupy   the backend modules: the only ones that import a library

Every function takes and returns arrays of the caller's library.  Each has a
*generic* version written against the standard alone, correct on any
array-API library, and some have a *native* fast path in a backend module.
``generic_primitives()`` (or ``AGNOSTIC_LOSSES_GENERIC=1``) forces the generic
versions everywhere, which is how the tests prove both paths give torch.nn's
values and gradients.  See docs/design.md.
"""

from ._autodiff import custom_vjp, elementwise, elementwise_of, elementwise_sum, elementwise_sum_of, stop_gradient
from ._chunks import chunked, compiles_loops, row_chunk, scan
from ._dispatch import (
    array_namespace, as_array, compiling, device, divide, is_array, library_name, placement, placement_function,
    quiet,
)
from ._indexing import bin_sum, gathers_by_one_hot, mark, searchsorted, sort, take_along_axis, wide_indices
from ._numerics import (
    LOSS_EPSILON,
    abs,
    abs_,
    clip,
    cumulative_sum,
    erf,
    finite_max,
    lerp,
    log_sigmoid,
    log_softmax,
    log_softmax_at,
    logsumexp,
    one_where_zero,
    shift_max,
    sigmoid,
    sign,
    softplus,
    vector_norm,
    wide_float,
)
from ._pieces import Chunks, result_shape
from ._settings import generic_primitives, using_generic, value_checks
from ._values import host_data, host_values, value_range

__all__ = [
    "array_namespace", "is_array", "library_name", "device", "placement", "placement_function", "as_array", "divide", "quiet", "compiling",
    "generic_primitives", "using_generic", "value_checks", "host_values", "host_data", "value_range",
    "stop_gradient", "elementwise", "elementwise_of", "elementwise_sum", "elementwise_sum_of", "custom_vjp",
    "abs", "abs_", "sign", "logsumexp", "log_softmax", "log_softmax_at", "softplus", "log_sigmoid", "sigmoid", "lerp",
    "one_where_zero", "finite_max", "shift_max", "wide_float", "LOSS_EPSILON", "clip", "vector_norm", "cumulative_sum", "erf",
    "take_along_axis", "gathers_by_one_hot", "wide_indices", "mark", "bin_sum", "sort", "searchsorted",
    "scan", "compiles_loops", "chunked", "row_chunk", "Chunks", "result_shape",
]
