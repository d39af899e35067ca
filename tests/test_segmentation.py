"""MONAI's overlap losses (Dice, generalized Dice, Tversky) against monai.losses.

The conformance catalogue compares every case on every backend; here: the
signatures and the classes (plain and torch.nn.Module), the arguments and
their errors, MONAI's single-class warnings, a user's activation on JAX,
the class axis and what the catalogue does not draw.
"""

from __future__ import annotations

import importlib
import inspect

import numpy as np
import pytest

import agnostic_losses as al
from conformance.catalogue import M, eighths, one_hot

from helpers import assert_close, assert_common_errors, need

LOSSES = {"dice_loss": "DiceLoss", "generalized_dice_loss": "GeneralizedDiceLoss", "tversky_loss": "TverskyLoss"}
RNG = np.random.default_rng(2017)
P = RNG.uniform(0.05, 0.95, (2, M, 4, 3))
G = one_hot(RNG, (2, M, 4, 3))
LABELS = RNG.integers(0, M, (2, 1, 4, 3))


def monai_class(name):
    need("torch")
    return getattr(need("monai.losses"), name)


def monai(name, input, target, **options):
    """MONAI's value on float64 tensors from NumPy, as NumPy (the conformance oracle: MONAI's float32 steps in
    float64, and the classes moved to axis 1 for another ``axis``)."""
    need("torch"), need("monai")
    from conformance.oracles import ORACLES

    fn = next(fn for fn, cls in LOSSES.items() if cls == name)
    return ORACLES[fn].value(input=input, target=target, **options)


@pytest.mark.parametrize("fn", LOSSES)
def test_signature_is_monais_constructor_and_an_axis(fn):
    """The functional form takes the arrays, then MONAI's constructor's arguments in its order and defaults, then
    the keyword-only class axis; the class takes exactly MONAI's constructor's."""
    monais = list(inspect.signature(monai_class(LOSSES[fn])).parameters.values())
    ours = list(inspect.signature(getattr(al, fn)).parameters.values())
    assert [(p.name, p.default) for p in ours[2:-1]] == [(p.name, p.default) for p in monais]
    assert [p.name for p in ours[:2]] == ["input", "target"]
    assert (ours[-1].name, ours[-1].kind, ours[-1].default) == ("axis", inspect.Parameter.KEYWORD_ONLY, 1)
    cls = getattr(al, LOSSES[fn])
    assert [(p.name, p.default) for p in inspect.signature(cls).parameters.values()] == [
        (p.name, p.default) for p in monais]


@pytest.mark.parametrize("fn, options", [
    ("dice_loss", dict(softmax=True, to_onehot_y=True, include_background=False, weight=np.array([1.0, 3.0]))),
    ("dice_loss", dict(sigmoid=True, weight=2.0, reduction="none")),
    ("dice_loss", dict(sigmoid=True, jaccard=True, batch=True, reduction="none")),
    ("generalized_dice_loss", dict(softmax=True, to_onehot_y=True, w_type="simple", reduction="sum")),
    ("tversky_loss", dict(softmax=True, to_onehot_y=True, alpha=0.2, beta=0.8, ignore_index=2)),
])
def test_classes_are_monais(fn, options):
    """A class made with the options, called on the arrays, gives MONAI's class's value; so does its
    torch.nn.Module form, whose weight is a buffer (MONAI's: class_weight)."""
    torch = need("torch")
    x = RNG.standard_normal((2, M, 4, 3))
    t = LABELS if options.get("to_onehot_y") else G
    ref = monai(LOSSES[fn], x, t, **options)
    assert_close(getattr(al, LOSSES[fn])(**options)(x, t), ref)
    module = getattr(importlib.import_module("agnostic_losses.torch"), LOSSES[fn])(**options)
    assert isinstance(module, torch.nn.Module)
    assert_close(module(torch.from_numpy(x), torch.from_numpy(t)).numpy(), ref)
    if isinstance(options.get("weight"), np.ndarray):  # a buffer, moved with the module
        assert list(module.state_dict()) == ["weight"] and module.weight.dtype == torch.float64
        assert module.to(torch.float32).weight.dtype == torch.float32


@pytest.mark.parametrize("fn", LOSSES)
@pytest.mark.parametrize("reduction", ("none", "mean"))
def test_classes_last(fn, reduction):
    """``axis=-1`` on channels-last arrays equals MONAI on the arrays with the classes moved to axis 1, with no
    copy of the input made by us (the arrays are views)."""
    torch = need("torch")
    options = dict(reduction=reduction, include_background=False)
    ref = monai_class(LOSSES[fn])(**options)(torch.from_numpy(P), torch.from_numpy(G)).numpy()
    ours = getattr(al, fn)(np.moveaxis(P, 1, -1), np.moveaxis(G, 1, -1), **options, axis=-1)
    assert_close(ours, np.moveaxis(ref, 1, -1) if ref.ndim == P.ndim else ref,
                 "float32" if fn == "generalized_dice_loss" else "float64")  # MONAI's float32 class weights


def test_a_users_activation_on_jax():
    """``other_act`` gets the input's own array (here JAX's tanh), and the value is MONAI's with torch's."""
    torch, jnp = need("torch"), need("jax.numpy")
    need("jax").config.update("jax_enable_x64", True)
    x = RNG.standard_normal((2, M, 4, 3))
    ref = monai("DiceLoss", x, G, other_act=torch.tanh)
    assert_close(np.asarray(al.dice_loss(jnp.asarray(x), jnp.asarray(G), other_act=jnp.tanh)), ref)


@pytest.mark.parametrize("fn", LOSSES)
def test_single_class_warns_as_monai_and_skips_the_step(fn):
    """One class: softmax, to_onehot_y and include_background=False are skipped with MONAI's warning."""
    p, g = P[:, :1], G[:, :1]
    for option in ("softmax", "to_onehot_y", "include_background"):
        value = option != "include_background"
        with pytest.warns(UserWarning, match=rf"{fn}: single channel prediction, {option}={value} ignored"):
            ours = getattr(al, fn)(p, g, **{option: value})
        with pytest.warns(UserWarning):
            ref = monai(LOSSES[fn], p, g, **{option: value})
        assert_close(ours, ref)


def test_a_single_class_target_is_used_as_given_with_to_onehot_y():
    """One class: to_onehot_y is skipped and the target's dtype enters the result's, as MONAI's (float32
    input, float64 target: float64); class indices made one-hot do not (the input's dtype)."""
    torch = need("torch")
    x, g = torch.from_numpy(P[:, :1]).float(), torch.from_numpy(G[:, :1])
    with pytest.warns(UserWarning):
        ours = al.dice_loss(x, g, to_onehot_y=True)
    with pytest.warns(UserWarning):
        ref = monai_class("DiceLoss")(to_onehot_y=True)(x, g)
    assert ours.dtype == ref.dtype == torch.float64
    assert_close(ours.numpy(), ref.numpy(), "float32")  # MONAI sums the float32 input in float32
    assert al.dice_loss(torch.from_numpy(P).float(), torch.from_numpy(LABELS * 1.0), to_onehot_y=True).dtype == \
        torch.float32


def test_ignore_index_of_a_one_hot_target_that_is_no_class():
    """For one-hot targets, an ignore_index outside the classes leaves out the positions of no class (MONAI
    1.6.1): the loss is the loss of the other positions alone."""
    g = G.copy()
    g[:, :, 0] = 0.0  # the first row of every image: no class
    for fn in ("dice_loss", "tversky_loss"):
        ours = getattr(al, fn)(P, g, ignore_index=-1, reduction="none")
        assert_close(ours, monai(LOSSES[fn], P, g, ignore_index=-1, reduction="none"))
        assert_close(ours, getattr(al, fn)(P[:, :, 1:], g[:, :, 1:], reduction="none"))


def test_generalized_dice_takes_a_gradient_with_respect_to_target():
    """MONAI's cannot be differentiated with respect to target (its weights are updated in place); ours is,
    finite with an empty class (0 through its weight), and equal to finite differences of MONAI's value."""
    torch = need("torch")
    g = eighths(RNG, P.shape)
    g[0, 2] = 0.0  # an empty class in the first sample
    t = torch.from_numpy(g).requires_grad_(True)
    al.generalized_dice_loss(torch.from_numpy(P), t).backward()
    assert torch.isfinite(t.grad).all()
    h, k = 2.0 ** -12, (1, 1, 2, 0)  # volumes of eighths moved by h stay exact in MONAI's float32 cast
    up, down = g.copy(), g.copy()
    up[k] += h
    down[k] -= h
    fd = (monai("GeneralizedDiceLoss", P, up) - monai("GeneralizedDiceLoss", P, down)) / (2 * h)
    assert abs(t.grad[k].item() - fd) < 1e-8


def test_generalized_dice_weights_in_float64():
    """MONAI computes the class weights in float32; ours in the input's dtype: the float64 value equals the
    formula's, written out here, to 1e-15 (MONAI's: to 1e-8)."""
    g = eighths(RNG, P.shape)
    ours = al.generalized_dice_loss(P, g, soft_label=True, reduction="none")
    tp = (np.abs(P).sum((2, 3)) + np.abs(g).sum((2, 3)) - np.abs(P - g).sum((2, 3))) / 2
    w = 1 / g.sum((2, 3)) ** 2
    union = P.sum((2, 3)) + g.sum((2, 3))  # 2 tp + fp + fn
    exact = 1 - (2 * (tp * w).sum(1) + 1e-5) / ((union * w).sum(1) + 1e-5)
    assert np.abs(ours.reshape(-1) - exact).max() < 1e-15
    torch = need("torch")
    monais = monai_class("GeneralizedDiceLoss")(soft_label=True, reduction="none")(torch.from_numpy(P),
                                                                                 torch.from_numpy(g)).numpy()
    assert np.abs(ours - monais).max() < 1e-7


def test_nothing_is_mutated():
    p, g = P.copy(), G.copy()
    for fn in LOSSES:
        getattr(al, fn)(p, g, include_background=False, batch=True)
    al.DiceLoss(weight=2.0)(p, g)
    assert (p == P).all() and (g == G).all()


@pytest.mark.parametrize("fn", LOSSES)
def test_errors(fn):
    loss = getattr(al, fn)
    assert_common_errors(fn, (P, G))
    cases = [
        (dict(sigmoid=True, softmax=True), ValueError, "at most one of sigmoid=True, softmax=True and other_act"),
        (dict(other_act="tanh"), TypeError, "other_act must be None or callable, got str"),
        (dict(batch=1), TypeError, "batch must be True or False, got 1"),
        (dict(axis=0), ValueError, r"axis must be an axis of input, in \[-4, 4\), not 0, got 0"),
        (dict(axis=1.0), TypeError, "axis must be an int, got float"),
        (dict(to_onehot_y=True), ValueError, r"with to_onehot_y=True, target must have 1 class index along axis 1, "
                                             r"got shape \(2, 3, 4, 3\)"),
    ]
    for options, error, message in cases:
        with pytest.raises(error, match=rf"{fn}: {message}"):
            loss(P, G, **options)
        if "axis" not in options and "to_onehot_y" not in options:  # the class checks them at construction
            with pytest.raises(error, match=rf"{LOSSES[fn]}: {message}"):
                getattr(al, LOSSES[fn])(**options)
    with pytest.raises(ValueError, match=rf"{fn}: input must be \(B, N, \*spatial\) with at least one spatial axis, "
                                         r"got shape \(2, 3\)"):
        loss(P[:, :, 0, 0], G[:, :, 0, 0])
    with pytest.raises(ValueError, match=rf"{fn}: target must have input's shape \(2, 3, 4, 3\), got \(2, 3, 2, 3\)"):
        loss(P, G[:, :, :2], include_background=False)
    with pytest.raises(ValueError, match=rf"{fn}: target must hold class indices in \[0, 3\), got 3"):
        loss(P, np.where(LABELS == 0, 3, LABELS), to_onehot_y=True)


def test_option_errors():
    with pytest.raises(ValueError, match=r"generalized_dice_loss: w_type must be one of \('square', 'simple', "
                                         r"'uniform'\), got 'cube'"):
        al.generalized_dice_loss(P, G, w_type="cube")
    with pytest.raises(ValueError, match=r"GeneralizedDiceLoss: w_type must be one of"):
        al.GeneralizedDiceLoss(w_type="cube")
    with pytest.raises(ValueError, match=r"DiceLoss: reduction must be one of 'none', 'mean', 'sum', got 'avg'"):
        al.DiceLoss(reduction="avg")
    with pytest.raises(ValueError, match=r"dice_loss: weight must be a number or one per class \(2, the background "
                                         r"left out\), got shape \(3,\)"):
        al.dice_loss(P, G, include_background=False, weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"dice_loss: weight must hold values >= 0, got -1.0"):
        al.dice_loss(P, G, weight=[1.0, -1.0, 2.0])
    with pytest.raises(TypeError, match=r"tversky_loss: alpha must be a float, got str"):
        al.tversky_loss(P, G, alpha="0.5")
    with pytest.raises(TypeError, match=r"dice_loss: ignore_index must be an int or None, got float"):
        al.dice_loss(P, G, ignore_index=1.0)
