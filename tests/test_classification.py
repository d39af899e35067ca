"""The classification losses (agnostic_losses/classification.py): contract, numerics, errors; against
torch.nn.  The probabilistic ones are in test_probabilistic.py, linear_cross_entropy in
test_linear.py.

Every option, shape and dtype is in the conformance catalogue; these tests pin
what a user relies on beyond it: signatures, stability at extreme
logits, the value checks and their switch, and clear errors.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import agnostic_losses as al
from agnostic_losses import generic_primitives

from helpers import (assert_close, assert_common_errors, assert_compiled_gradients_are_eager, assert_value_checks,
                     hessian_diagonal, need, parameters, torch_reference)

torch = need("torch")
F = torch.nn.functional

LOSSES = ("cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
          "multilabel_soft_margin_loss", "soft_margin_loss")
RNG = np.random.default_rng(11)
LOGITS = RNG.standard_normal((4, 5))
LABELS = np.array([0, 4, 2, 2])
P = RNG.uniform(0.05, 0.95, (4, 5))
T01 = RNG.uniform(0, 1, (4, 5))


@pytest.mark.parametrize("name", LOSSES)
def test_signature_is_torchs(name):
    """torch's parameters; cross_entropy and nll_loss add keyword-only ones after them (issue 29)."""
    extra = {"cross_entropy": [("axis", inspect.Parameter.KEYWORD_ONLY, 1),
                               ("where", inspect.Parameter.KEYWORD_ONLY, None)],
             "nll_loss": [("axis", inspect.Parameter.KEYWORD_ONLY, 1)]}.get(name, [])
    assert parameters(getattr(al, name)) == parameters(getattr(F, name)) + extra


@pytest.mark.parametrize("dtype,magnitude", [("float32", 1e4), ("float16", 1e2), ("bfloat16", 1e2)])
def test_extreme_logits_give_finite_values_and_gradients(backend, dtype, magnitude):
    """cross_entropy, BCE-with-logits, multilabel and soft margin at |logits| = 1e4 (float32), 1e2 (half)."""
    if dtype not in backend.dtypes:
        pytest.skip(f"{backend.name} has no {dtype}")
    x = np.sign(LOGITS) * magnitude
    cases = [("cross_entropy", {"input": x, "target": LABELS}),
             ("cross_entropy", {"input": x, "target": P / P.sum(1, keepdims=True)}),
             ("binary_cross_entropy_with_logits", {"input": x, "target": T01}),
             ("multilabel_soft_margin_loss", {"input": x, "target": np.round(T01)}),
             ("soft_margin_loss", {"input": x * 10, "target": np.sign(T01 - 0.5)})]  # torch overflows here
    for name, arrays in cases:
        grads = ("input",) if backend.differentiates else ()
        for variant, (value, g, _) in backend.evaluate(getattr(al, name), arrays, {}, dtype, grads,
                                                       np.ones(())).items():
            assert np.isfinite(value), (name, variant)
            assert all(np.isfinite(v).all() for v in g.values()), (name, variant)
            if name != "soft_margin_loss":
                ref, _, _ = torch_reference(getattr(F, name), arrays)
                assert_close(value, ref, dtype, f"{name} {variant}")


@pytest.mark.parametrize("pos_weight", [None, 2.0])
def test_logits_gradient_keeps_its_precision_where_sigmoid_is_near_0_or_1(ad_backend, pos_weight):
    """d/dx of BCE-with-logits in float32 where sigmoid(x) rounds to 1 (t = 1) or is tiny (t = 0): relative to
    the float64 formula ``(1 + (p - 1) t) sigmoid(x) - p t``, not 0 (``sigmoid(x) - t`` in float32 is 0 there)."""
    x = np.array([17.0, 25.0, 40.0, -17.0, -25.0, -40.0])
    t = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    p = 1.0 if pos_weight is None else pos_weight
    exact = np.where(t == 1, -p / (1 + np.exp(x)), 1 / (1 + np.exp(-x))) / x.size  # the mean's gradient
    arrays = {"input": x, "target": t}
    if pos_weight is not None:
        arrays["pos_weight"] = np.array([pos_weight])
    fn = lambda input, target, pos_weight=None: al.binary_cross_entropy_with_logits(  # noqa: E731
        input, target, pos_weight=pos_weight)
    for variant, (_, g, _) in ad_backend.evaluate(fn, arrays, {}, "float32", ("input",), np.ones(())).items():
        np.testing.assert_allclose(g["input"], exact, rtol=1e-5, atol=0, err_msg=variant)


@pytest.mark.parametrize("pos_weight", [None, 2.0])
def test_logits_second_derivative_keeps_its_precision_at_both_ends(ad_backend, pos_weight):
    """d2/dx2 of BCE-with-logits in float64, ``(1 + (p - 1) t) sigmoid(x) sigmoid(-x)``, to 1e-12 at |x| up to 40
    and t in {0, 0.5, 1, 2}: the derivative of a sigmoid near 1 (``y (1 - y)``) would lose it."""
    x = np.repeat([-40.0, -17.0, -5.0, 0.0, 5.0, 17.0, 40.0], 4)
    t = np.tile([0.0, 0.5, 1.0, 2.0], 7)
    p = 1.0 if pos_weight is None else pos_weight
    exact = (1 + (p - 1) * t) / ((1 + np.exp(-x)) * (1 + np.exp(x)))
    weight = None if pos_weight is None else np.array([pos_weight])

    def fn(x, t):
        w = None if weight is None else (torch.tensor(weight) if ad_backend.name == "torch"
                                         else __import__("jax").numpy.asarray(weight))
        return al.binary_cross_entropy_with_logits(x, t, reduction="none", pos_weight=w)

    for generic in (False, True):
        with generic_primitives(generic):
            np.testing.assert_allclose(hessian_diagonal(ad_backend.name, fn, x, t), exact, rtol=1e-12, atol=0,
                                       err_msg=f"generic={generic}")


def test_value_checks_run_on_host_data_and_can_be_switched(backend):
    """Class indices out of range, probabilities outside [0, 1]: clear errors on concrete data."""
    x = backend.asarray(LOGITS, "float32")
    p = backend.asarray(P, "float32")
    bad_labels = backend.asarray(np.array([0, 5, 1, 1]), "int64")
    assert_value_checks(backend, [
        (lambda: al.cross_entropy(x, bad_labels), r"cross_entropy: target must hold class indices in \[0, 5\) "
                                                  r"or ignore_index=-100, got 5"),
        (lambda: al.nll_loss(x, backend.asarray(np.array([0, -1, 1, 1]), "int64")),
         r"nll_loss: target must hold class indices in \[0, 5\) or ignore_index=-100, got -1"),
        (lambda: al.binary_cross_entropy(p * 2, p), r"binary_cross_entropy: input must hold probabilities in "
                                                    r"\[0, 1\], got 1\.\d+"),
        (lambda: al.binary_cross_entropy(p, -p), r"binary_cross_entropy: target must hold probabilities"),
    ])


def test_value_checks_are_skipped_under_jit_and_forced_on_request():
    jax = need("jax")
    jnp = jax.numpy
    bad = jnp.asarray([0, 5, 1, 1])
    jax.jit(al.cross_entropy)(jnp.asarray(LOGITS), bad)  # traced: cannot be read, not checked
    with pytest.raises(ValueError, match="class indices"):
        al.cross_entropy(jnp.asarray(LOGITS), bad)  # concrete CPU array: checked
    with pytest.raises(ValueError, match="mode must be"):
        with al.value_checks("sometimes"):
            pass


def test_cross_entropy_semantics_against_torch():
    """The traps of docs/design.md ("What matches torch.nn means"), one by one."""
    t = torch.tensor
    x, y, w = LOGITS, LABELS, RNG.uniform(0.5, 2, 5)
    ignored = np.array([0, -100, 2, -100])
    for kwargs in ({"weight": w}, {"label_smoothing": 0.3}, {"weight": w, "label_smoothing": 0.3}):
        assert_close(al.cross_entropy(x, ignored, **kwargs),
                     F.cross_entropy(t(x), t(ignored), **{k: t(v) if k == "weight" else v
                                                          for k, v in kwargs.items()}).numpy(), what=str(kwargs))
    all_ignored = np.full(4, -100)
    assert np.isnan(al.cross_entropy(x, all_ignored)) and al.cross_entropy(x, all_ignored, reduction="sum") == 0
    assert al.cross_entropy(x[0], y[0], reduction="none").shape == ()  # unbatched
    k_dim = RNG.standard_normal((2, 5, 3, 2)), RNG.integers(0, 5, (2, 3, 2))
    assert_close(al.cross_entropy(*k_dim, reduction="none"), F.cross_entropy(*map(t, k_dim), reduction="none").numpy())


@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 3)])
def test_cross_entropy_of_probabilities_with_no_logit_is_torchs(backend, shape):
    """Probability targets of logits with no element: 'mean' divides by numel / C, NaN as torch's (also for
    N positions of no class), and label smoothing over no class is defined (found by the fuzz)."""
    x = np.zeros(shape)
    for reduction in ("none", "mean", "sum"):
        for label_smoothing in (0.0, 0.25):
            kwargs = {"reduction": reduction, "label_smoothing": label_smoothing}
            ours = al.cross_entropy(backend.asarray(x, "float64"), backend.asarray(x, "float64"), **kwargs)
            ref = F.cross_entropy(torch.tensor(x), torch.tensor(x), **kwargs).numpy()
            assert_close(backend.to_numpy(ours), ref, what=str(kwargs))


@pytest.mark.parametrize("ignore_index", [-100, 3])
def test_a_smoothed_mean_over_targets_of_no_weight_is_torchs_nan(backend, ignore_index):
    """Label smoothing, 'mean', and the kept targets' class weights summing to 0: torch divides its nll term
    (0 / 0) and its smoothing term apart, NaN, where one sum over that 0 is inf (found by the fuzz)."""
    w = np.array([0.0, 0.4, 1.4, 1.8, 0.6])
    options = {"label_smoothing": 0.25, "ignore_index": ignore_index}
    for logits, target in ((RNG.standard_normal((3, 5)), np.array([0, 3, 0])), (RNG.standard_normal(5), np.array(0))):
        ours = al.cross_entropy(backend.asarray(logits, "float64"), backend.asarray(target, "int64"),
                                weight=backend.asarray(w, "float64"), **options)
        ref = F.cross_entropy(torch.tensor(logits), torch.tensor(target), weight=torch.tensor(w), **options)
        assert np.isnan(ref.item()) == (ignore_index == 3 or target.ndim == 0)
        assert_close(backend.to_numpy(ours), ref.numpy(), what=f"cross_entropy {logits.shape} {options}")
        features, linear_weight = RNG.standard_normal(logits.shape[:-1] + (4,)), RNG.standard_normal((5, 4))
        ours = al.linear_cross_entropy(backend.asarray(features, "float64"), backend.asarray(linear_weight, "float64"),
                                       backend.asarray(target, "int64"), weight=backend.asarray(w, "float64"),
                                       **options)
        ref = F.linear_cross_entropy(torch.tensor(features), torch.tensor(linear_weight), torch.tensor(target),
                                     weight=torch.tensor(w), **options)
        assert_close(backend.to_numpy(ours), ref.numpy(), what=f"linear_cross_entropy {logits.shape} {options}")


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_targets_with_and_without_an_ignored_class_give_torchs_values_and_gradients(ad_backend, name):
    """Where the data show that no target is ignored the formula takes no mask; an ignore_index inside [0, C),
    present or not, an out-of-range one, weights and label smoothing: torch's values and gradients."""
    logits = LOGITS if name == "cross_entropy" else LOGITS - np.log(np.exp(LOGITS).sum(1, keepdims=True))
    w = RNG.uniform(0.5, 2, 5)
    for target, options in ((LABELS, {}), (LABELS, {"ignore_index": 2}), (LABELS, {"ignore_index": 3}),
                            (LABELS, {"weight": w}), (LABELS, {"weight": w, "ignore_index": 4}),
                            (np.array([1, -7, 3, 0]), {"ignore_index": -7, "weight": w})):
        if name == "cross_entropy":
            options = {**options, "label_smoothing": 0.2} if "weight" in options else options
        arrays = {"input": logits, "target": target, **({"weight": options["weight"]} if "weight" in options else {})}
        rest = {k: v for k, v in options.items() if k != "weight"}
        for reduction in ("none", "mean", "sum"):
            ref, ref_grads, cot = torch_reference(getattr(F, name), arrays, {**rest, "reduction": reduction},
                                                  ("input",))
            variants = ad_backend.evaluate(getattr(al, name), arrays, {**rest, "reduction": reduction}, "float64",
                                           ("input",), cot)
            for variant, (value, grads, _) in variants.items():
                what = f"{name} {sorted(options)} {reduction} {variant}"
                assert_close(value, ref, what=what)
                assert_close(grads["input"], ref_grads["input"], what=f"{what} d/dinput")


def test_a_wider_pos_weight_is_computed_with_and_returns_the_inputs_dtype(backend):
    """float32 logits and targets with a float64 pos_weight: the formula's in-place updates in one dtype
    (array-api-strict refuses a float64 update of a float32 array); torch's float32 result."""
    x, t, p = (LOGITS * 3).astype(np.float32), T01.astype(np.float32), RNG.uniform(0.5, 3, 5)
    ref = F.binary_cross_entropy_with_logits(torch.tensor(x).double(), torch.tensor(t).double(),
                                             pos_weight=torch.tensor(p), reduction="none").numpy()
    out = al.binary_cross_entropy_with_logits(backend.asarray(x, "float32"), backend.asarray(t, "float32"),
                                              pos_weight=backend.asarray(p, "float64"), reduction="none")
    assert str(out.dtype).endswith("float32"), out.dtype
    assert_close(backend.to_numpy(out), ref, "float32")


def test_deviations_from_torch_are_finite_where_torch_is_nan():
    """Documented: where torch's target gradient is NaN or inf, ours is finite (docs/deviations.md); the
    probabilistic losses' cases are in test_probabilistic.py."""
    jax = need("jax")
    jnp = jax.numpy
    g = jax.grad(lambda t: al.binary_cross_entropy(jnp.asarray([0.0, 1.0, 0.5]), t, reduction="sum"))(jnp.ones(3) / 2)
    np.testing.assert_allclose(g, [100.0, -100.0, 0.0])  # -(clamped log x - clamped log(1 - x))


@pytest.mark.parametrize("generic", [False, True], ids=["native", "generic"])
def test_binary_cross_entropy_second_derivative_is_torchs(ad_backend, generic):
    """torch's double backward, whose denominator is clamped like the gradient's, also at 0 and 1."""
    x, t = np.array([0.0, 1.0, 0.0, 1.0, 0.25, 0.5, 0.75]), np.array([1.0, 0.0, 0.3, 0.5, 0.0, 1.0, 0.6])
    ref = hessian_diagonal("torch", lambda x, t: F.binary_cross_entropy(x, t, reduction="none"), x, t)
    np.testing.assert_allclose(ref, (x * x - 2 * x * t + t) / np.maximum(x * (1 - x), 1e-12) ** 2, rtol=1e-9)
    with generic_primitives(generic):
        ours = hessian_diagonal(ad_backend.name, lambda x, t: al.binary_cross_entropy(x, t, reduction="none"), x, t)
    assert_close(ours, ref)


@pytest.mark.parametrize("name", LOSSES)
def test_bad_input_raises_clear_errors(name):
    fn = getattr(al, name)
    x = LOGITS.astype(np.float32)
    if name in ("cross_entropy", "nll_loss"):
        with pytest.raises(TypeError, match=rf"{name}: target must have an integer dtype \(class indices.*got float64"):
            fn(x, LABELS.astype(np.float64))
        with pytest.raises(ValueError, match=rf"{name}: target must have shape \(4,\) \(input's shape \(4, 5\) less the "
                                             r"class axis\), got \(1, 4\)"):
            fn(x, LABELS[None])
        with pytest.raises(ValueError, match=rf"{name}: weight must have shape \(5,\) \(one weight per class\), got \(4,\)"):
            fn(x, LABELS, weight=np.ones(4, np.float32))
    elif name == "soft_margin_loss":  # torch broadcasts its target to the input's shape
        with pytest.raises(ValueError, match=rf"{name}: target of shape \(3,\) does not broadcast to input's shape "
                                             r"\(4, 5\)"):
            fn(x, np.ones(3, np.float32))
    elif name == "multilabel_soft_margin_loss":  # torch broadcasts input, target and weight together
        with pytest.raises(ValueError, match=rf"{name}: the shapes do not broadcast together: input of shape \(4, 5\), "
                                             r"target of shape \(3,\)$"):
            fn(x, np.ones(3, np.float32))
    else:
        with pytest.raises(ValueError, match=rf"{name}: target must have shape \(4, 5\) \(input's shape\), got \(5,\)"):
            fn(np.clip(x, 0, 1), np.ones(5, np.float32))
    assert_common_errors(name, (x, LABELS) if name in ("cross_entropy", "nll_loss") else (np.abs(x) / 10,) * 2)


def test_option_errors():
    with pytest.raises(ValueError, match=r"cross_entropy: label_smoothing must be at most 1.0, got 1.5"):
        al.cross_entropy(LOGITS, LABELS, label_smoothing=1.5)
    t = torch.tensor
    for smoothing in (-0.1, float("nan")):  # torch smooths only above 0
        for target in (LABELS, P):
            assert_close(al.cross_entropy(LOGITS, target, label_smoothing=smoothing),
                         F.cross_entropy(t(LOGITS), t(target), label_smoothing=smoothing).numpy())
    with pytest.raises(ValueError, match=r"cross_entropy: ignore_index is not supported with probability targets"):
        al.cross_entropy(LOGITS, P, ignore_index=1)
    t = torch.tensor
    assert_close(al.cross_entropy(LOGITS, P, ignore_index=-1), F.cross_entropy(t(LOGITS), t(P), ignore_index=-1).numpy())
    with pytest.raises(TypeError, match=r"cross_entropy: target must have an integer dtype \(class indices; "):
        al.cross_entropy(LOGITS, LABELS.astype(np.float64))


def test_compiles_without_graph_breaks_under_torch_compile():
    x = torch.tensor(LOGITS, requires_grad=True)
    calls = {
        "cross_entropy": lambda x: al.cross_entropy(x, torch.tensor(LABELS), label_smoothing=0.1),
        "binary_cross_entropy": lambda x: al.binary_cross_entropy(torch.sigmoid(x), torch.tensor(T01)),
        "binary_cross_entropy_with_logits": lambda x: al.binary_cross_entropy_with_logits(x, torch.tensor(T01)),
    }
    assert_compiled_gradients_are_eager(calls, x)


# --- the class axis and masks (issue 29): against torch with the classes moved, and optax ----------------------

CLASSES_LAST = RNG.standard_normal((3, 4, 5))  # (N, d1, C)
INDICES = RNG.integers(0, 5, (3, 4))
KEEP = RNG.random((3, 4, 5)) < 0.6
KEEP[0, 0] = False  # a position with nothing kept
WEIGHT = RNG.uniform(0.5, 2.0, 5)


def optax_softmax_cross_entropy(logits, labels, axis, where):
    jax = need("jax")
    jnp = jax.numpy
    f = need("optax").losses.softmax_cross_entropy
    value, grad = jax.value_and_grad(lambda x: f(x, jnp.asarray(labels), axis=axis, where=jnp.asarray(where)).sum())(
        jnp.asarray(logits))
    return np.asarray(f(jnp.asarray(logits), jnp.asarray(labels), axis=axis, where=jnp.asarray(where))), \
        np.asarray(grad)


@pytest.mark.parametrize("axis", (-1, 2, 0))
@pytest.mark.parametrize("name, options", [("cross_entropy", {}), ("nll_loss", {}),
                                           ("cross_entropy", {"weight": WEIGHT, "ignore_index": 1}),
                                           ("nll_loss", {"weight": WEIGHT, "ignore_index": 1}),
                                           ("cross_entropy", {"label_smoothing": 0.2})])
def test_class_axis_is_torchs_with_the_classes_moved(ad_backend, name, axis, options):
    """``axis=`` gives torch's value and gradient on the logits with the classes moved to axis 1; every
    reduction, weights, ignore_index and label smoothing."""
    x, t = np.moveaxis(CLASSES_LAST, -1, axis), INDICES  # the target: the logits' shape less the class axis
    for reduction in ("none", "mean", "sum"):
        arrays = {"input": x, "target": t, **({"weight": options["weight"]} if "weight" in options else {})}
        opts = {k: v for k, v in options.items() if k != "weight"}
        moved = {**arrays, "input": np.moveaxis(x, axis, 1)}
        ref, ref_grad, _ = torch_reference(getattr(F, name), moved, {**opts, "reduction": reduction}, ("input",))
        for variant, (value, g, _) in ad_backend.evaluate(getattr(al, name), arrays,
                                                          {**opts, "reduction": reduction, "axis": axis},
                                                          "float64", ("input",), np.ones(ref.shape)).items():
            assert_close(value, ref, what=f"{variant} {reduction}")
            assert_close(g["input"], np.moveaxis(ref_grad["input"], 1, axis), what=f"{variant} {reduction} grad")


@pytest.mark.parametrize("targets", ("indices", "probabilities"))
@pytest.mark.parametrize("axis", (-1, 1))
@pytest.mark.parametrize("per_position", (False, True))
def test_where_is_optaxs(backend, targets, axis, per_position):
    """``where=`` gives optax's ``softmax_cross_entropy(logits, labels, axis, where)`` per position (class
    indices as one-hot labels), its gradient too: masked logits out of the normaliser and of the class sum, a
    position with nothing kept 0 with a zero gradient (optax's: 0).  ``where`` of the logits' shape less the
    class axis (``per_position``) flags whole positions, as optax's."""
    labels = np.eye(5)[INDICES] if targets == "indices" else RNG.dirichlet(np.ones(5), (3, 4))
    keep = KEEP.any(-1) if per_position else KEEP
    ref, ref_grad = optax_softmax_cross_entropy(CLASSES_LAST, labels, -1, keep)
    x = np.moveaxis(CLASSES_LAST, -1, axis)
    t = INDICES if targets == "indices" else np.moveaxis(labels, -1, axis)
    where = keep if per_position else np.moveaxis(keep, -1, axis)
    grads = ("input",) if backend.differentiates else ()
    for variant, (value, g, _) in backend.evaluate(al.cross_entropy, {"input": x, "target": t, "where": where},
                                                   {"reduction": "none", "axis": axis}, "float64", grads,
                                                   np.ones(ref.shape)).items():
        assert_close(value, ref, what=variant)
        if grads:
            assert_close(g["input"], np.moveaxis(ref_grad, -1, axis), what=f"{variant} grad")


def test_where_reduces_as_torch_and_broadcasts():
    """The masked losses are reduced as torch reduces them: 'mean' of class indices divides by the kept
    targets' weights (ignore_index), whatever ``where`` masks; a mask of one row broadcasts over the rows."""
    labels = np.eye(5)[INDICES]
    per_position, _ = optax_softmax_cross_entropy(CLASSES_LAST, labels * WEIGHT, -1, KEEP)
    kept = INDICES != 2
    expected = (per_position * kept).sum() / (WEIGHT[INDICES] * kept).sum()
    ours = al.cross_entropy(CLASSES_LAST, INDICES, weight=WEIGHT, ignore_index=2, axis=-1, where=KEEP)
    assert_close(ours, expected)
    row = KEEP[1, 1]  # (C,): the same classes masked at every position
    per_position, _ = optax_softmax_cross_entropy(CLASSES_LAST, labels, -1, np.broadcast_to(row, KEEP.shape))
    assert_close(al.cross_entropy(CLASSES_LAST, INDICES, axis=-1, where=row, reduction="sum"), per_position.sum())


def test_axis_and_where_errors():
    with pytest.raises(ValueError, match=r"cross_entropy: axis must be an axis of input, in \[-3, 3\), got 3"):
        al.cross_entropy(CLASSES_LAST, INDICES, axis=3)
    with pytest.raises(TypeError, match=r"nll_loss: axis must be an int, got tuple"):
        al.nll_loss(CLASSES_LAST, INDICES, axis=(1, 2))
    with pytest.raises(ValueError, match=r"cross_entropy: target must have shape \(3, 4\) \(input's shape "
                                         r"\(3, 4, 5\) less the class axis\), got \(3, 5\)"):
        al.cross_entropy(CLASSES_LAST, INDICES[:, :1] * np.ones((1, 5), np.int64), axis=-1)
    with pytest.raises(TypeError, match=r"cross_entropy: where must be a boolean array, got float64"):
        al.cross_entropy(CLASSES_LAST, INDICES, axis=-1, where=KEEP * 1.0)
    with pytest.raises(ValueError, match=r"cross_entropy: where of shape \(3, 4, 2\) does not broadcast to "
                                         r"input's shape \(3, 4, 5\)"):
        al.cross_entropy(CLASSES_LAST, INDICES, axis=-1, where=KEEP[..., :2])
    with pytest.raises(ValueError, match=r"cross_entropy: where of shape \(3,\) \(one axis fewer than input: one "
                                         r"flag per position, along the class axis 1\) does not broadcast to "
                                         r"input's shape \(2, 3\)"):
        al.cross_entropy(LOGITS[:2, :3], LABELS[:2] % 3, where=np.array([True, True, False]))
    assert_close(al.cross_entropy(LOGITS[0], LABELS[0], axis=-1), al.cross_entropy(LOGITS[0], LABELS[0]))


def test_where_of_no_logits_is_torchs_nan(backend):
    """An empty batch (or no class) with a mask gives torch's answer without one: NaN."""
    torch = need("torch")
    for shape, target in (((0, 3), np.zeros(0, np.int64)), ((2, 0), np.full(2, -100))):
        ref = F.cross_entropy(torch.zeros(shape, dtype=torch.float64), torch.from_numpy(target)).item()
        ours = al.cross_entropy(backend.asarray(np.zeros(shape), "float64"), backend.asarray(target, "int64"),
                                where=backend.asarray(np.ones(shape, bool), "bool"))
        assert np.isnan(ref) and np.isnan(backend.to_numpy(ours))
