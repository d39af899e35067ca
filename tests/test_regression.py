"""The regression losses: contract, kinks, dtypes, errors; values and gradients against torch.nn.

The conformance suite (tests/test_conformance.py) checks every option and
shape; these tests pin the contract a user relies on, each against torch.nn
or a known value.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import agnostic_losses as al
from agnostic_losses import generic_primitives
from agnostic_losses._primitives import array_namespace

from conformance import runner
from helpers import assert_close, error, hessian_diagonal, need, torch_reference

torch = need("torch")
F = torch.nn.functional

LOSSES = ("l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss")
RNG = np.random.default_rng(3)
X, T = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))


@pytest.mark.parametrize("name", LOSSES)
def test_signature_is_torchs(name):
    ours, theirs = inspect.signature(getattr(al, name)), inspect.signature(getattr(F, name))
    assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == \
           [(p.name, p.kind, p.default) for p in theirs.parameters.values()]


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_output_keeps_namespace_dtype_device_and_shape(backend, name, reduction, dtype):
    import array_api_compat

    x, t = backend.asarray(X, dtype), backend.asarray(T[0], dtype)  # broadcast (4, 3) with (3,)
    with pytest.warns(UserWarning, match="broadcast"):
        out = getattr(al, name)(x, t, reduction=reduction)
    assert array_namespace(out) is array_namespace(x)
    assert out.dtype == x.dtype
    assert array_api_compat.device(out) == array_api_compat.device(x)
    assert tuple(out.shape) == ((4, 3) if reduction == "none" else ())


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision_is_computed_in_float32(backend, name, reduction, dtype):
    """float16/bfloat16: torch's output dtype, and the exact answer correctly rounded (computed in float32)."""
    if dtype not in backend.dtypes:
        pytest.skip(f"{backend.name} has no {dtype}")
    arrays = {"input": _round(RNG.standard_normal(4096), dtype), "target": _round(RNG.standard_normal(4096), dtype)}
    grads = ("input",) if backend.differentiates else ()
    ref, ref_grads, cot = torch_reference(getattr(F, name), arrays, {"reduction": reduction}, grads=grads)
    for variant, (value, g, out_dtype) in backend.evaluate(getattr(al, name), arrays, {"reduction": reduction},
                                                           dtype, grads, cot).items():
        assert out_dtype == dtype
        # one rounding from the exact answer, at most: computing in float16 itself is several off
        ulp = float(torch.finfo(getattr(torch, dtype)).eps)
        assert error(value, _round(ref, dtype), dtype) <= ulp, variant
        for k in g:
            assert error(g[k], _round(ref_grads[k], dtype), dtype) <= ulp, f"{variant} gradient"


def _round(a, dtype):
    return torch.from_numpy(a).to(getattr(torch, dtype)).double().numpy()


# --- kinks: known values ----------------------------------------------------------------------

D = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])  # input - target, with ties at 0 and at 1
KINK_GRADIENTS = {  # d loss_sum / d input, torch's convention: 0 at d == 0
    ("l1_loss", ()): np.sign(D),
    ("mse_loss", ()): 2 * D,
    ("huber_loss", (("delta", 1.0),)): np.clip(D, -1, 1),
    ("smooth_l1_loss", (("beta", 1.0),)): np.clip(D, -1, 1),
    ("smooth_l1_loss", (("beta", 0.0),)): np.sign(D),
    ("huber_loss", (("delta", 0.5),)): np.clip(D, -0.5, 0.5),
}


@pytest.mark.parametrize("name,options", list(KINK_GRADIENTS), ids=str)
@pytest.mark.parametrize("generic", [False, True], ids=["native", "generic"])
def test_gradients_at_kinks_are_torchs(ad_backend, name, options, generic):
    options = dict(options, reduction="sum")
    arrays = {"input": D + 2.0, "target": np.full_like(D, 2.0)}
    _, ref_grads, _ = torch_reference(getattr(F, name), arrays, options, grads=("input", "target"))
    np.testing.assert_array_equal(ref_grads["input"], KINK_GRADIENTS[name, tuple(options.items())[:-1]])
    with generic_primitives(generic):
        variants = ad_backend.evaluate(getattr(al, name), arrays, options, "float64", ("input", "target"),
                                       np.ones(()))
    for variant, (_, grads, _) in variants.items():
        np.testing.assert_array_equal(grads["input"], ref_grads["input"], err_msg=variant)
        np.testing.assert_array_equal(grads["target"], ref_grads["target"], err_msg=variant)


KINK_CURVATURES = {  # d^2 loss_sum / d input^2, torch's double backward: 0 at |d| == delta
    ("l1_loss", ()): np.zeros_like(D),
    ("mse_loss", ()): np.full_like(D, 2.0),
    ("huber_loss", (("delta", 1.0),)): (np.abs(D) < 1).astype(float),
    ("smooth_l1_loss", (("beta", 0.5),)): (np.abs(D) < 0.5) / 0.5,
}


@pytest.mark.parametrize("name,options", list(KINK_CURVATURES), ids=str)
@pytest.mark.parametrize("generic", [False, True], ids=["native", "generic"])
def test_second_derivatives_at_kinks_are_torchs(ad_backend, name, options, generic):
    """Double backward (torch) and the Hessian (JAX) at the ties equal torch's double backward."""
    options = dict(options, reduction="sum")
    x, t = D + 2.0, np.full_like(D, 2.0)
    ref = hessian_diagonal("torch", lambda x, t: getattr(F, name)(x, t, **options), x, t)
    np.testing.assert_array_equal(ref, KINK_CURVATURES[name, tuple(options.items())[:-1]])
    with generic_primitives(generic):
        ours = hessian_diagonal(ad_backend.name, lambda x, t: getattr(al, name)(x, t, **options), x, t)
    np.testing.assert_array_equal(ours, ref)


def test_jax_transforms_agree_with_torch():
    jax = need("jax")
    jnp = jax.numpy
    x, t, w = jnp.asarray(X), jnp.asarray(T), jnp.asarray(np.abs(T) + 0.5)
    for name in ("l1_loss", "mse_loss", "huber_loss"):
        fn = lambda x, w: getattr(al, name)(x, t, weight=w)
        ref, ref_grads, _ = torch_reference(lambda input, weight: getattr(F, name)(input, torch.tensor(T), weight=weight),
                                            {"input": X, "weight": np.asarray(w)}, grads=("input", "weight"))
        value, grads = jax.jit(jax.value_and_grad(fn, argnums=(0, 1)))(x, w)
        assert_close(value, ref)
        assert_close(grads[0], ref_grads["input"])
        assert_close(grads[1], ref_grads["weight"])


# --- semantics --------------------------------------------------------------------------------

def test_weighted_means_divide_as_torch():
    """l1/mse: sum(w * loss) / sum(w); huber: sum(w * loss) / numel."""
    w = np.abs(T) + 0.1
    d = X - T
    assert_close(al.l1_loss(X, T, weight=w), np.sum(w * np.abs(d)) / np.sum(w))
    assert_close(al.mse_loss(X, T, weight=w), np.sum(w * d * d) / np.sum(w))
    huber = np.where(np.abs(d) < 1, 0.5 * d * d, np.abs(d) - 0.5)
    assert_close(al.huber_loss(X, T, weight=w), np.mean(w * huber))


def test_empty_input_mean_is_nan_and_sum_is_zero(backend):
    e = backend.asarray(np.zeros((0, 3)), "float32")
    for name in LOSSES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            assert np.isnan(backend.to_numpy(getattr(al, name)(e, e)))
        assert backend.to_numpy(getattr(al, name)(e, e, reduction="sum")) == 0


@settings(max_examples=40, deadline=None)
@given(d=hnp.arrays(np.float64, st.integers(1, 8), elements=st.floats(-1e6, 1e6)),
       k=st.sampled_from([0.0, 0.25, 1.0, 3.0, 1e3]))
def test_huber_and_smooth_l1_equal_torch_on_any_differences(d, k):
    zero = np.zeros_like(d)
    tensors = torch.tensor(d), torch.tensor(zero)
    assert_close(al.smooth_l1_loss(d, zero, reduction="none", beta=k),
                 F.smooth_l1_loss(*tensors, reduction="none", beta=k).numpy())
    if k > 0:
        assert_close(al.huber_loss(d, zero, reduction="none", delta=k),
                     F.huber_loss(*tensors, reduction="none", delta=k).numpy())


def test_integer_target_is_taken_in_input_dtype_as_torch():
    t = np.array([[0, 1, -2], [3, 0, 0], [1, 1, 1], [-1, 2, 0]])
    for name in LOSSES:
        ours = getattr(al, name)(X.astype(np.float32), t)
        theirs = getattr(F, name)(torch.tensor(X, dtype=torch.float32), torch.tensor(t))
        assert ours.dtype == np.float32
        assert_close(ours, theirs.numpy(), "float32", name)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_a_wider_0d_target_is_computed_in_the_promotion(name, backend):
    """float32 input, float64 0-d target: computed in float64 on every backend (torch's rule for 0-d tensors
    alone would compute in float32, where (1e30 + 0.13)**2 overflows; found by the fuzz).  The reference is
    torch's float64 answer (huber_loss returns the input's dtype, torch's rule, after computing in float64)."""
    x, t = np.array([1e30, 3.0]), np.array(-0.13210486)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the broadcast target
        ours = getattr(al, name)(backend.asarray(x, "float32"), backend.asarray(t, "float64"), reduction="none")
        exact = getattr(F, name)(torch.tensor(np.float32(x).astype(np.float64)), torch.tensor(t), reduction="none")
    dtype = "float32" if name == "huber_loss" else "float64"
    assert str(ours.dtype).endswith(dtype)
    assert_close(backend.to_numpy(ours), runner.round_to(exact.numpy(), dtype), dtype)


def test_huber_returns_input_dtype_as_torch():
    """torch's huber_loss alone returns input's dtype: float16 input, float32 target -> float16."""
    x, t = X.astype(np.float16), T.astype(np.float32)
    ours = al.huber_loss(x, t)
    theirs = F.huber_loss(torch.tensor(x), torch.tensor(t))
    assert ours.dtype == np.float16 and theirs.dtype == torch.float16
    assert_close(ours, theirs.numpy(), "float16")
    assert al.l1_loss(x, t).dtype == np.float32  # the others promote, as torch's
    # the target is not rounded to float16 first: torch computes the half-precision loss in float32
    t = np.array([0.1, 0.3333] * 2)
    ours = al.huber_loss(np.zeros(4, np.float16), t, reduction="none")
    theirs = F.huber_loss(torch.zeros(4, dtype=torch.float16), torch.tensor(t), reduction="none")
    np.testing.assert_array_equal(ours, theirs.numpy())
    # nor to float32: a float64 target a float32 input cannot tell apart from itself still has its difference
    x, t = np.array([1.2573022e17, 1.5], np.float32), np.array([1.25730221e17, 1.0 + 1e-9])
    for weight in (None, np.array([0.3, 2.0])):
        ours = al.huber_loss(x, t, reduction="none", delta=0.5, weight=weight)
        theirs = F.huber_loss(torch.tensor(x), torch.tensor(t), reduction="none", delta=0.5,
                              weight=None if weight is None else torch.tensor(weight))
        assert ours.dtype == (np.float32 if weight is None else np.float64) and ours[0] > 1e8
        assert_close(ours, theirs.numpy(), "float32")


@pytest.mark.parametrize("legacy,reduction", [({"size_average": False}, "sum"), ({"reduce": False}, "none"),
                                              ({"size_average": True, "reduce": False}, "none"),
                                              ({"size_average": True, "reduce": True}, "mean")])
@pytest.mark.parametrize("name", ["l1_loss", "mse_loss", "smooth_l1_loss"])
def test_legacy_size_average_and_reduce_map_as_in_torch(name, legacy, reduction):
    with pytest.warns(UserWarning, match=f"reduction='{reduction}'"):
        ours = getattr(al, name)(X, T, **legacy)
    with pytest.warns(UserWarning, match=f"reduction='{reduction}'"):
        theirs = getattr(F, name)(torch.tensor(X), torch.tensor(T), **legacy)
    assert_close(ours, theirs.numpy())


def test_inputs_are_not_mutated(backend):
    x, t, w = (backend.asarray(a, "float64") for a in (X, T, np.abs(X)))
    for name in LOSSES:
        kwargs = {} if name == "smooth_l1_loss" else {"weight": w}
        getattr(al, name)(x, t, **kwargs)
        for arr, orig in ((x, X), (t, T), (w, np.abs(X))):
            np.testing.assert_array_equal(backend.to_numpy(arr), orig)


# --- bad input: clear errors ------------------------------------------------------------------

@pytest.mark.parametrize("name", LOSSES)
def test_bad_input_raises_clear_errors(backend, name):
    fn = getattr(al, name)
    x = backend.asarray(X, "float32")
    with pytest.raises(ValueError, match=rf"{name}: target of shape \(5,\) does not broadcast with input of shape \(4, 3\)"):
        fn(x, backend.asarray(np.zeros(5), "float32"))
    with pytest.raises(ValueError, match=rf"{name}: reduction must be one of 'none', 'mean', 'sum', got 'avg'"):
        fn(x, x, reduction="avg")
    with pytest.raises(TypeError, match=rf"{name}: input must have a real floating dtype, got .*int64"):
        fn(backend.asarray(np.ones((4, 3), np.int64), "int64"), x)
    flags = X > 0  # labels as booleans: taken as 0.0 and 1.0 (torch's mse_loss takes them so, its l1_loss raises)
    assert_close(backend.to_numpy(fn(x, backend.asarray(flags, "bool"))),
                 getattr(torch.nn.functional, name)(torch.tensor(X, dtype=torch.float32),
                                                    torch.tensor(flags, dtype=torch.float32)).numpy(), "float32")
    with pytest.raises(TypeError, match=rf"{name}: target must be an array, got list"):
        fn(x, [1.0, 2.0, 3.0])
    if name != "smooth_l1_loss":
        with pytest.raises(ValueError, match=rf"{name}: weight must have the shape of input, \(4, 3\), got \(3,\)"):
            fn(x, x, weight=backend.asarray(np.ones(3), "float32"))


@pytest.mark.parametrize("name", LOSSES)
def test_mixed_array_libraries_are_a_type_error(name):
    with pytest.raises(TypeError, match=rf"{name}: all arrays must come from one array library, "
                                        r"got input from torch, target from numpy"):
        getattr(al, name)(torch.tensor(X), T)


def test_option_values_are_checked():
    with pytest.raises(ValueError, match=r"huber_loss: delta must be > 0, got 0"):
        al.huber_loss(X, T, delta=0.0)
    with pytest.raises(ValueError, match=r"huber_loss: delta must be > 0, got -1"):
        al.huber_loss(X, T, delta=-1.0)
    with pytest.raises(ValueError, match=r"smooth_l1_loss: beta must be >= 0, got -0.5"):
        al.smooth_l1_loss(X, T, beta=-0.5)
    with pytest.raises(ValueError, match=r"huber_loss: delta must be > 0, got nan"):
        al.huber_loss(X, T, delta=float("nan"))
    with pytest.raises(ValueError, match=r"smooth_l1_loss: beta must be >= 0, got nan"):
        al.smooth_l1_loss(X, T, beta=float("nan"))
    assert_close(al.huber_loss(X, T, delta=np.float32(0.5)), F.huber_loss(torch.tensor(X), torch.tensor(T), delta=0.5).numpy())


def test_compiles_without_graph_breaks_under_torch_compile():
    """fullgraph=True: no host sync, no data-dependent branch, no ContextVar, no warning inside the graph."""
    x, t, w = torch.tensor(X, requires_grad=True), torch.tensor(T[0]), torch.tensor(np.abs(X))
    for name in LOSSES:
        kwargs = {} if name == "smooth_l1_loss" else {"weight": w}
        fn = torch.compile(lambda x, t: getattr(al, name)(x, t, **kwargs), fullgraph=True, backend="aot_eager")
        ours = fn(x, t)
        (g,) = torch.autograd.grad(ours, x)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = getattr(F, name)(x, t, **kwargs)
        (g_ref,) = torch.autograd.grad(theirs, x)
        assert_close(ours.detach().numpy(), theirs.detach().numpy(), what=name)
        assert_close(g.numpy(), g_ref.numpy(), what=name)
