"""Check your own loss the way the suite checks ours: ``check_loss(ours, reference, arrays=...)``.

>>> import numpy as np
>>> import torch
>>> import agnostic_losses as al
>>> from agnostic_losses.conformance import check_loss
>>> @al.loss
... def log_cosh(input, target, *, xp):
...     d = input - target
...     return d + al.primitives.softplus(-2.0 * d) - np.log(2.0)
>>> def log_cosh_torch(input, target, reduction="mean"):
...     out = torch.log(torch.cosh(input - target))
...     return {"none": out, "mean": out.mean(), "sum": out.sum()}[reduction]
>>> report = check_loss(log_cosh, log_cosh_torch, arrays={"input": "normal", "target": "normal"},
...                     backends=["numpy", "torch"])
>>> report.ok, len(report.results)
(True, 24)
"""

from __future__ import annotations

import itertools
import warnings
import zlib
from dataclasses import dataclass, field

import numpy as np

from . import backends as B
from . import catalogue
from .catalogue import Case
from .runner import check, output_shape, round_to

# the catalogue's draws a user may name: rng, shape -> float64 array
DRAWS = {name: getattr(catalogue, name) for name in
         ("normal", "positive", "logits", "unit", "uniform01", "labels01", "signs", "counts", "probabilities",
          "log_probabilities")}


@dataclass
class Report:
    """What :func:`check_loss` found: ``ok`` (every case passed, on every backend), ``results`` (one
    ``conformance.runner.Result`` per case and backend) and ``failures``; ``str(report)`` fits one screen."""

    loss: str
    results: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)  # backend -> why it did not run

    @property
    def failures(self) -> list:
        return [r for r in self.results if not r.passed]

    @property
    def ok(self) -> bool:
        return bool(self.results) and not self.failures

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        backends = sorted({f"{r.backend}:{r.device}" for r in self.results})
        lines = [f"{self.loss}: {len(self.results) - len(self.failures)} of {len(self.results)} cases passed on "
                 f"{', '.join(backends) or 'no backend'}"]
        lines += [f"  skipped {name}: {why}" for name, why in self.skipped.items()]
        for r in self.failures[:_SHOWN]:
            first = r.message.strip().splitlines()[0] if r.message.strip() else "failed"
            lines.append(f"  FAIL {r.backend}:{r.device} {r.case}: {first}")
        if len(self.failures) > _SHOWN:
            lines.append(f"  ... and {len(self.failures) - _SHOWN} more failures")
        return "\n".join(lines)


_SHOWN = 12  # the failures str(report) lists


def check_loss(ours, reference, *, arrays: dict, options: dict | None = None, shapes=((5,), (3, 4)), edges=(),
               reductions=("none", "mean", "sum"), dtypes=("float64", "float32"), backends=None,
               device: str = "cpu", grads=None, reference_library: str = "torch", seed: int = 0) -> Report:
    """Run the loss ``ours`` on every installed backend against ``reference``, as the suite runs ours.

    Each case draws the arrays (or takes an edge point), rounds them to the
    case's dtype and calls ``ours(**arrays, **options, reduction=...)`` on each
    backend: on JAX eagerly and under ``jax.jit``.  The exact answer is
    ``reference`` called the same way on the same (rounded) values in float64:
    a torch function of float64 CPU tensors (``reference_library='torch'``:
    values and the gradients of every floating array, a vector-Jacobian product
    with a seeded random cotangent) or a NumPy function (``'numpy'``: values
    only).  Ours passes a case where its value and gradients are within the
    suite's tolerance of the exact answer for the dtype
    (``conformance/tolerances.py``: a relative error of 2e-5 in float32, 1e-10
    in float64; NaN must meet NaN and infinities be equal), or no farther from
    it than the torch reference computed in that dtype, and where its output
    has the reference's dtype.

    Args:
        ours: the loss to check, e.g. made with :func:`agnostic_losses.loss`.
        reference: the implementation you trust, with ``ours``' arguments.
        arrays: name -> draw, in call order: a name of :data:`DRAWS`
            (``'normal'``, ``'positive'``, ``'uniform01'``, ...) or a function
            ``(rng, shape) -> float64 or int64 NumPy array``.
        options: name -> the values to try (every combination is a case).
        shapes: the shapes the arrays are drawn in (all the same shape).
        edges: your edge points: each a dict name -> NumPy array (kinks, ties,
            zeros, extremes), run at every option, reduction and dtype.
        reductions: the values of ``reduction`` to try (``()``: ``ours`` takes none).
        dtypes: float64, float32, float16 (numpy, torch, JAX), bfloat16 (torch, JAX).
        backends: names of ``conformance.backends.BACKENDS`` (default: every
            installed one); one that cannot run here is listed in ``skipped``.
        device: 'cpu' or 'cuda'.
        grads: the arrays whose gradients are compared (default: every
            floating one); none with a NumPy reference.
        seed: the draws' seed.

    Returns a :class:`Report`; in pytest, ``assert report.ok, report``.
    """
    if reference_library not in ("torch", "numpy"):
        raise ValueError(f"check_loss: reference_library must be 'torch' or 'numpy', got {reference_library!r}")
    name = getattr(ours, "__name__", "loss")
    draws = {k: _draw(name, k, v) for k, v in arrays.items()}
    report = Report(name)
    chosen = []
    for b in backends or B.BACKENDS:
        backend = B.make(b, device)
        why = backend.unavailable()
        if why:
            report.skipped[b] = why
        else:
            chosen.append(backend)
    keys = list(options or {})
    grid = [dict(zip(keys, values)) for values in itertools.product(*((options or {})[k] for k in keys))]
    reduced = [{"reduction": r} for r in reductions] or [{}]
    points = [(f"{_shape(s)}", None, s) for s in shapes] + [(f"edge{i}", e, None) for i, e in enumerate(edges)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the losses' broadcast warnings, NumPy's 0 / 0
        for opts, red, (label, edge, shape), dtype in itertools.product(grid, reduced, points, dtypes):
            case_options = {**opts, **red}
            text = ",".join(f"{k}={v}" for k, v in case_options.items())
            case_id = f"{name}[{label}|{text}]{dtype}"
            data = edge if edge is not None else _drawn(draws, shape, zlib.crc32(f"{seed}{case_id}".encode()))
            data = {k: round_to(np.asarray(v), dtype) for k, v in data.items()}
            floating = tuple(k for k, v in data.items() if np.issubdtype(v.dtype, np.floating))
            compared = () if reference_library == "numpy" else tuple(grads if grads is not None else floating)
            case = Case(name, case_id, 0, data, case_options, dtype, compared)
            cotangent, exact, same = _reference(reference, reference_library, case, device)
            report.results += [check(case, b, data, cotangent, exact, same, ours, infinite_slack=False)
                               for b in chosen if dtype in b.dtypes]
    return report


def _draw(name, k, draw):
    if callable(draw):
        return draw
    if draw not in DRAWS:
        raise ValueError(f"check_loss: arrays[{k!r}] must be a function (rng, shape) -> array or one of "
                         f"{', '.join(DRAWS)}, got {draw!r}")
    return DRAWS[draw]


def _shape(shape) -> str:
    return "x".join(map(str, shape)) or "scalar"


def _drawn(draws, shape, seed):
    rng = np.random.default_rng(seed)
    return {k: np.asarray(draw(rng, tuple(shape))) for k, draw in draws.items()}


def _reference(reference, library, case, device):
    """``(cotangent, exact, same)``: the exact answer rounded to the case's dtype, and the reference in that dtype
    on ``device`` (torch only: the slack of a case), None where it cannot compute it."""
    try:
        return _reference_answers(reference, library, case, device)
    except TypeError as exc:
        raise TypeError(f"check_loss: the reference must take the loss's arguments (arrays, options and reduction "
                        f"by keyword); calling it for {case.id} raised {type(exc).__name__}: {exc}") from exc


def _reference_answers(reference, library, case, device):
    if library == "numpy":
        value = np.asarray(reference(**case.arrays, **case.options), dtype=np.float64)
        return np.ones(value.shape), (round_to(value, case.dtype), {}), None
    torch_backend = B.Torch()
    shape = output_shape(reference, case.arrays, case.options)
    cotangent = round_to(np.random.default_rng(zlib.crc32(case.id.encode())).standard_normal(shape), case.dtype)
    value, g, _ = torch_backend.evaluate(reference, case.arrays, case.options, "float64", case.grads,
                                         cotangent)["eager"]
    exact = round_to(value, case.dtype), {k: round_to(v, case.dtype) for k, v in g.items()}
    try:
        same = B.Torch(device).evaluate(reference, case.arrays, case.options, case.dtype, case.grads,
                                        cotangent)["eager"]
    except (RuntimeError, NotImplementedError):  # no kernel for the dtype, no such device
        same = None
    return cotangent, exact, same
