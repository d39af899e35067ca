"""Cross-entropy of a linear layer's output, ``linear_cross_entropy``, computed in chunks of rows so that the
whole logits are never held (torch 2.13's fused linear layer and cross-entropy)."""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping
from typing import Any

from . import _checks as checks
from . import _primitives as P
from . import classification as C
from ._reduction import working_precision
from ._setup import setup, silent_nonfinite
from ._typing import Array

__all__ = ["linear_cross_entropy"]

LOGITS_PER_CHUNK = 2 ** 22  # linear_cross_entropy's default chunk: at least 16 MiB of float32 logits


def default_chunk_rows(n_logits_per_row: int, in_features: int) -> int:
    """linear_cross_entropy's rows per chunk: logits of 2**22 elements or of linear_weight's, the larger."""
    return max(1, LOGITS_PER_CHUNK // max(n_logits_per_row, 1), in_features)


# torch 2.13's LinearCrossEntropyOptions: its fields and their defaults
OPTIONS = {"allow_retain_graph": False, "batch_chunk_size": None, "chunking_method": "auto", "acc_policy": "auto",
           "acc_dtype": None}
ACC_POLICIES = ("auto", "accurate", "balanced", "compact")
ACC_DTYPES = ("float16", "bfloat16", "float32", "float64")


def option_fields(loss: str, options) -> dict:
    """``options`` (torch's ``LinearCrossEntropyOptions``, a dict of its fields, or any object with their names)
    as all its fields, checked as torch's ``__post_init__`` checks them."""
    if isinstance(options, Mapping):
        given = dict(options)
    elif dataclasses.is_dataclass(options):  # a later torch's new fields count only where they are set
        given = {f.name: getattr(options, f.name) for f in dataclasses.fields(options)
                 if f.name in OPTIONS or getattr(options, f.name) != f.default}
    elif any(hasattr(options, k) for k in OPTIONS):
        given = {k: getattr(options, k) for k in OPTIONS if hasattr(options, k)}
        given.update({k: v for k, v in getattr(options, "__dict__", {}).items() if not k.startswith("_")})
    else:
        raise TypeError(f"{loss}: options must be a LinearCrossEntropyOptions, a dict of its fields or None, "
                        f"got {type(options).__name__}")
    unknown = [k for k in given if k not in OPTIONS]
    if unknown:
        raise ValueError(f"{loss}: options has no field {unknown[0]!r} (LinearCrossEntropyOptions has "
                         f"{', '.join(OPTIONS)})")
    fields = {**OPTIONS, **given}
    size = fields["batch_chunk_size"]
    rules = {
        "allow_retain_graph": (isinstance(fields["allow_retain_graph"], bool), "True or False"),
        "batch_chunk_size": (size is None or (isinstance(size, numbers.Integral) and not isinstance(size, bool)
                                              and size > 0), "an int >= 1 or None"),
        "chunking_method": (_is_chunking_method(fields["chunking_method"]),
                            "'auto', 'aspect_ratio', 'aspect_ratio:N' (N >= 1) or None"),
        "acc_policy": (fields["acc_policy"] in ACC_POLICIES, f"one of {', '.join(map(repr, ACC_POLICIES))}"),
        "acc_dtype": (fields["acc_dtype"] is None or _dtype_name(fields["acc_dtype"]) in ACC_DTYPES,
                      f"None or a dtype of {', '.join(ACC_DTYPES)}"),
    }
    for field, (ok, expected) in rules.items():
        if not ok:
            raise ValueError(f"{loss}: options.{field} must be {expected}, got {fields[field]!r}")
    return fields


def _is_chunking_method(method) -> bool:
    """torch's: 'auto', None, 'aspect_ratio' or 'aspect_ratio:N' with N >= 1."""
    if method is None or method == "auto":
        return True
    name, sep, factor = method.partition(":") if isinstance(method, str) else ("", "", "")
    return name == "aspect_ratio" and (not sep or (factor.isdigit() and int(factor) > 0))


def _dtype_name(dtype) -> str:
    """'float32' for torch.float32, numpy.float32, numpy.dtype('float32'), jax.numpy.float32 or 'float32'."""
    return getattr(dtype, "__name__", None) or str(dtype).rpartition(".")[2]


def _option_rows(loss: str, fields: dict, n_rows: int, in_features: int, width: int):
    """The rows per chunk torch's options choose (``LinearCrossEntropyOptions._adjust``), or None for
    'auto' without ``batch_chunk_size``: the library's own choice (torch's is per device, ours is
    ``default_chunk_rows``)."""
    size, method = fields["batch_chunk_size"], fields["chunking_method"]
    if method == "auto":
        return size
    if method is None:
        return max(1, n_rows) if size is None else size  # neither: one chunk, as torch's
    factor = int(method.partition(":")[2] or 1)
    wanted = -(-n_rows // -(-width // max(in_features, 1)))  # rows whose logits have the input's size
    rows = min((1 << (wanted - 1).bit_length()) // factor, n_rows)  # torch's: the next power of two, / N
    if size is not None and size != rows:
        raise ValueError(f"{loss}: options.batch_chunk_size (={size}) and options.chunking_method ({method!r}) "
                         f"give different chunk sizes ({size} vs {rows}); give only one")
    return max(1, rows)


@silent_nonfinite
def linear_cross_entropy(input: Array, linear_weight: Array, target: Array, *, linear_bias: Array | None = None,
                         weight: Array | None = None, reduction: str = "mean", ignore_index: int | None = None,
                         label_smoothing: float = 0.0, options: Any = None, chunk_size: int | None = None) -> Array:
    """Cross-entropy of ``input @ linear_weight.T + linear_bias``, as ``torch.nn.functional.linear_cross_entropy``,
    computed chunk by chunk so that no more than ``chunk_size`` rows of logits are ever held.

    Equals torch's reference path ``cross_entropy(linear(input, W, b).reshape(N, C, d1, ..., dK), target,
    weight=weight, reduction=reduction, ignore_index=ignore_index, label_smoothing=label_smoothing)`` in
    value and in gradient with respect to ``input``, ``linear_weight``, ``linear_bias`` (and probability
    targets); see :func:`cross_entropy` for the targets, ``weight``, ``label_smoothing`` and the means.

    Args:
        input: ``(H,)`` or ``(N, H)`` (H: in_features).
        linear_weight: ``(C, H)``, or ``(C, d1, ..., dK, H)`` for a K-dimensional loss (batched input only).
        target: class indices of shape ``()``, ``(N,)`` or ``(N, d1, ..., dK)``, or class probabilities of
            the logits' shape ``(C,)``, ``(N, C)`` or ``(N, C, d1, ..., dK)``.
        linear_bias: optional, ``linear_weight``'s shape less its last axis.
        weight: optional per-class weights ``(C,)`` (not differentiated, as in torch).
        reduction: ``'none' | 'mean' | 'sum'``, as :func:`cross_entropy`'s.
        ignore_index: None means -100 for class indices; giving one with probability targets is an error.
        label_smoothing: as :func:`cross_entropy`'s, in [0, 1].
        options: torch's ``torch.nn.LinearCrossEntropyOptions``, or where torch is not at hand a dict (or
            any object) of its fields (``{"batch_chunk_size": 1024}``); its chunking sets ``chunk_size``:
            ``batch_chunk_size`` is the rows per chunk, ``chunking_method='aspect_ratio[:N]'`` torch's rows
            (``next_pow2(ceil(N_rows / ceil(C d1..dK / H))) / N``), ``chunking_method=None`` without
            ``batch_chunk_size`` one chunk, and ``'auto'`` (the default) our default below.  Its other
            fields (``acc_policy``, ``acc_dtype``, ``allow_retain_graph``) tune torch's own kernel; they
            are checked and change nothing here (float16/bfloat16 work in float32, and a second backward
            pass is always allowed).  Unlike torch's, our path is the same with or without ``options``.
        chunk_size: rows of ``input`` per chunk (ours; an error where ``options`` gives another).  None:
            ``max(2**22 // (C * d1 * ... * dK), H)`` rows, so that a chunk's logits have 2**22 elements
            (16 MiB in float32) or as many as ``linear_weight``, whichever is more.  Smaller chunks save
            little (the gradient of ``linear_weight``, that size, is held anyway) and cost time: each
            chunk adds a whole gradient of ``linear_weight`` to the sum and packs ``linear_weight`` for
            its products again.

    Memory: the forward and the backward pass hold one chunk's logits at a time (never the whole
    ``(N, C, d1, ..., dK)``).  'mean' and 'sum' on torch under autograd (eager or torch.compile) and on JAX
    under differentiation: each chunk's gradients (of its losses divided by the mean's denominator) are
    taken in the forward pass, with its values (``_primitives.chunked(..., summed=True)``), and the backward
    pass scales them; under autograd the forward pass so costs the gradients even when no backward pass
    follows.  'none', and in eager mode double backward, a batched backward pass and an upstream gradient
    that is not finite: each chunk's logits are recomputed in the backward pass (``jax.checkpoint`` inside
    ``jax.lax.scan`` on JAX, ``_primitives.chunked``'s ``autograd.Function`` on torch, or
    ``torch.utils.checkpoint`` under torch.compile; NumPy, CuPy, Dask and array-api-strict have no backward
    pass), at the cost of a second matrix product per chunk.  (Under torch.compile the upstream gradient is
    not read: where it is not finite, a gradient that is an exact zero through the formula is NaN; double
    backward of a compiled call is an error, as torch.compile's own.)
    float16/bfloat16: the linear map in the input's dtype, then the cross-entropy in float32, as torch's
    reference path does.
    """
    loss = "linear_cross_entropy"
    s = setup(loss, reduction, {"input": input, "linear_weight": linear_weight, "target": target,
                                "linear_bias": linear_bias, "weight": weight},
              indices=("target",), working=False)
    xp = s.xp
    label_smoothing = checks.label_smoothing(loss, label_smoothing)
    if input.ndim not in (1, 2):
        raise ValueError(f"{loss}: input must have shape (in_features,) or (N, in_features), "
                         f"got {tuple(input.shape)}")
    h = input.shape[-1]
    if linear_weight.ndim < 2 or linear_weight.shape[-1] != h:
        raise ValueError(f"{loss}: linear_weight must have shape (C, {h}) or (C, d1, ..., dK, {h}) "
                         f"(in_features = input's last axis, {h}), got {tuple(linear_weight.shape)}")
    n_classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None:
        checks.shape_is(loss, "linear_bias", linear_bias, (n_classes,) + out_features,
                        "linear_weight's shape less its last axis")
    if out_features and input.ndim == 1:
        raise ValueError(f"{loss}: a K-dimensional linear_weight of shape {tuple(linear_weight.shape)} needs a "
                         f"batched input (N, {h}), got {tuple(input.shape)}")
    batch = tuple(input.shape[:-1])
    shape = batch + (n_classes,) + out_features  # the logits'
    if ignore_index is not None and tuple(target.shape) == shape:
        raise ValueError(f"{loss}: ignore_index cannot be given with probability targets (target has the logits' "
                         f"shape {shape}), got ignore_index={ignore_index}")
    ignore_index = -100 if ignore_index is None else ignore_index
    target, _ = C._target_checks(loss, xp, shape, target, weight, ignore_index, "the logits' shape")
    s.dtype = C.probabilities_dtype(s, target)
    width = n_classes * math.prod(out_features)
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, numbers.Integral)):
        raise TypeError(f"{loss}: chunk_size must be an int or None, got {type(chunk_size).__name__}")
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"{loss}: chunk_size must be >= 1 (rows per chunk), got {chunk_size}")
    if options is not None:
        rows = _option_rows(loss, option_fields(loss, options), batch[0] if batch else 1, h, width)
        if rows is not None and chunk_size is not None and rows != chunk_size:
            raise ValueError(f"{loss}: chunk_size={chunk_size} and options, which give {rows} rows per chunk, "
                             f"contradict each other; give one")
        chunk_size = rows if rows is not None else chunk_size
    if chunk_size is None:
        chunk_size = default_chunk_rows(width, h)

    input, linear_weight, _, linear_bias, _ = s.arrays
    w = xp.reshape(linear_weight, (width, h))
    b = None if linear_bias is None else xp.reshape(linear_bias, (width,))

    biased, weighted = b is not None, weight is not None

    def rows(x, t, w, *given):  # given: the bias and the class weights, those that are not None
        b, weight = (given[0] if biased else None), (given[-1] if weighted else None)
        logits = x @ w.T if b is None else x @ w.T + b
        logits = xp.reshape(logits, (x.shape[0], n_classes) + out_features)
        return C._cross_entropy_terms(xp, logits, t, weight, ignore_index, label_smoothing)[0]

    x, t = (input, target) if batch else (xp.expand_dims(input, axis=0), xp.expand_dims(target, axis=0))
    shared = tuple(a for a in (w, b, weight) if a is not None)
    if reduction == "none":
        out = P.chunked(rows, (x, t), int(chunk_size), shared=shared, arguments_only=True)
        return s.finish(out if batch else out[0, ...])
    # 'mean' and 'sum': the sum of the rows' losses (divided by the mean's denominator) taken in the chunks; on
    # torch under autograd and on JAX each chunk's gradients then come with its values, as in fused kernels
    divisor = None
    if reduction == "mean":
        work = s.dtype if xp.finfo(s.dtype).bits >= 32 else xp.float32  # working_precision's
        if xp.isdtype(target.dtype, "real floating"):  # the number of positions
            divisor = xp.asarray(math.prod(batch + out_features), dtype=work, device=P.device(input))
        else:
            (w_classes,) = working_precision(xp, weight)
            divisor = xp.sum(C._kept_weights(xp, t, w_classes, ignore_index, work))
    total = P.chunked(rows, (x, t), int(chunk_size), shared=shared, arguments_only=True, summed=True,
                      divisor=divisor)
    if label_smoothing and divisor is not None and not xp.isdtype(target.dtype, "real floating"):
        total = C.smoothed_mean(xp, total, divisor)
    return s.finish(total)
