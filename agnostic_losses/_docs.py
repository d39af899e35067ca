"""An ``Args:`` section written once and given to several functions' docstrings (the metrics' shared
arguments, a loss whose arguments are a sibling's), so that ``help()`` and the site show each function's
arguments in full."""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

_Function = TypeVar("_Function", bound=Callable[..., Any])
_SECTION = "\n    Args:\n"  # in a module-level function's docstring: the sections at 4 spaces, their entries at 8


def args_of(fn: Callable[..., Any]) -> dict[str, str]:
    """The entries of ``fn``'s google-style ``Args:`` section, name -> text (continuation lines joined)."""
    doc = inspect.getdoc(fn) or ""
    if "\nArgs:\n" not in doc:
        return {}
    entries: dict[str, str] = {}
    for line in doc.split("\nArgs:\n", 1)[1].split("\n"):
        if line and not line.startswith(" "):
            break  # the section ends at the next unindented paragraph
        if line.startswith("    ") and not line.startswith("     "):
            name, colon, text = line.strip().partition(":")
            if not colon or not name.isidentifier():
                raise ValueError(f"{fn.__name__}: an Args entry must be 'name: text', got {line.strip()!r}")
            entries[name] = text.strip()
        elif line.strip():
            entries[name] += " " + line.strip()
    return entries


def with_args(shared: Mapping[str, str] | Callable[..., Any], /, **own: str) -> Callable[[_Function], _Function]:
    """Give a module-level function an ``Args:`` section with one entry per parameter of its signature, in its
    order: from ``own``, else from the function's own ``Args:`` section (which it replaces), else from
    ``shared`` (a mapping, or a function whose ``Args:`` section is taken).  A new section goes before
    ``Examples:``; an entry for no parameter, or a parameter without one, is a ``TypeError`` at import."""
    entries = args_of(shared) if callable(shared) else dict(shared)

    def add(fn: _Function) -> _Function:
        names = list(inspect.signature(fn).parameters)
        given = {**entries, **args_of(fn), **own}
        stray = set(own) - set(names)
        missing = [k for k in names if k not in given]
        if stray or missing:
            raise TypeError(f"with_args({fn.__name__}): entries for no parameter {sorted(stray)}, "
                            f"parameters without one {missing}")
        lines = "".join(textwrap.fill(f"{k}: {given[k]}", 116, initial_indent=" " * 8, subsequent_indent=" " * 12,
                                      break_on_hyphens=False) + "\n" for k in names)
        doc = fn.__doc__ or ""
        if _SECTION in doc:  # cut the section out: its entries are in ``given``
            head, _, rest = doc.partition(_SECTION)
            body = rest.split("\n")
            end = next((i for i, line in enumerate(body) if line.strip() and not line.startswith("        ")),
                       len(body))
            doc = head + "\n" + "\n".join(body[end:]).lstrip("\n")
            doc = doc.replace("\n\n\n", "\n\n")
        head, sep, tail = doc.partition("\n    Examples:\n")
        fn.__doc__ = f"{head.rstrip()}\n\n    Args:\n{lines}{sep}{tail}"
        return fn

    return add
