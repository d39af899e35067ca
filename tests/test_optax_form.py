"""optax's losses in optax's form (agnostic_losses.optax_form) against optax itself.

The conformance catalogue compares every case on every backend; here: the
signatures, the gradient at the kinks (torch's convention, not optax's),
labels of every type, the errors, and the transforms.
"""

from __future__ import annotations

import numpy as np
import pytest

import agnostic_losses as al

from helpers import assert_close, installed, need, parameters

NAMES = ("hinge_loss", "perceptron_loss", "sparsemax_loss", "multiclass_hinge_loss", "multiclass_perceptron_loss",
         "multiclass_sparsemax_loss", "cosine_distance", "ntxent", "poly_loss_cross_entropy")
RNG = np.random.default_rng(29)
Y, T = RNG.standard_normal((4, 3)), RNG.choice([-1.0, 1.0], (4, 3))
SCORES, LABELS = RNG.standard_normal((4, 5)), RNG.integers(0, 5, (4,))
EMBEDDINGS, GROUPS = RNG.standard_normal((6, 3)), np.array([0, 1, 0, 2, 1, 0])


def optax_losses():
    jax = need("jax")
    jax.config.update("jax_enable_x64", True)
    return need("optax").losses


def _arguments(name):
    if name == "poly_loss_cross_entropy":
        return SCORES, np.eye(5)[LABELS]
    if name == "ntxent":
        return EMBEDDINGS, GROUPS
    if name.startswith("multiclass"):
        return SCORES, LABELS
    if name == "sparsemax_loss":
        return Y * 2, (T > 0).astype(np.int64)
    return Y, T


@pytest.mark.parametrize("name", NAMES)
def test_signature_and_values_are_optaxs(name):
    assert parameters(getattr(al, name)) == parameters(getattr(optax_losses(), name))
    args = _arguments(name)
    jnp = need("jax").numpy
    assert_close(getattr(al, name)(*args), np.asarray(getattr(optax_losses(), name)(*map(jnp.asarray, args))))


@pytest.mark.parametrize("name,scores", [("hinge_loss", np.array([1.0, -1.0, 0.5])),
                                         ("perceptron_loss", np.array([0.0, 0.0, 0.5]))])
def test_the_kink_passes_the_whole_gradient_as_torchs_clamp_min(name, scores):
    """At ``1 - y t == 0`` (hinge) and ``y t == 0`` (perceptron) the gradient in y is ``-t``: torch's
    ``clamp_min(z, 0)``, this library's hinges; optax's ``jnp.maximum(0, z)`` gives half of it."""
    jax = need("jax")
    t = np.array([1.0, -1.0, 1.0])
    expected = -t * np.array([1.0, 1.0, float(name == "hinge_loss")])
    ys, ts = jax.numpy.asarray(scores), jax.numpy.asarray(t)
    g = jax.grad(lambda y: getattr(al, name)(y, ts).sum())(ys)
    assert np.array_equal(np.asarray(g), expected)
    g_optax = jax.grad(lambda y: getattr(optax_losses(), name)(y, ts).sum())(ys)
    assert np.array_equal(np.asarray(g_optax)[:2], expected[:2] / 2)  # the difference, documented
    torch = need("torch")
    y = torch.tensor(scores, requires_grad=True)
    getattr(al, name)(y, torch.tensor(t)).sum().backward()
    assert np.array_equal(y.grad.numpy(), expected)


@pytest.mark.parametrize("labels", [np.array([1, 0, 1]), np.array([True, False, True]), np.array([1.0, 0.0, 1.0])])
def test_sparsemax_labels_of_any_type(labels):
    z = np.array([0.3, -0.4, 2.0])
    jnp = need("jax").numpy
    ref = np.asarray(optax_losses().sparsemax_loss(jnp.asarray(z), jnp.asarray(labels)))
    assert_close(al.sparsemax_loss(z, labels), ref)


def test_integer_hinge_targets_are_scores_dtype():
    jnp = need("jax").numpy
    ours = al.hinge_loss(Y.astype(np.float32), T.astype(np.int64))
    ref = optax_losses().hinge_loss(jnp.asarray(Y, dtype=jnp.float32), jnp.asarray(T.astype(np.int64)))
    assert ours.dtype == np.float32
    assert_close(ours, np.asarray(ref), "float32")


def test_half_precision_ntxent_floors_the_norms_at_the_callers_epsilon():
    """optax floors at the embeddings' dtype's eps (float16: 9.8e-4): ours too, though it computes in float32."""
    jnp = need("jax").numpy
    x = np.array([[1e-3, 0.0], [0.0, 1.0], [1e-3, 1e-3]], dtype=np.float16)
    labels = np.array([0, 0, 1])
    ref = optax_losses().ntxent(jnp.asarray(x), jnp.asarray(labels), 0.5)
    assert_close(np.float32(al.ntxent(x, labels, 0.5)), np.float32(ref), "float16")


def test_multiclass_sparsemax_of_a_nan_or_infinite_score_is_nan_on_every_backend():
    """A row without support (optax: NaN) gives NaN, not an indexing error."""
    torch = need("torch")
    scores = np.array([[np.nan, 0.0, 1.0], [np.inf, 0.0, 1.0], [0.5, 0.0, 1.0]])
    labels = np.array([0, 1, 2])
    for out in (al.multiclass_sparsemax_loss(scores, labels),
                al.multiclass_sparsemax_loss(torch.tensor(scores), torch.tensor(labels)).numpy()):
        assert np.isnan(out[0]) and np.isnan(out[1]) and np.isfinite(out[2])


def test_boolean_sparsemax_labels_on_array_api_strict():
    xp = need("array_api_strict")
    z = np.array([0.3, -0.4, 2.0])
    ours = al.sparsemax_loss(xp.asarray(z), xp.asarray([True, False, True]))
    assert_close(np.asarray(ours), al.sparsemax_loss(z, np.array([1, 0, 1])))


def test_cosine_distance_over_all_axes_of_arrays_of_different_dimensions():
    """axis=None: each array's norm over its own axes, as optax's."""
    jnp = need("jax").numpy
    a, b = RNG.standard_normal(3), RNG.standard_normal((2, 3))
    ref = optax_losses().cosine_distance(jnp.asarray(a), jnp.asarray(b), axis=None)
    assert_close(al.cosine_distance(a, b, axis=None), np.asarray(ref))


def test_poly_loss_labels_of_more_rows_than_the_logits():
    jnp = need("jax").numpy
    logits, labels = RNG.standard_normal(3), np.eye(3)
    ref = optax_losses().poly_loss_cross_entropy(jnp.asarray(logits), jnp.asarray(labels))
    assert_close(al.poly_loss_cross_entropy(logits, labels), np.asarray(ref))


def test_errors_name_the_loss_and_the_argument():
    with pytest.raises(ValueError, match=r"perceptron_loss: targets must have the shape of predictor_outputs, "
                                         r"\(4, 3\), got \(3,\)"):
        al.perceptron_loss(Y, T[0])
    with pytest.raises(ValueError, match="hinge_loss: the shapes do not broadcast together"):
        al.hinge_loss(Y, T[:, :2])
    with pytest.raises(TypeError, match="hinge_loss: predictor_outputs must have a real floating dtype, got int64"):
        al.hinge_loss(np.ones(3, np.int64), np.ones(3))
    for name in ("multiclass_hinge_loss", "multiclass_perceptron_loss"):
        with pytest.raises(ValueError, match=rf"{name}: labels must hold class indices in \[0, 5\)"):
            getattr(al, name)(SCORES, np.array([0, 5, 1, 1]))
        with pytest.raises(ValueError, match=rf"{name}: labels must have shape \(4,\) \(scores' shape less the "
                                             r"class axis\), got \(3,\)"):
            getattr(al, name)(SCORES, LABELS[:3])
        with pytest.raises(TypeError, match=rf"{name}: labels must have an integer dtype"):
            getattr(al, name)(SCORES, LABELS * 1.0)
    with pytest.raises(ValueError, match=r"ntxent: labels must have shape \(6,\) \(one label per embedding\), got "
                                         r"\(5,\)"):
        al.ntxent(EMBEDDINGS, GROUPS[:5])
    with pytest.raises(ValueError, match=r"ntxent: embeddings must be \(N, D\), got shape \(6,\)"):
        al.ntxent(EMBEDDINGS[:, 0], GROUPS)
    with pytest.raises(TypeError, match="poly_loss_cross_entropy: where must be a boolean array, got int64"):
        al.poly_loss_cross_entropy(SCORES, np.eye(5)[LABELS], where=np.ones((4, 5), np.int64))
    with pytest.raises(ValueError, match=r"poly_loss_cross_entropy: axis must be an axis of the logits \(2-D\)"):
        al.poly_loss_cross_entropy(SCORES, np.eye(5)[LABELS], axis=(0, 2))
    with pytest.raises(TypeError, match="cosine_distance: where must be a boolean array, got int64"):
        al.cosine_distance(Y, T, where=np.ones((4, 3), np.int64))
    with pytest.raises(ValueError, match=r"cosine_distance: axis must be an axis of the broadcast shape \(4, 3\)"):
        al.cosine_distance(Y, T, axis=2)


def test_cosine_distance_of_a_vector_with_nothing_kept_is_1_with_a_zero_gradient():
    torch = need("torch")
    mask = np.array([[True, False, True], [False, False, False], [True, True, True], [False, True, False]])
    y = torch.tensor(Y, requires_grad=True)
    out = al.cosine_distance(y, torch.tensor(T), where=torch.tensor(mask))
    (g,) = torch.autograd.grad(out.sum(), y)
    assert float(out[1]) == 1.0 and torch.all(g[1] == 0) and torch.isfinite(g).all()
    jnp = need("jax").numpy
    ref = optax_losses().cosine_distance(jnp.asarray(Y), jnp.asarray(T), where=jnp.asarray(mask))
    assert_close(out.detach().numpy(), np.asarray(ref))


@pytest.mark.parametrize("name", NAMES)
def test_transforms_give_the_eager_values(name):
    args = _arguments(name)
    eager = getattr(al, name)(*args)
    if installed("jax"):
        jax = need("jax")
        jax.config.update("jax_enable_x64", True)
        jargs = tuple(jax.numpy.asarray(a) for a in args)
        assert_close(np.asarray(jax.jit(getattr(al, name))(*jargs)), eager, what="jit")
        if name != "ntxent":  # one loss of the whole batch
            assert_close(np.asarray(jax.vmap(getattr(al, name))(*jargs)), eager, what="vmap")
    torch = need("torch")
    torch._dynamo.reset()  # a compilation of its own: our losses share their wrapper's code object
    compiled = torch.compile(getattr(al, name), fullgraph=True, backend="aot_eager")
    assert_close(compiled(*(torch.tensor(a) for a in args)).numpy(), eager, what="torch.compile")


def test_multiclass_sparsemax_gradient_is_the_projection_less_the_one_hot():
    """A Fenchel-Young loss: its gradient is sparsemax(s) - onehot(y), sparse where the projection is."""
    torch = need("torch")
    s = torch.tensor(SCORES * 2, requires_grad=True)
    (g,) = torch.autograd.grad(al.multiclass_sparsemax_loss(s, torch.tensor(LABELS)).sum(), s)
    jnp = need("jax").numpy
    p = np.asarray(need("optax").projections.projection_simplex(jnp.asarray(SCORES[0] * 2)))
    expected = p - np.eye(5)[LABELS[0]]
    assert_close(g[0].numpy(), expected)
    assert np.sum(p == 0) > 0  # sparse: the case tests what it should


def test_poly_loss_of_a_vector_with_nothing_kept_is_0_with_a_zero_gradient():
    """optax's value (0); its gradient there is NaN, ours 0."""
    torch = need("torch")
    mask = np.ones((4, 5), bool)
    mask[2] = False
    mask[0, 3] = False
    x = torch.tensor(SCORES, requires_grad=True)
    out = al.poly_loss_cross_entropy(x, torch.tensor(np.eye(5)[LABELS]), where=torch.tensor(mask))
    (g,) = torch.autograd.grad(out.sum(), x)
    assert float(out[2]) == 0.0 and torch.all(g[2] == 0) and torch.isfinite(g).all() and g[0, 3] == 0
    jnp = need("jax").numpy
    ref = optax_losses().poly_loss_cross_entropy(jnp.asarray(SCORES), jnp.asarray(np.eye(5)[LABELS]),
                                                 where=jnp.asarray(mask))
    assert_close(out.detach().numpy(), np.asarray(ref))
