"""A user's typed code: ``mypy --strict`` checks it against the public signatures (tests/test_typing.py).

Not run by pytest; mypy only reads it.  Each ``assert_type`` is what a type
checker must infer, so a wrong or missing annotation fails the check.
"""

from __future__ import annotations

from typing import Any, assert_type

import jax
import numpy as np
import numpy.typing as npt
import torch

import agnostic_losses as al
import agnostic_losses.primitives as P
from agnostic_losses import metrics
from agnostic_losses.torch import CrossEntropyLoss, module


def a_tensor_in_gives_a_tensor(x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> None:
    assert_type(al.huber_loss(x, y, delta=0.5), torch.Tensor)
    assert_type(al.cross_entropy(x, t, label_smoothing=0.1, axis=-1), torch.Tensor)
    assert_type(al.ctc_loss(x, t, [5, 5], (2, 2), zero_infinity=True), torch.Tensor)
    assert_type(al.triplet_margin_with_distance_loss(x, y, y, distance_function=al.pairwise_distance), torch.Tensor)
    assert_type(al.dice_loss(x, y, weight=[1.0, 2.0], other_act=torch.tanh), torch.Tensor)
    assert_type(al.huber_loss(x, y).detach(), torch.Tensor)  # a tensor's methods, not Any's


def a_jax_array_in_gives_a_jax_array(x: jax.Array, y: jax.Array) -> None:
    assert_type(al.mse_loss(x, y), jax.Array)
    assert_type(al.sigmoid_focal_loss(x, y, reduction="mean"), jax.Array)
    assert_type(al.cosine_distance(x, y, axis=None), jax.Array)


def metrics_on_numpy(y: npt.NDArray[np.float64], p: npt.NDArray[np.float64]) -> float:
    assert_type(metrics.r2_score(y, p, multioutput=[0.5, 0.5]), npt.NDArray[np.float64])
    assert_type(metrics.crps_ensemble(y, p, estimator="fair"), npt.NDArray[np.float64])
    assert_type(metrics.crps_normal(y, 0.0, 1.0), npt.NDArray[np.float64])  # numbers for mu and sigma
    assert_type(metrics.log_loss(["spam", "ham"], p), npt.NDArray[np.float64])  # labels as a sequence
    return float(metrics.mean_absolute_error(y, p, sample_weight=None))


def primitives_and_own_losses(x: npt.NDArray[np.float64]) -> None:
    assert_type(P.logsumexp(x, axis=(0, 1)), npt.NDArray[np.float64])
    assert_type(P.clip(x, min=0.0), npt.NDArray[np.float64])
    assert_type(P.elementwise(lambda u: u * u, lambda wanted, u: (2 * u,), x), npt.NDArray[np.float64])
    with al.generic_primitives(), al.value_checks("never"):
        pass

    @al.loss
    def charbonnier(input: Any, target: Any, *, eps: float = 1e-3, xp: Any) -> Any:
        return xp.sqrt((input - target) ** 2 + eps * eps)

    @al.loss(targets=("target",))
    def squared(input: Any, target: Any) -> Any:
        return (input - target) ** 2

    assert_type(charbonnier(x, x, eps=0.0, reduction="sum"), npt.NDArray[np.float64])
    assert_type(squared(x, x, weight=x), npt.NDArray[np.float64])
    assert_type(squared(input=x, target=x), Any)  # arrays by keyword: no type to take
    assert_type(al.mape_loss(x, x, reduction="none"), npt.NDArray[np.float64])


def classes(x: npt.NDArray[np.float64], t: torch.Tensor, w: torch.Tensor) -> None:
    assert_type(al.HuberLoss(delta=0.5)(x, x), npt.NDArray[np.float64])
    assert_type(al.DiceLoss(sigmoid=True)(x, x), npt.NDArray[np.float64])
    assert_type(al.MAPELoss()(x, x), npt.NDArray[np.float64])
    loss = CrossEntropyLoss(weight=w).to(torch.float64)  # a torch.nn.Module's methods
    assert_type(loss.training, bool)
    torch.nn.Sequential(loss, module(al.mape_loss)(reduction="sum"), module(al.msle_loss)())
