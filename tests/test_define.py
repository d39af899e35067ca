"""agnostic_losses.loss: a user's formula with the library's contract, on every backend.

Values against float64 NumPy formulas written here, gradients against torch's
autograd of a plain torch formula (float64), the transforms against eager.
"""

from __future__ import annotations

import inspect
import typing
import warnings

import numpy as np
import pytest

import agnostic_losses as al
from agnostic_losses import primitives as P
from agnostic_losses._typing import Array
from conformance.tolerances import TOLERANCES

from helpers import assert_close, need, torch_reference

RNG = np.random.default_rng(27)
X = RNG.standard_normal((4, 3))
T = RNG.standard_normal((4, 3))
W = RNG.uniform(0.5, 2.0, (4, 3))


@al.loss
def charbonnier(input, target, *, eps=1e-3, xp):
    """The issue's example: a smooth L1."""
    d = input - target
    return xp.sqrt(d * d + eps * eps)


def charbonnier_numpy(x, t, eps=1e-3):
    return np.sqrt((x - t) ** 2 + eps ** 2)


def charbonnier_torch(input, target, eps=1e-3, reduction="mean", weight=None):
    import torch

    out = torch.sqrt((input - target) ** 2 + eps ** 2)
    out = out if weight is None else out * weight
    if reduction == "none":
        return out
    if reduction == "sum":
        return out.sum()
    return out.sum() / (out.numel() if weight is None else torch.broadcast_to(weight, out.shape).sum())


def _pinball_value(input, target, *, q):
    d = target - input
    return P.array_namespace(d).where(d > 0, q * d, (q - 1.0) * d)


def _pinball_derivatives(wanted, input, target, *, q):
    xp = P.array_namespace(input, target)
    slope = xp.where(target - input > 0, -q * xp.ones_like(input), (1.0 - q) * xp.ones_like(input))
    return (slope if wanted[0] else None), (-slope if wanted[1] else None)


# the kink at input == target: slope 1 - q there (the d <= 0 side), stated by the derivatives
pinball = al.loss(_pinball_value, name="pinball", derivatives=_pinball_derivatives)


def pinball_numpy(x, t, q):
    d = t - x
    return np.where(d > 0, q * d, (q - 1) * d)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("weighted", [False, True])
def test_values_are_the_formulas_on_every_backend(backend, reduction, weighted):
    arrays = [backend.asarray(X, "float64"), backend.asarray(T, "float64")]
    weight = backend.asarray(W, "float64") if weighted else None
    out = charbonnier(*arrays, eps=0.1, reduction=reduction, weight=weight)
    per = charbonnier_numpy(X, T, 0.1) * (W if weighted else 1.0)
    expected = {"none": per, "sum": per.sum(), "mean": per.sum() / (W.sum() if weighted else per.size)}[reduction]
    assert_close(backend.to_numpy(out), expected)
    assert type(out) is type(arrays[0]) and str(out.dtype).endswith("float64")
    assert tuple(out.shape) == (X.shape if reduction == "none" else ())


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_gradients_are_torchs_autograd_of_the_formula(ad_backend, reduction):
    weight = ad_backend.asarray(W, "float64")
    _, ref, cot = torch_reference(charbonnier_torch, {"input": X, "target": T}, {"reduction": reduction, "eps": 0.1},
                                  grads=("input", "target"))
    ours = ad_backend.evaluate(lambda **a: charbonnier(**a, weight=weight), {"input": X, "target": T},
                               {"reduction": reduction, "eps": 0.1}, "float64", ("input", "target"), cot)
    _, ref_w, _ = torch_reference(lambda **a: charbonnier_torch(**a, weight=__import__("torch").tensor(W)),
                                  {"input": X, "target": T}, {"reduction": reduction, "eps": 0.1},
                                  grads=("input", "target"), cotangent=cot)
    for variant, (_, grads, _) in ours.items():
        for k in ("input", "target"):
            assert_close(grads[k], ref_w[k], what=f"{variant} d/d{k}")
    assert set(ref) == {"input", "target"}


def test_stated_derivatives_hold_at_the_kink_on_torch_and_jax(ad_backend):
    q = 0.3
    x = np.array([0.0, 1.0, -2.0, 0.5, 0.5])
    t = np.array([0.0, 1.0, 1.0, -1.0, 0.5])  # three kinks: d == 0
    expected = np.where(t - x > 0, -q, 1 - q) / x.size
    ours = ad_backend.evaluate(pinball, {"input": x, "target": t}, {"q": q}, "float64", ("input", "target"),
                               np.array(1.0))
    for variant, (value, grads, _) in ours.items():
        assert_close(value, pinball_numpy(x, t, q).mean(), what=variant)
        assert_close(grads["input"], expected, what=f"{variant} d/dinput")
        assert_close(grads["target"], -expected, what=f"{variant} d/dtarget")


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_stated_derivatives_are_fused_with_the_reduction_at_any_size(backend, reduction):
    """Large enough for the CPU's evaluation in pieces: the same values as the formula's."""
    rng = np.random.default_rng(1)
    x, t, w = rng.standard_normal(300_000), rng.standard_normal(300_000), rng.uniform(0, 1, 300_000)
    out = pinball(backend.asarray(x, "float64"), backend.asarray(t, "float64"), q=0.8, reduction=reduction,
                  weight=backend.asarray(w, "float64"))
    per = pinball_numpy(x, t, 0.8) * w
    assert_close(backend.to_numpy(out), {"none": per, "sum": per.sum(), "mean": per.sum() / w.sum()}[reduction])


@pytest.mark.parametrize("stated", [False, True])
def test_weighted_means_divide_by_the_broadcast_weights_or_as_asked(stated):
    """input (4, 1) against target (4, 3): the losses are (4, 3), the weight (4, 1) broadcasts to them."""
    derivatives = (lambda wanted, input, target, *, eps: tuple(
        (input - target) / charbonnier.formula(input, target, eps=eps, xp=np) * (1 if i == 0 else -1)
        if w else None for i, w in enumerate(wanted))) if stated else None
    x, w = X[:, :1], W[:, :1]
    per = charbonnier_numpy(x, T) * w
    for weighted_mean, divisor in (("broadcast", np.broadcast_to(w, per.shape).sum()), ("given", w.sum()),
                                   ("count", per.size)):
        made = al.loss(lambda input, target, *, eps=1e-3: charbonnier.formula(input, target, eps=eps, xp=np),
                       name="made", derivatives=derivatives, weighted_mean=weighted_mean)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the shapes differ
            assert_close(made(x, T, weight=w), per.sum() / divisor, what=weighted_mean)


def test_weight_broadcasts_and_a_per_sample_formula_reduces_what_it_returns():
    @al.loss
    def squared_norm(input, target, *, xp):  # per sample: one loss per row
        return xp.sum((input - target) ** 2, axis=-1)

    w = np.array([1.0, 0.0, 2.0, 1.0])
    assert_close(squared_norm(X, T, weight=w), (((X - T) ** 2).sum(-1) * w).sum() / w.sum())
    assert squared_norm(X, T, reduction="none").shape == (4,)
    per_column = np.array([1.0, 2.0, 3.0])  # broadcast against the elementwise losses of charbonnier
    assert_close(charbonnier(X, T, weight=per_column),
                 (charbonnier_numpy(X, T) * per_column).sum() / np.broadcast_to(per_column, X.shape).sum())


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision_is_computed_in_float32_and_returned_in_its_dtype(backend, dtype):
    if dtype not in backend.dtypes:
        pytest.skip(f"{backend.name} has no {dtype}")
    x, t = backend.asarray(X, dtype), backend.asarray(T, dtype)
    out = charbonnier(x, t, reduction="sum")
    assert str(out.dtype).endswith(dtype)
    rounded = [backend.to_numpy(a).astype(np.float32) for a in (x, t)]
    exact32 = charbonnier_numpy(*rounded, np.float32(1e-3)).sum(dtype=np.float32)
    assert_close(backend.to_numpy(out), backend.to_numpy(backend.asarray(np.array(exact32, np.float64), dtype)),
                 dtype)


def test_integer_targets_are_taken_in_the_inputs_dtype_and_indices_pass_as_given(backend):
    labels = np.array([0, 2, 1, 2])
    out = charbonnier(backend.asarray(X[:, 0], "float32"), backend.asarray(labels, "int64"), reduction="none")
    assert str(out.dtype).endswith("float32")
    assert_close(backend.to_numpy(out), charbonnier_numpy(X[:, 0], labels).astype(np.float32), "float32")

    @al.loss(indices=("target",))
    def picked(input, target, *, xp):  # minus the log-probability of the target class
        return -xp.squeeze(P.take_along_axis(P.log_softmax(input, axis=-1), target[:, None], axis=-1), axis=-1)

    torch = need("torch")
    ref = torch.nn.functional.cross_entropy(torch.tensor(X), torch.tensor(labels)).item()
    got = picked(backend.asarray(X, "float64"), backend.asarray(labels, "int64"))
    assert_close(backend.to_numpy(got), ref)


def test_an_optional_array_is_none_when_not_given():
    @al.loss
    def scaled(input, target, scale=None, *, xp):
        d = (input - target) ** 2
        return d if scale is None else d * scale

    assert_close(scaled(X, T), ((X - T) ** 2).mean())
    assert_close(scaled(X, T, W), ((X - T) ** 2 * W).mean())
    assert_close(scaled(X, T, scale=W, reduction="sum"), ((X - T) ** 2 * W).sum())


def test_transforms_give_eager_results():
    jax = need("jax")
    jnp = jax.numpy
    x, t = jnp.asarray(X), jnp.asarray(T)
    eager = charbonnier(x, t, eps=0.1)
    assert_close(np.asarray(jax.jit(lambda a, b: charbonnier(a, b, eps=0.1))(x, t)), np.asarray(eager))
    rows = jax.vmap(lambda a, b: charbonnier(a, b, eps=0.1))(x, t)
    assert_close(np.asarray(rows), charbonnier_numpy(X, T, 0.1).mean(axis=1))
    torch = need("torch")
    _, ref, _ = torch_reference(charbonnier_torch, {"input": X, "target": T}, {"eps": 0.1}, grads=("input",))
    assert_close(np.asarray(jax.grad(lambda a: charbonnier(a, t, eps=0.1))(x)), ref["input"])
    assert_close(np.asarray(jax.jit(jax.grad(lambda a: pinball(a, t, q=0.3)))(x)),
                 np.where(T - X > 0, -0.3, 0.7) / X.size)
    xt = torch.tensor(X, requires_grad=True)
    for made, options in ((charbonnier, {"eps": 0.1}), (pinball, {"q": 0.3})):
        compiled = torch.compile(lambda a, b: made(a, b, **options), fullgraph=True, backend="aot_eager")
        (g,) = torch.autograd.grad(compiled(xt, torch.tensor(T)), xt)
        (g_eager,) = torch.autograd.grad(made(xt, torch.tensor(T), **options), xt)
        assert_close(g.numpy(), g_eager.numpy(), what=made.__name__)
    da = need("dask.array")
    lazy = charbonnier(da.from_array(X, chunks=2), da.from_array(T, chunks=2), eps=0.1, reduction="sum")
    assert isinstance(lazy, da.Array)
    assert_close(lazy.compute(), charbonnier_numpy(X, T, 0.1).sum())


def test_signature_name_and_docstring_are_the_losses():
    signature = inspect.signature(charbonnier)
    assert list(signature.parameters) == ["input", "target", "eps", "reduction", "weight"]
    assert [signature.parameters[k].default for k in ("eps", "reduction", "weight")] == [1e-3, "mean", None]
    # the formula's annotations (none here), and the loss's own
    assert [signature.parameters[k].annotation for k in ("reduction", "weight")] == ["str", "Array | None"]
    assert typing.get_type_hints(charbonnier) == {"reduction": str, "weight": Array | None}
    assert charbonnier.__name__ == "charbonnier" and charbonnier.__doc__ == "The issue's example: a smooth L1."
    assert list(inspect.signature(pinball).parameters) == ["input", "target", "q", "reduction", "weight"]
    assert pinball.__name__ == "pinball"


def test_bad_input_raises_clear_errors():
    torch = need("torch")
    cases = [
        (lambda: charbonnier(X, T, reduction="avg"), ValueError,
         r"charbonnier: reduction must be one of 'none', 'mean', 'sum', got 'avg'"),
        (lambda: charbonnier(X, torch.tensor(T)), TypeError,
         r"charbonnier: all arrays must come from one array library, got input from numpy, target from torch"),
        (lambda: charbonnier(X, T[:, :2]), ValueError,
         r"charbonnier: target of shape \(4, 2\) does not broadcast with input of shape \(4, 3\)"),
        (lambda: charbonnier(X.astype(np.int64), T), TypeError,
         r"charbonnier: input must have a real floating dtype, got int64"),
        (lambda: charbonnier(X), TypeError, r"charbonnier: the array target is required"),
        (lambda: charbonnier(X, T, X), TypeError, r"charbonnier: takes the arrays input, target positionally, got 3"),
        (lambda: charbonnier(X, T, target=T), TypeError, r"charbonnier: got two values for the array target"),
        (lambda: charbonnier(X, T, delta=1.0), TypeError,
         r"charbonnier: unexpected argument 'delta'; its arrays are input, target, its options eps, reduction, weight"),
        (lambda: charbonnier(X, T, weight=np.ones(4)), ValueError,
         r"charbonnier: weight of shape \(4,\) does not broadcast to the formula's output's shape \(4, 3\)"),
        (lambda: pinball(X, T), TypeError, r"pinball: the option q is required"),
        (lambda: charbonnier([1.0], T), TypeError, r"charbonnier: input must be an array, got list"),
    ]
    for call, kind, message in cases:
        with pytest.raises(kind, match=message):
            call()
    with pytest.warns(UserWarning, match=r"charbonnier: target shape \(3,\) differs from input shape \(4, 3\)"):
        charbonnier(X, T[0])


def test_bad_formulas_are_refused_at_definition():
    cases = [
        (lambda input, target=0.0: input, r"loss <lambda>: array target may default to None only"),
        (lambda *arrays: arrays[0], r"loss <lambda>: the formula's parameters must be named arrays and keyword-only "
                                    r"options, got \*arrays"),
        (lambda input, **options: input, r"got \*\*options"),
        (lambda *, eps=1.0: eps, r"the formula must take at least one array"),
        (lambda input, *, reduction="sum": input, r"'reduction' is the loss's own argument"),
        (lambda input, weight: input, r"'weight' is the loss's own argument"),
    ]
    for formula, message in cases:
        with pytest.raises(TypeError, match=message):
            al.loss(formula)
    with pytest.raises(ValueError, match=r"loss f: 'label' is not one of the formula's arrays \('input', 'target'\)"):
        al.loss(lambda input, target: input, name="f", targets=("label",))
    with pytest.raises(TypeError, match=r"loss: the formula must be a function, got int"):
        al.loss(3)


def test_inputs_are_not_mutated(backend):
    x, t, w = (backend.asarray(a, "float64") for a in (X, T, W))
    for made, options in ((charbonnier, {}), (pinball, {"q": 0.5})):
        for reduction in ("none", "mean", "sum"):
            made(x, t, weight=w, reduction=reduction, **options)
    for a, original in ((x, X), (t, T), (w, W)):
        np.testing.assert_array_equal(backend.to_numpy(a), original)


def test_a_call_seen_before_is_checked_for_its_devices_and_computes_afresh():
    """The second call of a signature skips the checks the first ran: what varies within a signature (the
    devices, the values, whether a gradient is asked for) is still the call's own."""
    torch = pytest.importorskip("torch", reason="torch is not installed")
    x, t = torch.tensor(X), torch.tensor(T)
    for _ in range(2):
        np.testing.assert_allclose(pinball(x, t, q=0.3, reduction="sum").numpy(),
                                   pinball_numpy(X, T, 0.3).sum(), rtol=1e-12)
    on_meta = torch.empty(T.shape, dtype=torch.float64, device="meta")
    with pytest.raises(ValueError, match=r"pinball: all arrays must be on one device, got input on cpu, target on meta"):
        pinball(x, on_meta, q=0.3, reduction="sum")
    np.testing.assert_allclose(pinball(x, -t, q=0.3, reduction="sum").numpy(),
                               pinball_numpy(X, -T, 0.3).sum(), rtol=1e-12)
    x.requires_grad_()
    pinball(x, t, q=0.3, reduction="sum").backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.where(T - X > 0, -0.3, 0.7))


def test_options_equal_as_numbers_but_of_another_type_or_sign_are_other_signatures():
    """``1.0`` and ``True``, ``0.0`` and ``-0.0`` compare equal, but a formula may tell them apart: a call seen
    with one computes afresh with the other."""
    @al.loss(derivatives=lambda wanted, input, target, *, scale: (input * 0 + 1 / scale, None))
    def reciprocal(input, target, *, scale):
        return input / scale if type(scale) is float else input * 0 - 1

    x, t = np.array([1.0, 2.0]), np.zeros(2)
    assert reciprocal(x, t, scale=1.0, reduction="sum") == 3.0
    assert reciprocal(x, t, scale=True, reduction="sum") == -2.0
    assert reciprocal(x, t, scale=0.0, reduction="sum") == np.inf
    assert reciprocal(x, t, scale=-0.0, reduction="sum") == -np.inf


def test_an_array_option_is_not_kept_by_the_loss():
    """A signature's key holds plain options only: an array passed as an option is not kept alive."""
    import gc
    import weakref

    torch = pytest.importorskip("torch", reason="torch is not installed")
    q = torch.tensor(0.25, dtype=torch.float64)
    kept = weakref.ref(q)
    for _ in range(2):
        pinball(torch.tensor(X), torch.tensor(T), q=q)
    del q
    gc.collect()
    assert kept() is None


def test_numpy_computes_nonfinite_values_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            out = charbonnier(np.array([np.inf, np.nan]), np.array([np.inf, 0.0]), eps=0.0, reduction="none")
    assert np.isnan(out).all()


def test_the_class_takes_options_at_construction_and_arrays_at_call():
    Charbonnier = charbonnier.as_class()
    assert Charbonnier.__name__ == "Charbonnier"
    assert str(inspect.signature(Charbonnier)) == "(eps=0.001, reduction='mean')"
    loss = Charbonnier(0.1, reduction="sum")
    assert repr(loss) == "Charbonnier(eps=0.1, reduction='sum')"
    assert_close(loss(X, T, weight=W), (charbonnier_numpy(X, T, 0.1) * W).sum())
    loss.reduction = "none"
    assert loss(X, T).shape == X.shape
    assert pinball.as_class("Pinball")(q=0.2)(X, T).shape == ()
    with pytest.raises(TypeError):
        Charbonnier(eps=0.1, delta=1.0)


def test_the_torch_module_class_works_in_containers():
    torch = need("torch")
    from agnostic_losses.torch import module

    Charbonnier = module(charbonnier)
    loss = Charbonnier(eps=0.1)
    assert isinstance(loss, torch.nn.Module) and repr(loss) == "Charbonnier(eps=0.1, reduction='mean')"
    x = torch.tensor(X, requires_grad=True)
    torch.nn.Sequential(torch.nn.Identity()).append(loss)
    value = loss(x, torch.tensor(T))
    (g,) = torch.autograd.grad(value, x)
    _, ref, _ = torch_reference(charbonnier_torch, {"input": X, "target": T}, {"eps": 0.1}, grads=("input",))
    assert_close(g.numpy(), ref["input"])


def test_public_primitives_are_documented_with_an_example_that_runs():
    import doctest

    for name in P.__all__:
        fn = getattr(P, name)
        doc = inspect.getdoc(fn) or ""
        assert ">>>" in doc, f"primitives.{name} has no example"
        finder = doctest.DocTestFinder(recurse=False)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        for test in finder.find(fn, name, globs={"np": np, "P": P, "al": al}):
            runner.run(test)
        assert runner.failures == 0, f"primitives.{name}'s example fails"
    assert TOLERANCES  # the tolerances these tests compare with are the conformance suite's


# --- conformance.check_loss ----------------------------------------------------------------------

def pinball_torch(input, target, q, reduction="mean"):
    import torch

    d = target - input
    out = torch.where(d > 0, q * d, (q - 1) * d)  # torch's where: the gradient of the taken branch, 1 - q at d == 0
    return {"none": out, "mean": out.mean(), "sum": out.sum()}[reduction]


KINKS = ({"input": np.array([0.0, 1.0, -2.0]), "target": np.array([0.0, 1.0, 1.0])},)


def test_check_loss_passes_a_right_loss_on_every_backend():
    from conformance import check_loss

    report = check_loss(charbonnier, charbonnier_torch, arrays={"input": "normal", "target": "normal"},
                        options={"eps": [1e-3, 0.5]})
    assert report.ok, report
    assert len(report.results) > 0 and not report.failures
    ran = {r.backend for r in report.results}
    assert ran | set(report.skipped) == {"numpy", "array_api_strict", "torch", "jax", "dask", "cupy"}
    assert {"numpy", "torch"} <= ran
    report = check_loss(pinball, pinball_torch, arrays={"input": "normal", "target": "normal"},
                        options={"q": [0.1, 0.5]}, edges=KINKS, dtypes=("float64", "float32", "float16"))
    assert report.ok, report


def test_check_loss_fails_a_wrong_loss_and_names_the_cases():
    from conformance import check_loss

    def wrong_slope(wanted, input, target, *, q):  # the kink's slope on the wrong side: -q at d == 0
        xp = P.array_namespace(input, target)
        slope = xp.where(target - input >= 0, -q * xp.ones_like(input), (1.0 - q) * xp.ones_like(input))
        return (slope if wanted[0] else None), (-slope if wanted[1] else None)

    wrong = al.loss(_pinball_value, name="pinball", derivatives=wrong_slope)
    drawn = check_loss(wrong, pinball_torch, arrays={"input": "normal", "target": "normal"}, options={"q": [0.3]})
    assert drawn.ok, drawn  # random draws never land on the kink: only an edge point finds it
    report = check_loss(wrong, pinball_torch, arrays={"input": "normal", "target": "normal"}, options={"q": [0.3]},
                        edges=KINKS)
    assert not report.ok and not bool(report)
    failed = {(r.backend, r.case) for r in report.failures}
    assert {b for b, _ in failed} == {"torch", "jax"}  # the backends that differentiate
    assert all("edge0" in case for _, case in failed)
    text = str(report)
    assert text.splitlines()[0].startswith("pinball: ") and "FAIL torch:cpu pinball[edge0|q=0.3,reduction=" in text
    assert "d/dinput error" in text and len(text.splitlines()) < 25

    @al.loss
    def off_by_a_bit(input, target, *, xp):  # a value 1e-4 off: within float16's tolerance, not float32's
        return (input - target) ** 2 * (1 + 1e-4)

    report = check_loss(off_by_a_bit, lambda input, target, reduction="mean": al.mse_loss(input, target,
                                                                                          reduction=reduction),
                        arrays={"input": "normal", "target": "normal"}, backends=["numpy", "torch"],
                        dtypes=("float32",))
    assert not report.ok and {r.backend for r in report.failures} == {"numpy", "torch"}
    assert all("value error" in r.message for r in report.failures)


def test_check_loss_takes_a_numpy_reference_for_values():
    from conformance import check_loss

    def reference(input, target, eps=1e-3, reduction="mean"):
        out = charbonnier_numpy(input, target, eps)
        return {"none": out, "mean": out.mean(), "sum": out.sum()}[reduction]

    report = check_loss(charbonnier, reference, arrays={"input": "normal", "target": "normal"},
                        reference_library="numpy", backends=["numpy", "jax"])
    assert report.ok, report
    wrong = check_loss(charbonnier, lambda input, target, reduction="mean": reference(input, target, 0.1, reduction),
                       arrays={"input": "normal", "target": "normal"}, reference_library="numpy",
                       backends=["numpy"])
    assert not wrong.ok
    with pytest.raises(ValueError, match=r"check_loss: arrays\['input'\] must be a function \(rng, shape\) -> array "
                                         r"or one of normal, positive"):
        check_loss(charbonnier, reference, arrays={"input": "gaussian", "target": "normal"})


def test_optional_arrays_keep_their_places_with_stated_derivatives():
    def value(input, target, shift=None, scale=None):
        d = input - target
        d = d if shift is None else d + shift
        return d * d if scale is None else d * d * scale

    def derivatives(wanted, input, target, shift=None, scale=None):
        d = input - target + (0.0 if shift is None else shift)
        g = 2 * d * (1.0 if scale is None else scale)
        return (g if wanted[0] else None, -g if wanted[1] else None, g if wanted[2] else None,
                d * d if wanted[3] else None)

    stated = al.loss(value, name="stated", derivatives=derivatives)
    plain = al.loss(value, name="plain")
    torch = need("torch")
    for given in ({}, {"scale": W}, {"shift": T}, {"shift": T, "scale": W}):
        assert_close(stated(X, T, **given, reduction="none"), plain(X, T, **given, reduction="none"), what=str(given))
        x = torch.tensor(X, requires_grad=True)
        (g,) = torch.autograd.grad(stated(x, torch.tensor(T), **{k: torch.tensor(v) for k, v in given.items()}), x)
        (g_plain,) = torch.autograd.grad(plain(x, torch.tensor(T), **{k: torch.tensor(v) for k, v in given.items()}),
                                         x)
        assert_close(g.numpy(), g_plain.numpy(), what=f"d/dinput {given}")


def test_classes_take_weight_at_call_and_options_in_any_order():
    @al.loss
    def shifted(input, target, *, a=1.0, b, xp):
        return (input - target + a) * b

    Shifted = shifted.as_class()
    assert str(inspect.signature(Shifted)) == "(*, a=1.0, b, reduction='mean')"
    assert_close(Shifted(b=2.0, reduction="sum")(X, T, weight=W), ((X - T + 1.0) * 2.0 * W).sum())
    with pytest.raises(TypeError, match=r"Shifted: 'a' is an option of the constructor; a call takes the arrays "
                                        r"and weight="):
        Shifted(b=1.0)(X, T, a=3.0)
    with pytest.raises(TypeError, match=r"MSELoss: 'weight' is no argument of the loss; a call takes the arrays$"):
        al.MSELoss()(X, T, weight=W)  # torch.nn.MSELoss's forward has no weight either


def test_check_loss_gives_no_slack_where_the_reference_overflows():
    """A user's reference is no promise: where it overflows in float32 (log cosh at 100), ours is held to the
    exact answer all the same."""
    from conformance import check_loss

    torch = need("torch")

    def reference(input, target, reduction="mean"):
        out = torch.log(torch.cosh(input - target))
        return {"none": out, "mean": out.mean(), "sum": out.sum()}[reduction]

    @al.loss
    def clipped(input, target, *, xp):  # wrong past |d| = 20
        d = input - target
        return xp.where(xp.abs(d) < 20, d + P.softplus(-2.0 * d) - np.log(2.0), xp.zeros_like(d))

    report = check_loss(clipped, reference, arrays={"input": "normal", "target": "normal"}, backends=["numpy"],
                        edges=[{"input": np.array([100.0, 0.5]), "target": np.array([0.0, 0.0])}])
    failed = {(r.case.split("|")[0], r.dtype) for r in report.failures}
    assert failed == {("clipped[edge0", "float64"), ("clipped[edge0", "float32")}, report
    with pytest.raises(TypeError, match=r"check_loss: the reference must take the loss's arguments"):
        check_loss(clipped, lambda input, target: reference(input, target), arrays={"input": "normal",
                                                                                    "target": "normal"})


@pytest.mark.parametrize("module", ["agnostic_losses._define", "agnostic_losses.metrics", "agnostic_losses.regression",
                                    "agnostic_losses.detection", "agnostic_losses.optax_form",
                                    "agnostic_losses.segmentation", "agnostic_losses.probabilistic",
                                    "agnostic_losses.classification", "agnostic_losses._crps",
                                    "agnostic_losses.torch", "conformance.check"])
def test_the_modules_examples_run(module):
    import doctest
    import importlib

    if module in ("agnostic_losses.torch", "conformance.check"):
        need("torch")
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0, result
