"""The loss classes' machinery: options at construction, arrays at call (torch.nn's style).

:mod:`agnostic_losses.nn` makes torch.nn's classes from its table with it,
:mod:`agnostic_losses.torch` the same as ``torch.nn.Module``s, and
:func:`agnostic_losses.loss` the class of a user's loss.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ._reduction import legacy_reduction
from ._typing import Array

_Class = TypeVar("_Class", bound="Options")


class Options:
    """What a loss class does with its options, whatever it derives from (see :func:`loss_class`).

    ``_bind`` checks the constructor's arguments and maps ``size_average``/``reduce`` to
    ``reduction`` with torch's warning; each option is then an attribute of its name, read at
    every call, so that changing ``loss.reduction`` changes the next call.
    """

    _fn = None  # the functional form
    _spec = None  # the constructor: signature and option checks
    _at_call = ()  # the keywords a call takes besides the arrays (a user loss's class: weight)
    _doc = "See :func:`agnostic_losses.{fn}`; called as ``loss({args})``."

    if TYPE_CHECKING:  # each class's own __init__ (made by loss_class) has its constructor's signature
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    @classmethod
    def _bind(cls, args, kwargs) -> dict:
        bound = inspect.signature(cls._spec).bind(*args, **kwargs)
        bound.apply_defaults()
        cls._spec(*bound.args, **bound.kwargs)
        options = dict(bound.arguments)
        legacy = options.pop("size_average", None), options.pop("reduce", None)
        if "reduction" in options:  # a class without a reduction (torch.nn.CosineSimilarity) has no legacy pair
            options["reduction"] = legacy_reduction(*legacy, options["reduction"])
        return options

    def _loss(self, *arrays, **at_call):
        for k in at_call:
            if k not in self._at_call:
                what = "an option of the constructor" if k in self._options else "no argument of the loss"
                takes = "".join(f" and {a}=" for a in self._at_call)
                raise TypeError(f"{type(self).__name__}: {k!r} is {what}; a call takes the arrays{takes}")
        return self._fn(*arrays, **at_call, **{k: getattr(self, k) for k in self._options})

    def _shown(self) -> str:
        """The options that are not arrays, as ``name=value, ...``."""
        return ", ".join(f"{k}={getattr(self, k)!r}" for k in self._options if not hasattr(getattr(self, k), "shape"))


class LossClass(Options):
    """The base of the plain classes, which work on every array library: options as plain attributes."""

    def _init(self, options: dict) -> None:
        self._options = tuple(options)
        for name, value in options.items():
            setattr(self, name, value)

    def __call__(self, *arrays: Array, **at_call: Any) -> Array:
        return self._loss(*arrays, **at_call)

    forward = __call__

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._shown()})"


def loss_class(base: type[_Class], name: str, module: str, fn: Callable[..., Any], spec: Callable[..., None],
               doc: str | None = None, at_call: tuple[str, ...] = ()) -> type[_Class]:
    """The class ``name`` of the functional form ``fn`` as a subclass of ``base`` (an :class:`Options`), in
    ``module``.

    ``spec`` is the constructor: a function with the class's signature whose body checks the options;
    ``doc`` a template of the docstring (default ``base._doc``); ``at_call`` the keywords a call takes besides
    the arrays.  The class's ``__init__`` has the constructor's signature, so ``inspect.signature(cls)`` and
    ``help(cls)`` show it.
    """

    def __init__(self, *args, **kwargs):
        self._init(self._bind(args, kwargs))

    parameters = list(inspect.signature(spec).parameters.values())
    self_ = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    __init__.__signature__ = inspect.Signature([self_, *parameters])
    __init__.__qualname__ = f"{name}.__init__"
    arrays = [p.name for p in inspect.signature(fn).parameters.values()
              if p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
    doc = (doc or base._doc).format(name=name, fn=fn.__name__, args=", ".join(arrays))
    namespace = {"__init__": __init__, "__doc__": doc, "__module__": module, "__qualname__": name,
                 "_fn": staticmethod(fn), "_spec": staticmethod(spec), "_at_call": tuple(at_call)}
    return type(name, (base,), namespace)
