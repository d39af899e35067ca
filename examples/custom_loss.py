"""Your own loss, written once: MAPE and the pinball (quantile) loss on NumPy, PyTorch and JAX, checked.

    python examples/custom_loss.py

The tutorials' advice, "PyTorch does not give you every loss: define your
own", usually ends with one loss per framework.  Here each loss is one formula
over the array API (``xp``) and :mod:`agnostic_losses.primitives`; the
decorator :func:`agnostic_losses.loss` gives it ``reduction=``, ``weight=``,
argument checks and the dtype policy, and ``agnostic_losses.conformance.check_loss`` checks it
on every installed backend against a torch reference, kinks included.
"""

from __future__ import annotations

import numpy as np

import agnostic_losses as al
from agnostic_losses import primitives as P


@al.loss
def mape(input, target, *, eps=float(np.finfo(np.float64).eps), xp):
    """Mean absolute percentage error, ``|input - target| / max(|target|, eps)`` (scikit-learn's eps).

    ``P.abs`` has torch's gradient 0 at ``input == target`` on every backend (``jax.numpy.abs``'s is 1).
    """
    return P.abs(input - target) / xp.maximum(xp.abs(target), eps)


@al.loss
def pinball(input, target, *, quantile=0.5, xp):
    """The quantile loss: ``q d`` where ``d = target - input > 0``, else ``(q - 1) d``.

    An explicit selection, so the kink at ``d = 0`` takes the second branch's
    slope (``1 - q`` in ``input``) on every backend.
    """
    d = target - input
    return xp.where(d > 0, quantile * d, (quantile - 1.0) * d)


def mape_torch(input, target, eps=float(np.finfo(np.float64).eps), reduction="mean"):
    """The references: the same formulas written with torch alone, as a torch user would."""
    import torch

    out = torch.abs(input - target) / torch.clamp(torch.abs(target), min=eps)
    return {"none": out, "mean": out.mean(), "sum": out.sum()}[reduction]


def pinball_torch(input, target, quantile=0.5, reduction="mean"):
    import torch

    d = target - input
    out = torch.where(d > 0, quantile * d, (quantile - 1.0) * d)
    return {"none": out, "mean": out.mean(), "sum": out.sum()}[reduction]


def main() -> int:
    y_pred = np.array([2.5, 0.0, 2.1, 7.8])
    y_true = np.array([3.0, -0.5, 2.1, 8.0])  # the third prediction is exact: both kinks
    print("NumPy  mape", float(mape(y_pred, y_true)), " pinball(q=0.9)", float(pinball(y_pred, y_true, quantile=0.9)))

    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        x = torch.tensor(y_pred, requires_grad=True)
        loss = mape(x, torch.tensor(y_true)) + pinball(x, torch.tensor(y_true), quantile=0.9)
        loss.backward()
        print("torch  loss", round(loss.item(), 6), " d/dinput", np.round(x.grad.numpy(), 6).tolist())
    try:
        import jax
    except ImportError:
        jax = None
    if jax is not None:
        jax.config.update("jax_enable_x64", True)
        jnp = jax.numpy
        total = jax.jit(lambda x, t: mape(x, t) + pinball(x, t, quantile=0.9))
        g = jax.grad(total)(jnp.asarray(y_pred), jnp.asarray(y_true))
        print("JAX    loss", round(float(total(jnp.asarray(y_pred), jnp.asarray(y_true))), 6),
              " d/dinput", np.round(np.asarray(g), 6).tolist())

    if torch is None:
        print("torch is not installed: check_loss needs a torch reference here (or reference_library='numpy')")
        return 0
    from agnostic_losses.conformance import check_loss

    kinks = [{"input": y_pred, "target": y_true}, {"input": np.zeros(3), "target": np.zeros(3)}]
    reports = [
        check_loss(mape, mape_torch, arrays={"input": "normal", "target": "normal"}, edges=kinks[:1]),
        check_loss(pinball, pinball_torch, arrays={"input": "normal", "target": "normal"},
                   options={"quantile": [0.1, 0.5, 0.9]}, edges=kinks),
    ]
    for report in reports:
        print(report)
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    raise SystemExit(main())
