"""Your own loss, written once: the decorator that gives a formula this library's contract.

>>> import numpy as np
>>> import agnostic_losses as al
>>> @al.loss
... def charbonnier(input, target, *, eps=1e-3, xp):
...     d = input - target
...     return xp.sqrt(d * d + eps * eps)
>>> float(charbonnier(np.array([0.0, 3.0]), np.array([0.0, -1.0]), eps=0.0, reduction="sum"))
4.0
>>> Charbonnier = charbonnier.as_class()
>>> Charbonnier(eps=0.0, reduction="none")(np.array([1.0, -2.0]), np.zeros(2)).tolist()
[1.0, 2.0]

The library's own regression losses (``l1_loss`` ... ``smooth_l1_loss``, and
``mape_loss`` ... ``pinball_loss``) are made by this same decorator.
"""

from __future__ import annotations

import functools
import inspect
import math
import typing
from collections.abc import Callable, Iterable
from typing import Any, Protocol, overload

from . import _checks as checks
from ._classes import LossClass, loss_class
from ._primitives import compiling, divide, is_array, placement_function
from ._reduction import elementwise_reduction, reduce, reduce_elementwise
from ._setup import Setup, one_place, setup, silent_nonfinite
from ._typing import Array

__all__ = ["loss"]

_P = inspect.Parameter
_WEIGHTED_MEANS = ("broadcast", "given", "count")
_NONE = type(None)
_OPTION_TYPES = (int, float, bool, str, _NONE)  # the options a seen signature's key holds
_SEEN = 64  # signatures kept per loss


class Loss(Protocol):
    """What :func:`loss` makes: the loss, with its formula and its class maker."""

    formula: Callable[..., Any]

    @overload
    def __call__(self, array: Array, /, *arrays: Array, reduction: str = "mean", weight: Array | None = None,
                 **options: Any) -> Array: ...

    @overload
    def __call__(self, **arrays_and_options: Any) -> Any: ...

    def as_class(self, name: str | None = None, *, base: type = LossClass, module: str | None = None) -> type[Any]: ...


@overload
def loss(formula: Callable[..., Any], /, *, name: str | None = None,
         derivatives: Callable[..., Any] | None = None, targets: Iterable[str] | None = None,
         indices: Iterable[str] = (), result: Iterable[str] | None = None,
         weighted_mean: str = "broadcast") -> Loss: ...


@overload
def loss(formula: None = None, /, *, name: str | None = None, derivatives: Callable[..., Any] | None = None,
         targets: Iterable[str] | None = None, indices: Iterable[str] = (), result: Iterable[str] | None = None,
         weighted_mean: str = "broadcast") -> Callable[[Callable[..., Any]], Loss]: ...


def loss(formula: Callable[..., Any] | None = None, /, *, name: str | None = None,
         derivatives: Callable[..., Any] | None = None, targets: Iterable[str] | None = None,
         indices: Iterable[str] = (), result: Iterable[str] | None = None,
         weighted_mean: str = "broadcast") -> Loss | Callable[[Callable[..., Any]], Loss]:
    """Make a loss of this library from ``formula``, its per-element (or per-sample) loss.

    ``formula(*arrays, *, <options>, xp)`` receives the arrays positionally,
    its options by keyword (each with its default), and, where it names a
    keyword ``xp``, the arrays' namespace (array-API functions: ``xp.sqrt``,
    ``xp.where``, ...); with :mod:`agnostic_losses.primitives` it returns the
    loss of each element or each sample.  The loss made from it is called as

        ``name(*arrays, *, <options>, reduction="mean", weight=None)``

    with the arrays positionally or by their names, and gives what every loss
    of this library gives:

    - **checks**: every array of one library and one device, with a real
      floating dtype (``targets`` may also be integer or boolean: taken in the
      first array's dtype, as torch takes an integer target; ``indices`` are
      integer arrays passed as they are); the arrays broadcast together (a
      warning where their shapes differ, as torch's); ``reduction`` one of
      ``'none' | 'mean' | 'sum'``; ``weight`` broadcasts to the formula's
      output.  Errors are ``TypeError``/``ValueError`` naming the loss and the
      argument.
    - **reduction**: ``'none'`` returns the formula's output, ``'sum'`` its
      sum, ``'mean'`` its mean; with ``weight`` (an array that multiplies the
      output) ``'mean'`` is ``sum(weight * loss) / sum(weight)``, the weight
      broadcast to the output's shape (see ``weighted_mean``).
    - **dtypes**: float16 and bfloat16 arrays computed in float32, the result
      in the arrays' promoted dtype (of those named in ``result``, default
      all but ``indices``), in the caller's namespace and on its device; a
      0-d array for ``'mean'`` and ``'sum'``, never a Python float.
    - **transforms**: the formula is plain array code, so the loss traces
      under ``jax.jit``, ``jax.vmap``, ``jax.grad`` and
      ``torch.compile(fullgraph=True)``, and runs lazily on Dask, as long as
      the formula does (no ``float(x)``, no ``if`` on array values).
    - NumPy computes inf and NaN without a warning inside it, as torch does.

    Args:
        formula: the per-element (or per-sample) loss.  Its positional
            parameters are the arrays (one with a default of ``None`` is
            optional, and the formula gets ``None`` when it is not given), its
            keyword-only parameters the options; ``reduction`` and ``weight``
            are the loss's own.
        name: the loss's name in errors (default: the formula's).
        derivatives: for an elementwise formula, its hand-written derivatives,
            ``derivatives(wanted, *arrays, <options>)`` as in
            :func:`agnostic_losses.primitives.elementwise`: a kink's convention
            is then yours on every backend, and ``'mean'``/``'sum'`` are
            fused with the values (no full-size array of the losses is made on
            the CPU).  Without it the backends' autodiff differentiates the
            formula.  With it the options are constants: not differentiated.
        targets: the arrays that may be integer or boolean (default: every
            array but the first and the ``indices``).
        indices: the integer arrays (class indices) passed as they are.
        result: the arrays whose promoted dtype is the result's.
        weighted_mean: what ``'mean'`` with ``weight`` divides by: the sum of
            the weight broadcast to the output ('broadcast'), of the weight as
            given ('given': torch's ``l1_loss`` and ``mse_loss``), or the
            number of elements ('count': torch's ``huber_loss``).

    Returns the loss, a function with the signature above, whose
    ``as_class(name=None)`` makes its torch.nn-style class (options and
    ``reduction`` at construction, ``loss(*arrays, weight=None)`` at call) that
    works on every library; :func:`agnostic_losses.torch.module` makes the
    same as a ``torch.nn.Module``.

    Used bare (``@loss``) or with keywords (``@loss(targets=("target",))``).
    """
    if formula is None:
        return functools.partial(loss, name=name, derivatives=derivatives, targets=targets, indices=indices,
                                 result=result, weighted_mean=weighted_mean)
    if not callable(formula):
        raise TypeError(f"loss: the formula must be a function, got {type(formula).__name__}")
    name = name or getattr(formula, "__name__", None) or type(formula).__name__
    return _make(formula, name, derivatives, targets, tuple(indices), result, weighted_mean)


def _parameters(formula, name):
    """The formula's arrays (name -> required), its options (name -> default) and whether it takes ``xp``."""
    arrays, options = {}, {}
    for p in inspect.signature(formula).parameters.values():
        if p.kind in (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD):
            if p.default is not _P.empty and p.default is not None:
                raise TypeError(f"loss {name}: array {p.name} may default to None only (an optional array), "
                                f"got {p.default!r}")
            arrays[p.name] = p.default is _P.empty
        elif p.kind is _P.KEYWORD_ONLY and p.name != "xp":
            options[p.name] = p.default
        elif p.kind is not _P.KEYWORD_ONLY:
            star = "*" if p.kind is _P.VAR_POSITIONAL else "**"
            raise TypeError(f"loss {name}: the formula's parameters must be named arrays and keyword-only "
                            f"options, got {star}{p.name}")
    if not arrays:
        raise TypeError(f"loss {name}: the formula must take at least one array (a positional parameter)")
    clash = [k for k in (*arrays, *options) if k in ("reduction", "weight")]
    if clash:
        raise TypeError(f"loss {name}: {clash[0]!r} is the loss's own argument; name the formula's otherwise")
    return arrays, options, "xp" in inspect.signature(formula).parameters


def _make(formula, name, derivatives, targets, indices, result, weighted_mean):
    arrays, options, takes_xp = _parameters(formula, name)
    names = tuple(arrays)
    targets = tuple(k for k in names[1:] if k not in indices) if targets is None else tuple(targets)
    for k in (*targets, *indices, *(result or ())):
        if k not in names:
            raise ValueError(f"loss {name}: {k!r} is not one of the formula's arrays {names}")
    if weighted_mean not in _WEIGHTED_MEANS:
        raise ValueError(f"loss {name}: weighted_mean must be one of {', '.join(map(repr, _WEIGHTED_MEANS))}, "
                         f"got {weighted_mean!r}")
    required = tuple(k for k in names if arrays[k])
    setup_result = None if result is None else (*result, "weight")
    compared = tuple(i for i, k in enumerate(names) if k not in indices)  # the arrays that broadcast together
    keys = (*names, "weight")

    def bind(args, kwargs):
        """The arrays (None where absent) and the options of a call, or the TypeError that names the mistake."""
        if len(args) > len(names):
            raise TypeError(f"{name}: takes the arrays {', '.join(names)} positionally, got {len(args)} arguments")
        given = dict(zip(names, args))
        chosen = dict(options)
        for k, v in kwargs.items():
            if k in arrays:
                if k in given:
                    raise TypeError(f"{name}: got two values for the array {k}")
                given[k] = v
            elif k in chosen:
                chosen[k] = v
            else:
                raise TypeError(f"{name}: unexpected argument {k!r}; its arrays are {', '.join(names)}, its options "
                                f"{', '.join([*options, 'reduction', 'weight'])}")
        for k in required:
            if given.get(k) is None:
                raise TypeError(f"{name}: the array {k} is required")
        for k, v in chosen.items():
            if v is _P.empty:
                raise TypeError(f"{name}: the option {k} is required")
        return tuple(given.get(k) for k in names), chosen

    # the common call (every array positionally, options by keyword, none required) skips the binding
    plain = not any(v is _P.empty for v in options.values())
    n = len(names)

    # what the checks of a call found, per signature (the reduction, the options, each array's type, dtype and
    # shape) of a call with every array, no weight and one shape that needed no cast: a call with a signature seen
    # before runs only its formula, its reduction and the device check (the checks would find the same)
    seen: dict = {}

    def call(*args, reduction="mean", weight=None, **kwargs):
        key = None
        if weight is None and len(args) == n and derivatives is not None and not compiling():
            key = _signature_key(reduction, kwargs, args)
            prepared = None if key is None else seen.get(key)
            if prepared is not None:
                out = prepared(args)
                if out is not None:
                    return out
        if len(args) == n and plain and kwargs.keys() <= options.keys() and _NONE not in map(type, args):
            chosen = {**options, **kwargs} if kwargs or takes_xp else options
        else:
            args, chosen = bind(args, kwargs)
        s = setup(name, reduction, dict(zip(keys, (*args, weight))), targets=targets, indices=indices,
                  result=setup_result)
        xs, weight = s.arrays[:-1], s.arrays[-1]
        shape = _broadcast(name, names, xs, compared)
        if takes_xp:
            chosen["xp"] = s.xp
        by_weight = weight is not None and s.reduction == "mean" and weighted_mean != "count"
        if derivatives is not None:
            value, slope, present = _elementwise(formula, derivatives, chosen, xs)
            if weight is None:
                reduced = elementwise_reduction(value, slope, present, s.reduction)
                if key is not None and all(a is b for a, b in zip(xs, args)) and \
                        all(tuple(a.shape) == shape for a in xs):
                    if len(seen) >= _SEEN:  # shapes that vary from call to call
                        seen.clear()
                    seen[key] = _prepared(reduced, Setup(s.xp, s.reduction, s.dtype, ()).finish,
                                          placement_function(xs[0]))
                return s.finish(reduced(*present))
            checks.broadcastable_to(name, "weight", weight, "the elementwise loss", shape)
            out = reduce_elementwise(value, slope, present, "sum" if by_weight else s.reduction, weight=weight)
        else:
            out = formula(*xs, **chosen)
            if not is_array(out):
                raise TypeError(f"{name}: the formula must return an array of its arrays' library, got "
                                f"{type(out).__name__}")
            if weight is not None:
                checks.broadcastable_to(name, "weight", weight, "the formula's output", out)
                out, shape = out * weight, tuple(out.shape)
            out = reduce(out, "sum" if by_weight else s.reduction)
        if by_weight:  # the weights' sum: broadcast to the losses' shape, or as given (torch's l1 and mse)
            total = reduce(weight, "sum")
            if weighted_mean == "broadcast" and tuple(weight.shape) != tuple(shape):
                total = total * (math.prod(shape) // max(math.prod(weight.shape), 1))
            out = divide(out, total)
        return s.finish(out)

    made = silent_nonfinite(call)
    functools.update_wrapper(made, formula)
    del made.__wrapped__  # the signature is the loss's, not the formula's
    made.__name__ = made.__qualname__ = name
    made.__signature__ = _signature(formula, names, arrays, options)
    made.__annotations__ = _annotations(formula, made.__signature__)
    made.as_class = functools.partial(as_class, made, options)
    made.formula = formula
    return made


def _signature_key(reduction, options, arrays):
    """A call's signature: its reduction, its options and each array's type, dtype and shape; None where an array
    is absent (or no array) or an option is not plain (an array option would be kept alive by the key).  An
    option is keyed by its type and, for a float, its bits: as values ``1``, ``1.0`` and ``True`` are one key,
    and so are ``0.0`` and ``-0.0``, where a formula may tell them apart."""
    if type(reduction) is not str or any(type(v) not in _OPTION_TYPES for v in options.values()):
        return None
    try:
        return (reduction, *[(k, type(v), v.hex() if type(v) is float else v) for k, v in options.items()],
                *[(type(a), a.dtype, a.shape) for a in arrays])
    except AttributeError:
        return None


def _prepared(reduced, finish, placement):
    """A seen signature's call: ``finish(reduced(*arrays))`` where the arrays are on one device (``placement``:
    the library's placement function, or None), else None (the full call names the mismatch)."""
    def call(arrays):
        return finish(reduced(*arrays)) if one_place(placement, arrays) else None

    return call


def _elementwise(formula, derivatives, chosen, xs):
    """``formula`` and ``derivatives`` as functions of the present arrays alone (``P.elementwise`` takes arrays,
    not None), the options bound, and those arrays."""
    value = functools.partial(formula, **chosen) if chosen else formula
    slope = functools.partial(derivatives, **chosen) if chosen else derivatives
    absent = frozenset(i for i, a in enumerate(xs) if a is None)
    if not absent:
        return value, slope, tuple(xs)
    n = len(xs)

    def filled(present, fill):
        it = iter(present)
        return [fill if i in absent else next(it) for i in range(n)]

    def value_of_present(*present):
        return value(*filled(present, None))

    def slope_of_present(wanted, *present):
        grads = slope(tuple(filled(wanted, False)), *filled(present, None))
        return tuple(g for i, g in enumerate(grads) if i not in absent)

    return value_of_present, slope_of_present, tuple(a for a in xs if a is not None)


def _broadcast(name, names, xs, compared) -> tuple:
    """The shape the arrays broadcast to (a ValueError where they do not); where their shapes differ, torch's
    warning that this is likely a mistake."""
    shape = None
    for i in compared:
        if xs[i] is not None:
            if shape is None:
                shape = tuple(xs[i].shape)
            elif tuple(xs[i].shape) != shape:
                break
    else:
        return shape
    given = {names[i]: xs[i] for i in compared if xs[i] is not None}
    shapes = [tuple(a.shape) for a in given.values()]
    if len(given) == 2:
        (first, a), (second, b) = given.items()
        checks.broadcastable(name, a, b, names=(first, second))
        return checks.broadcast_shape(name, **given)
    shape = checks.broadcast_shape(name, **given)
    checks.warn_user(f"{name}: the shapes of {', '.join(f'{k} {s}' for k, s in zip(given, shapes))} differ; "
                     "they are broadcast, which is likely not intended")
    return shape


def _signature(formula, names, arrays, options):
    """The loss's signature: the formula's arrays and options (with their annotations as written, if any), then
    ``reduction`` and ``weight``."""
    given = inspect.signature(formula).parameters
    parameters = [_P(k, _P.POSITIONAL_OR_KEYWORD, default=_P.empty if arrays[k] else None,
                     annotation=given[k].annotation) for k in names]
    parameters += [_P(k, _P.KEYWORD_ONLY, default=v, annotation=given[k].annotation) for k, v in options.items()]
    parameters += [_P("reduction", _P.KEYWORD_ONLY, default="mean", annotation="str"),
                   _P("weight", _P.KEYWORD_ONLY, default=None, annotation="Array | None")]
    return inspect.Signature(parameters, return_annotation=inspect.signature(formula).return_annotation)


def _annotations(formula, signature) -> dict:
    """The loss's ``__annotations__``: its signature's, resolved in the formula's module (so that
    ``typing.get_type_hints`` resolves them wherever the loss is), or as written where that fails."""
    try:
        hints = typing.get_type_hints(formula)
    except Exception:  # noqa: BLE001  (a name the formula's module lacks at run time)
        hints = {}
    hints.update(reduction=str, weight=Array | None)
    out = {k: hints.get(k, p.annotation) for k, p in signature.parameters.items() if p.annotation is not _P.empty}
    if signature.return_annotation is not _P.empty:
        out["return"] = hints.get("return", signature.return_annotation)
    return out


def as_class(made, options, name=None, *, base=LossClass, module=None):
    """The torch.nn-style class of ``made``: its options and ``reduction`` at construction, its arrays (and
    ``weight``) at call; ``base`` the class's base (:mod:`agnostic_losses.torch` passes its ``torch.nn.Module``
    base) in ``module`` (default: the loss's).  Its name is ``name`` (default: the loss's in CamelCase); pickle
    finds a class by that name in its module, so assign it to a variable of that name there."""
    name = name or "".join(part[:1].upper() + part[1:] for part in made.__name__.split("_"))
    doc = f"``{made.__name__}``'s options and ``reduction`` at construction; called as ``loss({{args}}, weight=None)``."
    return loss_class(base, name, module or made.__module__, made, _spec(options), doc, at_call=("weight",))


def _spec(options):
    """A constructor of the options (each keyword, with its default) and ``reduction``; nothing to check."""
    def spec(*args, **kwargs):
        return None

    defaults = [v is not _P.empty for v in options.values()]
    # positional where Python allows it: an option without a default after one with a default is keyword-only
    kind = _P.KEYWORD_ONLY if any(d and not later for d, later in zip(defaults, defaults[1:])) else \
        _P.POSITIONAL_OR_KEYWORD
    parameters = [_P(k, kind, default=v) for k, v in options.items()]
    spec.__signature__ = inspect.Signature([*parameters, _P("reduction", kind, default="mean")])
    return spec
