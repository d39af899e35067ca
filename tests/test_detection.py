"""The detection losses (sigmoid focal, generalized / distance / complete box IoU) against torchvision.ops.

The conformance catalogue compares every case on every backend; here: the
arguments and their errors, the reductions of no boxes, half precision, the
transforms, and what the catalogue cannot draw (logits far out, the gradient
that torchvision stops in the complete IoU loss).
"""

from __future__ import annotations

import numpy as np
import pytest

import agnostic_losses as al
from conformance.catalogue import boxes

from helpers import assert_close, installed, need, parameters

BOX_LOSSES = ("generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss")
RNG = np.random.default_rng(29)
B1, B2 = boxes(RNG, (6, 4)), boxes(RNG, (6, 4))


def torchvision_ops():
    for module in ("torchvision", "PIL"):  # not imported here: conformance.oracles knows how
        if not installed(module):
            pytest.skip(f"{module} is not installed")
    from conformance.oracles import torchvision_ops

    return torchvision_ops()


@pytest.mark.parametrize("name", ("sigmoid_focal_loss",) + BOX_LOSSES)
def test_signature_is_torchvisions(name):
    assert parameters(getattr(al, name)) == parameters(getattr(torchvision_ops(), name))


@pytest.mark.parametrize("name", BOX_LOSSES)
@pytest.mark.parametrize("reduction", ("none", "mean", "sum"))
def test_box_losses_of_no_boxes(name, reduction):
    """torchvision's: the mean of no boxes is 0 (not NaN), with a zero gradient; 'none' is empty."""
    torch = need("torch")
    ours = getattr(al, name)(torch.zeros((0, 4), dtype=torch.float64, requires_grad=True), torch.zeros((0, 4)),
                             reduction=reduction)
    ref = getattr(torchvision_ops(), name)(torch.zeros((0, 4), dtype=torch.float64), torch.zeros((0, 4)),
                                           reduction=reduction)
    assert tuple(ours.shape) == tuple(ref.shape) and ours.dtype == ref.dtype
    if reduction != "none":
        assert float(ours) == float(ref) == 0.0


@pytest.mark.parametrize("name", BOX_LOSSES)
def test_box_arguments_are_checked(name):
    fn = getattr(al, name)
    with pytest.raises(ValueError, match=rf"{name}: boxes1 must hold boxes \(x1, y1, x2, y2\) along its last "
                                         r"axis, an array of shape \(..., 4\), got \(6, 3\)"):
        fn(B1[:, :3], B2)
    with pytest.raises(ValueError, match=rf"{name}: the shapes do not broadcast together"):
        fn(B1, B2[:4])
    with pytest.raises(ValueError, match=rf"{name}: reduction must be one of 'none', 'mean', 'sum', got 'avg'"):
        fn(B1, B2, reduction="avg")
    before = B1.copy()
    fn(B1, B2)
    assert np.array_equal(B1, before)  # nothing mutated


@pytest.mark.parametrize("name", BOX_LOSSES)
def test_integer_boxes2_are_taken_in_boxes1s_dtype(name):
    """Ground-truth boxes in pixels (integers) beside predicted float boxes.  torchvision takes integer boxes
    in float32 whatever the other's dtype (its complete IoU then rounds their aspect ratio to float32); ours
    in boxes1's dtype, the value of float64 boxes."""
    torch = need("torch")
    gt = np.round(B2 * 10).astype(np.int64)
    ours = getattr(al, name)(B1 * 10, gt)
    ref = getattr(torchvision_ops(), name)(torch.tensor(B1 * 10), torch.tensor(gt, dtype=torch.float64))
    assert ours.dtype == np.float64
    assert_close(ours, ref.numpy())


def test_focal_arguments_are_checked():
    x, t = RNG.standard_normal(5), (RNG.random(5) > 0.5) * 1.0
    with pytest.raises(ValueError, match=r"sigmoid_focal_loss: alpha must be in \[0, 1\] or -1 for none, got 1.5"):
        al.sigmoid_focal_loss(x, t, alpha=1.5)
    with pytest.raises(TypeError, match="sigmoid_focal_loss: gamma must be a float or int, got str"):
        al.sigmoid_focal_loss(x, t, gamma="2")
    with pytest.raises(ValueError, match=r"sigmoid_focal_loss: targets must have the shape of inputs, \(5,\), "
                                         r"got \(4,\)"):
        al.sigmoid_focal_loss(x, t[:4])
    with pytest.raises(TypeError, match="sigmoid_focal_loss: inputs must have a real floating dtype, got int64"):
        al.sigmoid_focal_loss(np.ones(5, np.int64), t)


def test_focal_of_boolean_targets_is_torchvisions_of_float_targets():
    torch = need("torch")
    x, t = RNG.standard_normal((3, 4)), RNG.random((3, 4)) > 0.5
    ref = torchvision_ops().sigmoid_focal_loss(torch.tensor(x), torch.tensor(t * 1.0), reduction="sum")
    assert_close(al.sigmoid_focal_loss(x, t, reduction="sum"), ref.numpy())


def test_focal_is_exact_in_float32_where_torchs_cancels():
    """``(1 - t) x - log_sigmoid(x)`` cancels for t = 0, x << 0 in float32 (torch's and so torchvision's);
    ours sums two positive terms and stays within float32's rounding of the float64 value."""
    torch = need("torch")
    x = np.array([-12.0, -9.0, -6.5, 7.0, 11.0])
    t = np.array([0.0, 0.0, 0.0, 1.0, 1.0])
    exact = torchvision_ops().sigmoid_focal_loss(torch.tensor(x), torch.tensor(t), gamma=0, alpha=-1).numpy()
    ours = al.sigmoid_focal_loss(x.astype(np.float32), t.astype(np.float32), gamma=0, alpha=-1)
    theirs = torchvision_ops().sigmoid_focal_loss(torch.tensor(x, dtype=torch.float32),
                                                  torch.tensor(t, dtype=torch.float32), gamma=0, alpha=-1).numpy()
    assert np.max(np.abs(ours - exact) / exact) < 2e-6
    assert np.max(np.abs(theirs - exact) / exact) > 1e-3  # why: the reason for our formula


@pytest.mark.parametrize("name", ("sigmoid_focal_loss",) + BOX_LOSSES)
def test_half_precision_is_computed_in_float32(name):
    """float16 in, float16 out (torchvision returns float32), the value of the float32 computation."""
    torch = need("torch")
    args = (B1, B2) if name in BOX_LOSSES else (RNG.standard_normal(6), (RNG.random(6) > 0.5) * 1.0)
    half = tuple(a.astype(np.float16) for a in args)
    ours = getattr(al, name)(*(torch.tensor(a) for a in half), reduction="sum")
    ref = getattr(torchvision_ops(), name)(*(torch.tensor(a.astype(np.float32)) for a in half), reduction="sum")
    assert ours.dtype == torch.float16
    assert_close(ours.float().numpy(), ref.half().float().numpy(), "float16")


def test_complete_box_iou_loss_stops_the_gradient_of_its_weight():
    """The aspect-ratio weight alpha is a constant of the gradient, as torchvision's (computed under no_grad):
    the gradient differs from the value's derivative, and equals torchvision's on torch and JAX."""
    torch = need("torch")
    b1 = torch.tensor(B1, requires_grad=True)
    (ref,) = torch.autograd.grad(torchvision_ops().complete_box_iou_loss(b1, torch.tensor(B2), "sum"), b1)
    ours = torch.tensor(B1, requires_grad=True)
    (g,) = torch.autograd.grad(al.complete_box_iou_loss(ours, torch.tensor(B2), "sum"), ours)
    assert_close(g.numpy(), ref.numpy(), what="torch gradient")
    if installed("jax"):
        jax = need("jax")
        jax.config.update("jax_enable_x64", True)
        gj = jax.grad(lambda b: al.complete_box_iou_loss(b, jax.numpy.asarray(B2), "sum"))(jax.numpy.asarray(B1))
        assert_close(np.asarray(gj), ref.numpy(), what="jax gradient")


@pytest.mark.parametrize("name", ("sigmoid_focal_loss",) + BOX_LOSSES)
def test_transforms_give_the_eager_values(name):
    """jax.jit and vmap, torch.compile (fullgraph) equal the eager call."""
    args = (B1, B2) if name in BOX_LOSSES else (RNG.standard_normal((6, 4)), (RNG.random((6, 4)) > 0.5) * 1.0)
    eager = getattr(al, name)(*args, reduction="none")
    if installed("jax"):
        jax = need("jax")
        jax.config.update("jax_enable_x64", True)
        fn = getattr(al, name)
        jitted = jax.jit(lambda a, b: fn(a, b, reduction="none"))(*(jax.numpy.asarray(a) for a in args))
        assert_close(np.asarray(jitted), eager, what="jit")
        rows = jax.vmap(lambda a, b: fn(a, b, reduction="none"))(*(jax.numpy.asarray(a) for a in args))
        assert_close(np.asarray(rows), eager, what="vmap")
    torch = need("torch")
    torch._dynamo.reset()  # a compilation of its own: our losses share their wrapper's code object
    compiled = torch.compile(lambda a, b: getattr(al, name)(a, b, reduction="none"), fullgraph=True,
                             backend="aot_eager")
    assert_close(compiled(*(torch.tensor(a) for a in args)).numpy(), eager, what="torch.compile")


def kornia_focal_loss():
    return need("kornia").losses.focal_loss


def test_focal_loss_signature_is_kornias_and_an_axis():
    ours = parameters(al.focal_loss)
    assert ours[:-1] == parameters(kornia_focal_loss())
    assert ours[-1][:3] == ("axis", 3, 1)  # keyword-only, kornia's class axis


@pytest.mark.parametrize("axis", (1, -1, 2))
def test_focal_loss_class_axis(axis):
    """The classes along ``axis`` give kornia's value with the classes moved to axis 1, map included."""
    torch = need("torch")
    x, t = RNG.standard_normal((2, 5, 3)) * 3, RNG.integers(0, 5, (2, 3))
    moved = np.moveaxis(x, 1, axis)
    for reduction in ("none", "sum"):
        ref = kornia_focal_loss()(torch.tensor(x), torch.tensor(t), 0.25, reduction=reduction).numpy()
        ours = al.focal_loss(moved, t, 0.25, reduction=reduction, axis=axis)
        assert_close(ours, np.moveaxis(ref, 1, axis) if reduction == "none" else ref)


def test_focal_loss_ignored_positions_are_zero_with_no_gradient():
    torch = need("torch")
    x = RNG.standard_normal((3, 4))
    x[1] = [np.inf, 1.0, -np.inf, np.nan]  # an ignored position's logits take no part, whatever they hold
    x = torch.tensor(x, requires_grad=True)
    t = torch.tensor([1, -100, 2])
    out = al.focal_loss(x, t, alpha=None, gamma=0.5)
    (g,) = torch.autograd.grad(out.sum(), x)
    assert torch.all(out[1] == 0) and torch.all(g[1] == 0) and torch.isfinite(g).all()
    ref = kornia_focal_loss()(x, t, None, gamma=0.5)
    assert_close(out.detach().numpy(), ref.detach().numpy())


def test_focal_loss_saturated_probability_has_a_finite_gradient():
    """p_t rounds to 1: kornia's factor (1 - p_t)^gamma takes no gradient there (gamma < 1 would be inf)."""
    torch = need("torch")
    x = torch.tensor([[60.0, 0.0, -5.0], [1.0, 2.0, 0.5]], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0, 1])
    for gamma in (0.0, 0.5, 2.0):
        (g,) = torch.autograd.grad(al.focal_loss(x, t, 0.25, gamma, "sum"), x)
        (ref,) = torch.autograd.grad(kornia_focal_loss()(x, t, 0.25, gamma, "sum"), x)
        assert torch.isfinite(g).all()
        assert_close(g.numpy(), ref.numpy(), what=f"gamma={gamma}")


def test_focal_loss_arguments_are_checked():
    x, t = RNG.standard_normal((4, 3)), np.array([0, 1, 2, 1])
    with pytest.raises(ValueError, match=r"focal_loss: alpha must be in \[0.0, 1.0\], got 1.5"):
        al.focal_loss(x, t, 1.5)
    with pytest.raises(ValueError, match="focal_loss: gamma must be >= 0, got -1"):
        al.focal_loss(x, t, 0.25, gamma=-1)
    with pytest.raises(ValueError, match=r"focal_loss: pred must hold logits \(B, C, \*\), got shape \(3,\)"):
        al.focal_loss(x[0], t[:1], 0.25)
    with pytest.raises(ValueError, match=r"focal_loss: target must have shape \(4,\) \(pred's shape less the class "
                                         r"axis\), got \(3,\)"):
        al.focal_loss(x, t[:3], 0.25)
    with pytest.raises(TypeError, match="focal_loss: target must have an integer dtype"):
        al.focal_loss(x, t * 1.0, 0.25)
    with pytest.raises(ValueError, match=r"focal_loss: target must hold class indices in \[0, 3\)"):
        al.focal_loss(x, np.array([0, 1, 3, 1]), 0.25)
    with pytest.raises(ValueError, match=r"focal_loss: weight must have shape \(3,\)"):
        al.focal_loss(x, t, 0.25, weight=np.ones(4))
    with pytest.raises(ValueError, match=r"focal_loss: axis must be an axis of pred, in \[-2, 2\), got 2"):
        al.focal_loss(x, t, 0.25, axis=2)


def test_focal_loss_mean_of_no_samples_is_nan_as_kornias():
    torch = need("torch")
    x, t = torch.zeros((0, 3), dtype=torch.float64), torch.zeros((0,), dtype=torch.int64)
    assert torch.isnan(al.focal_loss(x, t, 0.25, reduction="mean"))
    assert torch.isnan(kornia_focal_loss()(x, t, 0.25, reduction="mean"))


def test_focal_loss_under_transforms_gives_the_eager_values():
    x, t = RNG.standard_normal((4, 3, 2)), np.array([[0, 1], [2, -100], [1, 1], [0, 2]])
    eager = al.focal_loss(x, t, 0.25, reduction="none")
    if installed("jax"):
        jax = need("jax")
        jax.config.update("jax_enable_x64", True)
        jitted = jax.jit(lambda a, b: al.focal_loss(a, b, 0.25, reduction="none"))(jax.numpy.asarray(x),
                                                                                   jax.numpy.asarray(t))
        assert_close(np.asarray(jitted), eager, what="jit")
    torch = need("torch")
    torch._dynamo.reset()  # a compilation of its own: our losses share their wrapper's code object
    compiled = torch.compile(lambda a, b: al.focal_loss(a, b, 0.25, reduction="none"), fullgraph=True,
                             backend="aot_eager")
    assert_close(compiled(torch.tensor(x), torch.tensor(t)).numpy(), eager, what="torch.compile")


@pytest.mark.parametrize("options", [dict(alpha=0.25), dict(alpha=None, gamma=0.5, reduction="mean", ignore_index=1),
                                     dict(alpha=0.5, reduction="sum", weight=np.array([1.0, 2.0, 0.5]))])
def test_focal_loss_class_is_kornias(options):
    """``FocalLoss`` takes kornia's constructor (signature and defaults) and gives its class's value; so does
    the torch.nn.Module form."""
    torch = need("torch")
    kornia = need("kornia.losses")
    assert parameters(al.FocalLoss) == parameters(kornia.FocalLoss)
    x, t = RNG.standard_normal((4, 3, 2)), RNG.integers(0, 3, (4, 2))
    theirs = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    ref = kornia.FocalLoss(**theirs)(torch.from_numpy(x), torch.from_numpy(t)).numpy()
    assert_close(al.FocalLoss(**options)(x, t), ref)
    import agnostic_losses.torch as tl

    module = tl.FocalLoss(**theirs)
    assert isinstance(module, torch.nn.Module)
    assert_close(module(torch.from_numpy(x), torch.from_numpy(t)).numpy(), ref)
