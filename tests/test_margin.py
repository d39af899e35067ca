"""The margin, ranking and embedding losses and pairwise_distance: contract, kinks, errors; against torch.nn."""

from __future__ import annotations

import inspect
import math
import re

import numpy as np
import pytest

import agnostic_losses as al

from helpers import assert_close, assert_compiled_gradients_are_eager, installed, need, torch_reference

torch = need("torch")
F = torch.nn.functional

LOSSES = ("margin_ranking_loss", "hinge_embedding_loss", "multi_margin_loss", "multilabel_margin_loss",
          "cosine_embedding_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss")
RNG = np.random.default_rng(5)
A, B, N = RNG.standard_normal((3, 4, 6))
SIGNS = np.array([1.0, -1.0, -1.0, 1.0])
MULTILABEL_TARGETS = np.array([[0, 3, -1, 0, 0, 0], [5, -1, 1, 1, 1, 1], [1, 2, 3, 4, 5, 0], [-1, 2, 2, 2, 2, 2]])


@pytest.mark.parametrize("name", LOSSES)
def test_signature_is_torchs(name):
    ours, theirs = inspect.signature(getattr(al, name)), inspect.signature(getattr(F, name))
    assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == \
           [(p.name, p.kind, p.default) for p in theirs.parameters.values()]


def test_pairwise_distance_signature_is_torchs():
    # F.pairwise_distance is a builtin without a signature; torch documents (x1, x2, p=2.0, eps=1e-6, keepdim=False)
    params = inspect.signature(al.pairwise_distance).parameters
    assert [(p.name, p.default) for p in params.values()] == \
           [("x1", inspect.Parameter.empty), ("x2", inspect.Parameter.empty), ("p", 2.0), ("eps", 1e-6),
            ("keepdim", False)]
    assert_close(al.pairwise_distance(A, B, p=3.0, keepdim=True),
                 F.pairwise_distance(torch.tensor(A), torch.tensor(B), p=3.0, keepdim=True).numpy())


# d loss_sum / d input at the hinge point z == 0: torch's clamp_min passes the gradient, its
# multi-margin kernels (z > 0) do not.
KINKS = {
    "margin_ranking_loss": (dict(input1=np.array([1.0, 2.0]), input2=np.array([1.0, 2.0]),
                                 target=np.array([1.0, -1.0])), {"margin": 0.0}, "input1", [-1.0, 1.0]),
    "margin_ranking_loss_margin": (dict(input1=np.array([1.5, 2.0]), input2=np.array([1.0, 2.5]),
                                        target=np.array([1.0, -1.0])), {"margin": 0.5}, "input1", [-1.0, 1.0]),
    "hinge_embedding_loss": (dict(input=np.array([1.0, 0.5, 2.0]), target=np.array([-1.0, -1.0, 1.0])),
                             {"margin": 1.0}, "input", [-1.0, -1.0, 1.0]),
    "multi_margin_loss": (dict(input=np.array([[0.0, 1.0, 0.5]]), target=np.array([1])), {}, "input",
                          [[0.0, -1 / 3, 1 / 3]]),  # z = 0 for class 0: no gradient there
    "multilabel_margin_loss": (dict(input=np.array([[2.0, 1.0, 1.5]]), target=np.array([[0, -1, 0]])), {},
                               "input", [[-1 / 3, 0.0, 1 / 3]]),  # z = 0 for class 1: no gradient there
}


@pytest.mark.parametrize("case", KINKS)
@pytest.mark.parametrize("generic", [False, True], ids=["native", "generic"])
def test_hinge_gradients_at_zero_are_torchs(ad_backend, case, generic):
    arrays, options, wrt, expected = KINKS[case]
    name = case.replace("_margin", "") if case.endswith("_margin") and case.startswith("margin_ranking") else case
    options = dict(options, reduction="sum")
    _, ref, _ = torch_reference(getattr(F, name), arrays, options, grads=(wrt,))
    np.testing.assert_allclose(ref[wrt], expected, atol=1e-15)
    with al.generic_primitives(generic):
        variants = ad_backend.evaluate(getattr(al, name), arrays, options, "float64", (wrt,), np.ones(()))
    for variant, (_, g, _) in variants.items():
        np.testing.assert_allclose(g[wrt], expected, atol=1e-15, err_msg=variant)


def test_identical_and_zero_vectors_give_torchs_finite_gradients():
    jax = need("jax")
    jnp = jax.numpy
    zero = np.zeros((2, 3))
    for name, arrays in (("cosine_embedding_loss", (zero, zero, np.array([1.0, -1.0]))),
                         ("triplet_margin_loss", (zero, zero, zero)),
                         ("pairwise_distance", (A, A))):
        kwargs = {"eps": 0.0} if name == "pairwise_distance" else {}
        g_ours = jax.grad(lambda a: jnp.sum(getattr(al, name)(a, *map(jnp.asarray, arrays[1:]), **kwargs)))(
            jnp.asarray(arrays[0]))
        a = torch.tensor(arrays[0], requires_grad=True)
        (g_ref,) = torch.autograd.grad(getattr(F, name)(a, *map(torch.tensor, arrays[1:]), **kwargs).sum(), a)
        assert np.isfinite(np.asarray(g_ours)).all()
        assert_close(np.asarray(g_ours), g_ref.numpy(), what=name)


def test_a_zero_vectors_gradient_uses_torchs_float32_epsilon(ad_backend):
    """At ``x1 = 0`` the gradient of cos is ``x2 / sqrt(eps (|x2|^2 + eps))``: torch's eps is 1e-12 rounded to a
    float32, which gives 1.000000002e6 in float64 where 1e-12 itself is 2e-9 off (found by the fuzz)."""
    arrays = {"input1": np.zeros((2, 3)), "input2": np.array([[1.0, 0.0, 0.0], [0.0, 0.6, 0.8]]),
              "target": np.array([-1.0, 1.0])}
    cot = np.array([1.0, -2.0])
    options = {"reduction": "none", "margin": 0.0}
    ref, ref_grads, _ = torch_reference(F.cosine_embedding_loss, arrays, options, ("input1",), cot)
    assert abs(ref_grads["input1"][0, 0] - 1.000000002e6) < 1e-3
    for variant, (value, grads, _) in ad_backend.evaluate(al.cosine_embedding_loss, arrays, options, "float64",
                                                          ("input1",), cot).items():
        assert_close(value, ref, what=variant)
        assert_close(grads["input1"], ref_grads["input1"], what=f"{variant}: d/dinput1")


def test_multilabel_margin_runs_under_jit_without_data_dependent_shapes():
    jax = need("jax")
    jnp = jax.numpy
    target = np.array([[0, 3, -1, 0, 0, 0], [5, -1, 1, 1, 1, 1], [1, 2, 3, 4, 5, 0], [-1, 2, 2, 2, 2, 2]])
    f = jax.jit(jax.value_and_grad(lambda x, t: al.multilabel_margin_loss(x, t)))
    value, grad = f(jnp.asarray(A), jnp.asarray(target))
    ref, ref_grads, _ = torch_reference(F.multilabel_margin_loss, {"input": A, "target": target}, grads=("input",))
    assert_close(value, ref)
    assert_close(grad, ref_grads["input"])


@pytest.mark.parametrize("chunk", [None, 60], ids=["one_chunk", "chunks_of_5_rows"])
@pytest.mark.parametrize("generic", [False, True], ids=["native", "generic"])
def test_multilabel_margin_sorted_formula_is_torchs_kernel_at_every_tie(ad_backend, generic, chunk, monkeypatch):
    """The sort-based formula against torch's O(C K) kernel where it could part from it: ties between a
    class and a slot's key (z = 0, also with -0.0), ties among classes and among slots, infinities
    (inf - inf hinges count nowhere), NaN, duplicate targets, rows listing every class or none; in one
    chunk of rows and in chunks of 5 and a remainder of 4 (24 rows, 6 classes, 6 slots), recomputed in the
    backward pass."""
    from agnostic_losses import margin

    if chunk is not None:
        monkeypatch.setattr(margin, "HINGES_PER_CHUNK", chunk)
        monkeypatch.setattr(margin, "HINGES_PER_CHUNK_ELSEWHERE", chunk)  # JAX's chunks too
    from conformance.catalogue import label_lists

    rng = np.random.default_rng(11)
    grid = np.array([-np.inf, -2.0, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 1.5, 2.0, np.inf, np.nan])
    x = rng.choice(grid, (24, 6), p=[0.04] + [0.9 / 10] * 10 + [0.06])
    t = label_lists(rng, x.shape)
    t[0], t[1], t[2] = [0, 1, 2, 3, 4, 5], [-1, 0, 1, 2, 3, 4], [3, 3, 3, 3, 3, 3]
    for reduction in ("none", "sum"):
        arrays, options = {"input": x, "target": t}, {"reduction": reduction}
        ref, ref_grads, cot = torch_reference(F.multilabel_margin_loss, arrays, options, grads=("input",))
        with al.generic_primitives(generic):
            variants = ad_backend.evaluate(al.multilabel_margin_loss, arrays, options, "float64", ("input",), cot)
        for variant, (value, g, _) in variants.items():
            assert_close(value, ref, "float64", f"{reduction} {variant} value")
            assert_close(g["input"], ref_grads["input"], "float64", f"{reduction} {variant} gradient")


def test_multilabel_margin_chunk_size_by_where_it_runs(monkeypatch):
    """The CPU's small chunks (HINGES_PER_CHUNK) for torch CPU eager, NumPy, Dask and the generic primitives
    (whose one-hot gather is K times a chunk), the large ones (HINGES_PER_CHUNK_ELSEWHERE) for JAX, jax.jit,
    torch.func and forward mode: with 1 and 10**9 hinges, the rows per chunk P.chunked is given are 1 and
    all of them."""
    from agnostic_losses import _primitives as P, generic_primitives, margin

    sizes, chunked = [], P.chunked
    monkeypatch.setattr(P, "chunked", lambda f, arrays, size, *a, **k: sizes.append(size) or chunked(f, arrays, size,
                                                                                                       *a, **k))
    monkeypatch.setattr(margin, "HINGES_PER_CHUNK", 1)
    monkeypatch.setattr(margin, "HINGES_PER_CHUNK_ELSEWHERE", 10 ** 9)
    x, t = A[:4], np.array([[0, 3, -1, 0, 0, 0], [5, -1, 1, 1, 1, 1], [1, 2, 3, 4, 5, 0], [-1, 2, 2, 2, 2, 2]])

    def size_of(call):
        sizes.clear()
        call()
        return sizes[-1]

    xt, tt = torch.asarray(x), torch.asarray(t)
    small = {"numpy": lambda: al.multilabel_margin_loss(x, t), "torch": lambda: al.multilabel_margin_loss(xt, tt),
             "torch autograd": lambda: al.multilabel_margin_loss(xt.clone().requires_grad_(), tt).backward()}
    large = {"torch.func": lambda: torch.func.grad(lambda a: al.multilabel_margin_loss(a, tt))(xt)}

    def forward_mode():
        import torch.autograd.forward_ad as fwAD

        with fwAD.dual_level():
            al.multilabel_margin_loss(fwAD.make_dual(xt, torch.ones_like(xt)), tt)

    large["torch forward mode"] = forward_mode
    with generic_primitives(True):
        assert size_of(lambda: al.multilabel_margin_loss(x, t)) == 1, "generic numpy"
    if installed("dask"):
        import dask.array as da

        small["dask"] = lambda: al.multilabel_margin_loss(da.from_array(x), da.from_array(t)).compute()
    if installed("jax"):
        import jax

        jx, jt = jax.numpy.asarray(x), jax.numpy.asarray(t)
        large["jax"] = lambda: al.multilabel_margin_loss(jx, jt)
        large["jax.jit"] = lambda: jax.jit(jax.grad(al.multilabel_margin_loss))(jx, jt)
    for name, call in small.items():
        assert size_of(call) == 1, name
    for name, call in large.items():
        assert size_of(call) > x.shape[0], name


@pytest.mark.parametrize("library", ["torch", "numpy"])
@pytest.mark.parametrize("rows", ["offset", "outlier"])
def test_multilabel_margin_float32_running_sums_do_not_cancel(library, rows):
    """The sorted formula's running sums, where they cancel in float32: logits 1000 +- 0.01 (hinges about 1,
    values 1000; the sums less the row's largest value), and one logit at 1000 above a row at -0.999 (the
    sums in float64).  torch's float32 kernel is 6e-8 and 3e-8 off here; float32 running sums were 2e-5 and
    1e-4 (NumPy 6e-3).  JAX without x64 has no float64: docs/speed-notes.md."""
    rng = np.random.default_rng(1)
    if rows == "offset":
        x = rng.standard_normal((4, 4096)) * 0.01 + 1000
    else:
        x = -0.999 + rng.uniform(0, 1e-3, (4, 4096))
        x[:, 1] = 1000
    x = x.astype(np.float32)
    t = np.full(x.shape, -1)
    for row in t:
        row[:2048] = rng.permutation(4096)[:2048]
    if rows == "outlier":
        t[:, 0], t[:, 1:] = 0, -1
    ref = F.multilabel_margin_loss(torch.tensor(x, dtype=torch.float64), torch.tensor(t), reduction="none")
    args = (torch.tensor(x), torch.tensor(t)) if library == "torch" else (x, t)
    ours = np.asarray(al.multilabel_margin_loss(*args, reduction="none"), dtype=np.float64)
    np.testing.assert_allclose(ours, ref.numpy(), rtol=1e-6)


def test_multilabel_margin_of_an_empty_batch_on_dask():
    """From a review: Dask's max of an empty array raises; the row shift must not take one."""
    da = need("dask.array")
    x, t = da.from_array(np.zeros((0, 5))), da.from_array(np.zeros((0, 5), np.int64))
    assert float(al.multilabel_margin_loss(x, t, reduction="sum").compute()) == 0.0
    assert al.multilabel_margin_loss(x, t, reduction="none").compute().shape == (0,)


@pytest.mark.parametrize("name,arrays", [
    ("multi_margin_loss", (np.zeros((0, 5)), np.zeros(0, np.int64))),
    ("multilabel_margin_loss", (np.zeros((0, 5)), np.zeros((0, 5), np.int64))),
])
def test_empty_batch_mean_is_nan_and_sum_is_zero(name, arrays):
    """torch returns uninitialised memory for these two (no conformance case); ours is its other losses' NaN."""
    assert np.isnan(getattr(al, name)(*arrays))
    assert getattr(al, name)(*arrays, reduction="sum") == 0


# aten's multi_margin_loss_shape_check and multilabel_margin_loss_shape_check (torch 2.13): input (), (C,) or
# (N, C) with C >= 1; a 0-d input is one sample of one class.  (input shape, target shape), as torch takes them.
MULTI_MARGIN_SHAPES = [((), ()), ((), (1,)), ((1,), ()), ((1,), (1,)), ((5,), ()), ((5,), (1,)), ((1, 5), ()),
                       ((1, 5), (1,)), ((3, 5), (3,)), ((0, 5), (0,))]
MULTILABEL_SHAPES = [((), ()), ((), (1,)), ((1,), ()), ((1,), (1,)), ((5,), (5,)), ((1, 5), (1, 5)),
                     ((3, 5), (3, 5)), ((0, 5), (0, 5))]


def _margin_arrays(name, input_shape, target_shape, weighted):
    from conformance.catalogue import label_lists

    rng = np.random.default_rng(7)
    n = input_shape[-1] if input_shape else 1
    arrays = {"input": rng.standard_normal(input_shape)}
    if name == "multi_margin_loss":
        arrays["target"] = rng.integers(0, n, target_shape)
    else:
        arrays["target"] = label_lists(rng, (math.prod(target_shape) // n, n)).reshape(target_shape)
    if weighted:
        arrays["weight"] = rng.uniform(0.5, 2.0, n)
    return arrays


@pytest.mark.parametrize("name,shapes,weighted", [
    *(("multi_margin_loss", shapes, weighted) for shapes in MULTI_MARGIN_SHAPES for weighted in (False, True)),
    *(("multilabel_margin_loss", shapes, False) for shapes in MULTILABEL_SHAPES)], ids=str)
def test_margin_class_losses_take_torchs_shapes(backend, name, shapes, weighted):
    """From issue 25: every input/target shape torch's shape check accepts (a 0-d input and a (1,) target for
    one sample among them), with torch's output shape, value and gradient (0 for one class)."""
    arrays = _margin_arrays(name, *shapes, weighted)
    grads = ("input",) if backend.differentiates else ()
    for reduction in ("none", "mean", "sum"):
        if shapes[0][:1] == (0,) and reduction != "none":
            continue  # torch's mean and sum of an empty batch are uninitialised memory (see below)
        for options in ([{"p": 1}, {"p": 2, "margin": 0.5}] if name == "multi_margin_loss" else [{}]):
            options = {**options, "reduction": reduction}
            ref, ref_grads, cot = torch_reference(getattr(F, name), arrays, options, grads=("input",))
            variants = backend.evaluate(getattr(al, name), arrays, options, "float64", grads, cot)
            for variant, (value, g, _) in variants.items():
                what = f"{options} {variant}"
                assert value.shape == ref.shape, what
                assert_close(value, ref, what=f"{what} value")
                for k in g:
                    assert_close(g[k], ref_grads[k], what=f"{what} d/d{k}")


# (input shape, target shape, weight shape, the argument named) that torch refuses
MARGIN_SHAPE_ERRORS = {
    "multi_margin_loss": [((0,), (), None, "input"), ((2, 0), (2,), None, "input"), ((0, 0), (0,), None, "input"),
                          ((1, 1, 3), (1,), None, "input"), ((3,), (2,), None, "target"),
                          ((3,), (0,), None, "target"), ((3,), (1, 1), None, "target"), ((), (2,), None, "target"),
                          ((2, 3), (), None, "target"), ((2, 3), (1,), None, "target"),
                          ((1, 3), (1, 1), None, "target"), ((0, 3), (), None, "target"),
                          ((3,), (), (1,), "weight"), ((), (), (), "weight"), ((1,), (), (), "weight"),
                          ((2, 3), (2,), (1, 3), "weight")],
    "multilabel_margin_loss": [((0,), (0,), None, "input"), ((2, 0), (2, 0), None, "input"),
                               ((1, 1, 3), (1, 1, 3), None, "input"), ((3,), (), None, "target"),
                               ((3,), (1,), None, "target"), ((3,), (1, 3), None, "target"),
                               ((1, 3), (3,), None, "target"), ((2, 3), (2,), None, "target"),
                               ((0, 3), (0,), None, "target"), ((), (2,), None, "target"),
                               ((1,), (1, 1), None, "target")],
}


@pytest.mark.parametrize("name,case", [(name, case) for name, cases in MARGIN_SHAPE_ERRORS.items()
                                       for case in cases], ids=str)
def test_margin_class_losses_refuse_the_shapes_torch_refuses(name, case):
    input_shape, target_shape, weight_shape, argument = case
    arrays = {"input": np.zeros(input_shape), "target": np.zeros(target_shape, np.int64)}
    if weight_shape is not None:
        arrays["weight"] = np.ones(weight_shape)
    with pytest.raises((RuntimeError, ValueError)):
        getattr(F, name)(**{k: torch.tensor(v) for k, v in arrays.items()})
    got = re.escape(str({"input": input_shape, "target": target_shape, "weight": weight_shape}[argument]))
    with pytest.raises(ValueError, match=rf"^{name}: {argument} must have shape .*, got {got}$"):
        getattr(al, name)(**arrays)


def test_nan_and_broadcast_and_narrow_targets_as_torch():
    """From a review: NaN through the clamp_min hinges and norms, broadcast batches, uint8 class indices."""
    t = torch.tensor
    x1, x2, y = np.array([np.nan, 1.0, 0.5]), np.array([0.2, 0.3, 0.1]), np.array([1.0, -1.0, 1.0])
    assert_close(al.margin_ranking_loss(x1, x2, y, reduction="none"),
                 F.margin_ranking_loss(t(x1), t(x2), t(y), reduction="none").numpy())
    assert_close(al.hinge_embedding_loss(x1, -y, reduction="none"),
                 F.hinge_embedding_loss(t(x1), t(-y), reduction="none").numpy())
    bad = np.array([[np.nan, 1.0, 2.0], [np.inf, 1.0, 2.0]])
    for p in (2.0, 3.0):
        assert_close(al.pairwise_distance(bad, np.zeros(3), p=p),
                     F.pairwise_distance(t(bad), t(np.zeros(3)), p=p).numpy(), what=str(p))
    one = A[:1]
    assert_close(al.triplet_margin_with_distance_loss(one, B, N), F.triplet_margin_with_distance_loss(t(one), t(B), t(N)).numpy())
    assert_close(al.cosine_embedding_loss(A, one, np.ones(1)), F.cosine_embedding_loss(t(A), t(one), t(np.ones(1))).numpy())
    labels = np.array([0, 5, 2, 1], dtype=np.uint8)
    assert_close(al.cross_entropy(t(A), t(labels)).numpy(), F.cross_entropy(t(A), t(labels)).numpy())
    assert_close(al.multi_margin_loss(t(A), t(labels)).numpy(), F.multi_margin_loss(t(A), t(labels.astype(np.int64))).numpy())


def test_distance_function_receives_the_callers_arrays():
    seen = []

    def distance(x, y):
        seen.append(type(x))
        return torch.sum((x - y) ** 2, dim=-1)  # a torch-only function works on torch tensors

    ours = al.triplet_margin_with_distance_loss(*map(torch.tensor, (A, B, N)), distance_function=distance, swap=True)
    theirs = F.triplet_margin_with_distance_loss(*map(torch.tensor, (A, B, N)), distance_function=distance, swap=True)
    assert set(seen) == {torch.Tensor}
    assert_close(ours.numpy(), theirs.numpy())


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match=r"multi_margin_loss: p must be 1 or 2, got 3"):
        al.multi_margin_loss(A, np.zeros(4, np.int64), p=3)
    with pytest.raises(TypeError, match=r"multi_margin_loss: target must have an integer dtype"):
        al.multi_margin_loss(A, np.zeros(4))
    with pytest.raises(ValueError, match=r"multi_margin_loss: target must have shape \(4,\)"):
        al.multi_margin_loss(A, np.zeros((4, 1), np.int64))
    with pytest.raises(ValueError, match=r"multi_margin_loss: target must hold class indices in \[0, 6\), got 6"):
        al.multi_margin_loss(A, np.array([0, 6, 1, 1]))
    with pytest.raises(ValueError, match=r"multi_margin_loss: weight must have shape \(6,\)"):
        al.multi_margin_loss(A, np.zeros(4, np.int64), weight=np.ones(5))
    with pytest.raises(ValueError, match=r"multilabel_margin_loss: target must have shape \(4, 6\)"):
        al.multilabel_margin_loss(A, np.zeros((4, 5), np.int64))
    with pytest.raises(ValueError, match=r"multilabel_margin_loss: target must hold class indices in \[0, 6\) or -1 \(the end\), got 6"):
        al.multilabel_margin_loss(A, np.full((4, 6), 6))
    with pytest.raises(ValueError, match=r"multilabel_margin_loss: target must hold .* got -2"):
        al.multilabel_margin_loss(A, np.full((4, 6), -2))
    with pytest.raises(ValueError, match=r"cosine_embedding_loss: the shapes do not broadcast together: "
                                         r"input1 of shape \(4, 6\), input2 of shape \(4, 5\)"):
        al.cosine_embedding_loss(A, B[:, :5], SIGNS)
    with pytest.raises(ValueError, match=r"cosine_embedding_loss: the shapes do not broadcast together: "
                                         r"pairs of shape \(4,\), target of shape \(3,\)"):
        al.cosine_embedding_loss(A, B, SIGNS[:3])
    with pytest.raises(ValueError, match=r"cosine_embedding_loss: input1 and input2 must be \(D,\) with a 0-d target"):
        al.cosine_embedding_loss(A, B, SIGNS[None])
    with pytest.raises(ValueError, match=r"triplet_margin_loss: the shapes do not broadcast together: "
                                         r"anchor of shape \(4, 6\), positive of shape \(4, 5\)"):
        al.triplet_margin_loss(A, B[:, :5], N)
    with pytest.raises(ValueError, match=r"margin_ranking_loss: the shapes do not broadcast together"):
        al.margin_ranking_loss(A, B[:, :5], A)
    with pytest.raises(ValueError, match=r"margin_ranking_loss: input1, input2 and target must have the same number"):
        al.margin_ranking_loss(A, B, SIGNS)
    for fn in (al.triplet_margin_loss, al.triplet_margin_with_distance_loss):
        with pytest.raises(ValueError, match=rf"{fn.__name__}: margin must be > 0, got 0"):
            fn(A, B, N, margin=0.0)
        with pytest.raises(ValueError, match=rf"{fn.__name__}: anchor, positive and negative must have the same number"):
            fn(A, B, N[0])
    with pytest.raises(ValueError, match=r"triplet_margin_with_distance_loss: distance_function must return one "
                                         r"distance per triplet, an array of shape \(4,\), got \(4, 1\)"):
        al.triplet_margin_with_distance_loss(A, B, N, distance_function=lambda x, y: np.sum(x - y, axis=-1,
                                                                                              keepdims=True))
    with pytest.raises(ValueError, match=r"pairwise_distance: p must be a finite number > 0 .*, got 0"):
        al.pairwise_distance(A, B, p=0)
    with pytest.raises(ValueError, match=r"triplet_margin_loss: p must be a finite number > 0 .*, got inf"):
        al.triplet_margin_loss(A, B, N, p=float("inf"))
    with pytest.raises(TypeError, match=r"triplet_margin_loss: all arrays must come from one array library"):
        al.triplet_margin_loss(torch.tensor(A), B, N)


def test_compiles_without_graph_breaks_under_torch_compile():
    x = torch.tensor(A, requires_grad=True)
    calls = {
        "multi_margin_loss": lambda x: al.multi_margin_loss(x, torch.tensor([0, 5, 2, 1]), p=2),
        "multilabel_margin_loss": lambda x: al.multilabel_margin_loss(x, torch.tensor(MULTILABEL_TARGETS)),
        "cosine_embedding_loss": lambda x: al.cosine_embedding_loss(x, torch.tensor(B), torch.tensor(SIGNS)),
        "triplet_margin_loss": lambda x: al.triplet_margin_loss(x, torch.tensor(B), torch.tensor(N), swap=True),
    }
    assert_compiled_gradients_are_eager(calls, x)
