"""The primitives against torch's own functions, native and forced-generic, values and gradients."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import agnostic_losses._primitives as P
from agnostic_losses import generic_primitives

from helpers import assert_close, installed, need, torch_reference

torch = need("torch")

RNG = np.random.default_rng(7)
X = RNG.uniform(-15, 15, (3, 5))  # softplus: torch's threshold (20) is not reached
Y = RNG.uniform(0.1, 3.0, (3, 5))
EXTREME = np.array([[1e4, 1e4, -1e4], [-1e4, 0.0, 1e4], [-np.inf, -np.inf, -np.inf]])

# name: (ours, torch's, arrays)
PRIMITIVES = {
    "logsumexp": (lambda x: P.logsumexp(x, axis=1), lambda x: torch.logsumexp(x, 1), {"x": X}),
    "logsumexp_keepdims": (lambda x: P.logsumexp(x, axis=0, keepdims=True),
                           lambda x: torch.logsumexp(x, 0, keepdim=True), {"x": X}),
    "log_softmax": (lambda x: P.log_softmax(x, axis=1), lambda x: torch.log_softmax(x, 1), {"x": X}),
    "softplus": (P.softplus, torch.nn.functional.softplus, {"x": X}),
    "log_sigmoid": (P.log_sigmoid, torch.nn.functional.logsigmoid, {"x": X}),
    "sigmoid": (P.sigmoid, torch.sigmoid, {"x": X}),  # generic: differentiable by autograd (exp's output kept)
    # torch.where's gradient: 1, and 0 where x == 0
    "one_where_zero": (P.one_where_zero, lambda x: torch.where(x == 0, 1.0, x),
                       {"x": np.array([0.0, -0.0, 2.5, -3.0, np.inf, -np.inf, 1e-30, np.nan])}),
    "abs": (P.abs, lambda x: torch.abs(x), {"x": np.array([-2.0, 0.0, 0.0, 3.5, -0.0])}),
    "softplus_at_0": (P.softplus, torch.nn.functional.softplus, {"x": np.array([0.0, -0.0])}),
    "cumulative_sum": (P.cumulative_sum, lambda x: torch.cumsum(x, 0), {"x": X[0]}),
    "cumulative_sum_rows": (lambda x: P.cumulative_sum(x, axis=-1), lambda x: torch.cumsum(x, 1), {"x": X}),
    "cumulative_sum_columns": (lambda x: P.cumulative_sum(x, axis=0), lambda x: torch.cumsum(x, 0), {"x": X}),
    # torch's own clamp on a floating tensor (ctc_loss clips three times a step), array-api-compat's elsewhere
    "clip": (lambda x: P.clip(x, min=-1.5, max=2), lambda x: torch.clamp(x, -1.5, 2), {"x": X / 4}),
    "clip_below": (lambda x: P.clip(x, min=-80.0), lambda x: torch.clamp(x, min=-80.0),
                   {"x": np.array([-np.inf, -100.0, -80.5, 3.0, np.inf])}),
    # torch.lerp: exactly a at w = 0 and b at w = 1 (two-sided form), NaN at an infinite end, broadcasting
    "lerp": (P.lerp, lambda a, b, w: torch.lerp(a, b, w), {"a": np.array([0.25, -3.0, 1.0, 2.0, np.inf, 0.0, 1e-20]),
                                  "b": np.array([-0.75, 5.0, -1e-20, 2.0, 1.0, -np.inf, 1.0]),
                                  "w": np.array([0.3, 0.7, 1.0, 0.5, 0.0, 1.0, 0.0])}),
    "lerp_broadcast": (P.lerp, lambda a, b, w: torch.lerp(a, b, w), {"a": X, "b": Y[0], "w": (X[:, :1] + 15) / 30}),
    # ties: each value's gradient goes to the element the stable sort took it from
    # torch.special.erf; generic: Cephes' rational approximations, each of its three ranges and the far tails
    "erf": (P.erf, torch.special.erf, {"x": np.array([-40.0, -7.5, -2.0, -1.0, -0.3, 0.0, 1e-20, 0.7, 1.0, 1.5, 3.0,
                                                      8.0, 9.5, 30.0, np.inf, -np.inf, np.nan])}),
    "sort": (lambda x: P.sort(x, axis=-1)[0], lambda x: torch.sort(x, dim=1, stable=True)[0], {"x": np.round(X / 8)}),
    "sort_columns": (lambda x: P.sort(x, axis=0)[0], lambda x: torch.sort(x, dim=0, stable=True)[0],
                     {"x": np.round(X / 8)}),
    "sort_descending": (lambda x: P.sort(x, axis=-1, descending=True)[0],
                        lambda x: torch.sort(x, dim=1, descending=True, stable=True)[0], {"x": np.round(X / 8)}),
}


@pytest.fixture(params=[False, True], ids=["native", "generic"])
def generic(request):
    with generic_primitives(request.param):
        yield request.param


@pytest.mark.parametrize("name", PRIMITIVES)
def test_primitive_matches_torch(name, backend, generic):
    ours, theirs, arrays = PRIMITIVES[name]
    grads = tuple(arrays)
    ref, ref_grads, cot = torch_reference(theirs, arrays, grads=grads)
    for dtype in ("float64", "float32"):
        variants = backend.evaluate(ours, arrays, {}, dtype, grads if backend.differentiates else (), cot)
        for variant, (value, g, out_dtype) in variants.items():
            assert out_dtype == dtype
            assert_close(value, ref, dtype, f"{name} {variant} value")
            for k in g:
                assert_close(g[k], ref_grads[k], dtype, f"{name} {variant} d/d{k}")


@pytest.mark.parametrize("name", ["logsumexp", "log_softmax", "softplus", "log_sigmoid"])
def test_extreme_inputs_stay_finite_where_torch_is(name, backend, generic):
    ours, theirs, _ = PRIMITIVES[name]
    arrays = {"x": EXTREME[:2]} if name in ("softplus", "log_sigmoid") else {"x": EXTREME}
    grads = ("x",) if backend.differentiates else ()
    ref, ref_grads, cot = torch_reference(theirs, arrays, grads=grads)
    variants = backend.evaluate(ours, arrays, {}, "float32", grads, cot)
    for variant, (value, g, _) in variants.items():
        assert_close(value, ref, "float32", f"{name} {variant} value")
        for k in g:
            assert_close(g[k], ref_grads[k], "float32", f"{name} {variant} gradient")


def test_erf_in_half_precision_is_computed_in_float32(backend, generic):
    if "float16" not in backend.dtypes:
        pytest.skip(f"{backend.name} has no float16")
    x = np.array([-10.0, -4.0, -1.0, 0.5, 1.5, 3.0, 5.0, 10.0])
    out = P.erf(backend.asarray(x, "float16"))
    assert str(out.dtype).endswith("float16")
    assert_close(backend.to_numpy(out), torch.special.erf(torch.tensor(x, dtype=torch.float16)).double().numpy(),
                 "float16")


def test_abs_and_softplus_gradients_at_zero_are_torchs(ad_backend, generic):
    """|x|'(0) = 0 and softplus'(0) = 1/2 on every backend, JAX included (jnp.abs gives 1)."""
    backend = ad_backend
    zero = {"x": np.zeros(3)}
    for fn, expected in ((P.abs, 0.0), (P.softplus, 0.5)):
        for variant, (_, g, _) in backend.evaluate(fn, zero, {}, "float64", ("x",), np.ones(3)).items():
            np.testing.assert_array_equal(g["x"], np.full(3, expected), err_msg=variant)


def test_elementwise_gradients_are_its_derivatives(ad_backend):
    """value ``sin(x) w`` (updated in place); gradients the derivatives given, ``cos(x) w`` for x and
    ``sin(x)`` for w, summed over w's broadcast axis; and what stop_gradient stops gets none."""
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -3.0]])
    w = np.array([3.0, 1.0, -2.0])

    def fn(x, w):
        xp = P.array_namespace(x)

        def value(x, w):
            out = xp.sin(x)
            out *= w
            return out

        def derivatives(wanted, x, w):
            return (xp.cos(x) * w if wanted[0] else None), (xp.sin(x) if wanted[1] else None)

        return P.elementwise(value, derivatives, x, w) + P.stop_gradient(x)

    for variant, (value, g, _) in ad_backend.evaluate(fn, {"x": x, "w": w}, {}, "float64", ("x", "w"),
                                                      np.ones((2, 3))).items():
        assert_close(value, np.sin(x) * w + x, "float64", variant)
        assert_close(g["x"], np.cos(x) * w, "float64", variant)
        assert_close(g["w"], np.sin(x).sum(axis=0), "float64", variant)


def test_one_derivative_array_may_serve_two_inputs(ad_backend):
    """``derivatives`` giving the same array for both inputs (as the multi-label hinge's): each gradient is
    that array times the upstream gradient, once (the product taken in place for one must not reach the other)."""
    x, y = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -3.0]]), np.array([[1.0], [-2.0]])

    def fn(x, y):
        xp = P.array_namespace(x)

        def derivatives(wanted, x, y):
            g = xp.cos(x + y)
            return g, g

        return P.elementwise(lambda x, y: xp.sin(x + y), derivatives, x, y)

    cot = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    for variant, (value, g, _) in ad_backend.evaluate(fn, {"x": x, "y": y}, {}, "float64", ("x", "y"), cot).items():
        assert_close(value, np.sin(x + y), "float64", variant)
        assert_close(g["x"], np.cos(x + y) * cot, "float64", variant)
        assert_close(g["y"], (np.cos(x + y) * cot).sum(axis=1, keepdims=True), "float64", variant)


def test_elementwise_sum_is_the_sum_of_elementwise(backend):
    """``elementwise_sum``: the 0-d sum over the broadcast shape, and (with autodiff) its gradients summed over
    the broadcast axes, against NumPy in float64."""
    x, w = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -3.0]]), np.array([3.0, 1.0, -2.0])

    def fn(x, w):
        xp = P.array_namespace(x)

        def derivatives(wanted, x, w):
            return xp.cos(x) * w, xp.sin(x)

        return P.elementwise_sum(lambda x, w: xp.sin(x) * w, derivatives, x, w)

    grads = ("x", "w") if backend.differentiates else ()
    for variant, (value, g, _) in backend.evaluate(fn, {"x": x, "w": w}, {}, "float64", grads, np.array(2.0)).items():
        assert_close(value, (np.sin(x) * w).sum(), "float64", variant)
        for k, expected in (("x", 2 * np.cos(x) * w), ("w", 2 * np.sin(x).sum(axis=0))):
            if k in g:
                assert_close(g[k], expected, "float64", variant)


ELEMENTWISE_LOSSES = {  # losses built on elementwise, with arguments in their domains (float64)
    "l1_loss": lambda x: (x, x.flip(0)),
    "huber_loss": lambda x: (x, x.flip(0)),
    "binary_cross_entropy": lambda x: (x.sigmoid(), torch.linspace(0, 1, 5, dtype=torch.float64)),
    "binary_cross_entropy_with_logits": lambda x: (x, x.flip(0).sigmoid()),
    "multilabel_soft_margin_loss": lambda x: (x[None], x.flip(0).sigmoid()[None]),
    "gaussian_nll_loss": lambda x: (x, x.flip(0), x.exp()),
    "margin_ranking_loss": lambda x: (x, x.flip(0), x.sign()),
}


@pytest.mark.parametrize("name", ELEMENTWISE_LOSSES)
def test_elementwise_losses_have_torchs_forward_mode(name):
    """torch.func.hessian (forward over reverse) and forward_ad's tangent equal torch.nn's."""
    import agnostic_losses as al

    ours, theirs = getattr(al, name), getattr(torch.nn.functional, name)
    x0 = torch.tensor([0.3, -1.2, 0.7, 2.0, -0.4], dtype=torch.float64)
    hessian = [torch.func.hessian(lambda x, f=f: f(*ELEMENTWISE_LOSSES[name](x)))(x0) for f in (ours, theirs)]
    assert_close(hessian[0].numpy(), hessian[1].numpy(), "float64", "hessian")
    tangents = []
    for f in (ours, theirs):
        with torch.autograd.forward_ad.dual_level():
            x = torch.autograd.forward_ad.make_dual(x0, torch.linspace(-1, 1, 5, dtype=torch.float64))
            tangents.append(torch.autograd.forward_ad.unpack_dual(f(*ELEMENTWISE_LOSSES[name](x))).tangent.numpy())
    assert_close(tangents[0], tangents[1], "float64", "forward-mode tangent")


def test_torch_compile_traces_elementwise_in_a_fresh_process():
    """The Function's module imported by the compiled call itself (no eager call before it)."""
    code = ("import torch, agnostic_losses as al\n"
            "x = torch.rand(6, dtype=torch.float64, requires_grad=True); t = torch.rand(6, dtype=torch.float64)\n"
            "out = torch.compile(lambda x, t: al.huber_loss(x, t), fullgraph=True, backend='eager')(x, t)\n"
            "assert torch.allclose(out, torch.nn.functional.huber_loss(x, t))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]


def test_take_along_axis_dense_gradient_under_torch_compile_is_gathers():
    """``dense_gradient`` under torch.compile (a Function whose gradient is a comparison with the indices):
    gather's values and gradients, on any axis and beside a full-size gradient term, one index per row, and
    no scatter in the backward graph (without it, gather's scatter-add)."""
    from functorch.compile import make_boxed_func
    from torch._functorch.aot_autograd import aot_module_simplified

    scatters = []

    def counting(gm, example_inputs):
        def count(graph, _):
            scatters.append(sum("scatter" in str(n.target) for n in graph.graph.nodes))
            return make_boxed_func(graph)

        return aot_module_simplified(gm, example_inputs, fw_compiler=count, bw_compiler=count)

    rng = np.random.default_rng(5)
    for shape, axis in (((4, 7), 1), ((4, 7), 0), ((3, 5, 6), 1), ((4, 7), -1), ((3, 5, 6), -3)):
        x = torch.tensor(rng.normal(size=shape), requires_grad=True)
        index_shape = list(shape)
        index_shape[axis] = 1
        idx = torch.tensor(rng.integers(0, shape[axis], size=index_shape))
        weights = torch.tensor(rng.normal(size=index_shape))

        def f(x, dense):
            return (P.take_along_axis(x, idx, axis=axis, dense_gradient=dense) * weights).sum() + (x * x).sum()

        for dense in (False, True):
            torch._dynamo.reset()  # a compilation of its own, counted
            scatters.clear()
            compiled = torch.compile(lambda x: f(x, dense), fullgraph=True, backend=counting)
            got, (g,) = compiled(x), torch.autograd.grad(compiled(x), x)
            assert (sum(scatters) > 0) != dense, (shape, axis, dense, scatters)
        want, (g_want,) = f(x, False), torch.autograd.grad(f(x, False), x)
        assert_close(got.detach().numpy(), want.detach().numpy(), "float64", f"value {shape} axis {axis}")
        assert_close(g.numpy(), (2 * x + torch.zeros_like(x).scatter_add(axis, idx, weights)).detach().numpy(),
                     "float64", f"gradient {shape} axis {axis}")
        assert_close(g.numpy(), g_want.numpy(), "float64", f"gradient against gather's {shape} axis {axis}")


def test_abs_overwrites_where_the_library_can(backend):
    x = np.array([-2.5, -0.0, 0.0, 3.0, -np.inf])
    a = backend.asarray(x, "float64")
    out = P.abs_(a)
    np.testing.assert_array_equal(backend.to_numpy(out), np.abs(x))
    if backend.name in ("torch", "numpy"):
        assert out is a  # written in place: no new full-size temporary


def test_shift_max_is_the_finite_max_and_zero_elsewhere(backend, generic):
    """A NaN or an infinity anywhere along the axis (or no finite element) shifts by 0; a constant either way."""
    x = np.array([[1.0, -3.0, 2.5], [np.nan, 1.0, 7.0], [np.inf, 1.0, 2.0], [-np.inf, -np.inf, -np.inf],
                  [-np.inf, -4.0, -np.inf]])
    expected = np.array([[2.5], [0.0], [0.0], [0.0], [-4.0]])
    np.testing.assert_array_equal(backend.to_numpy(P.shift_max(backend.asarray(x, "float64"), axis=-1)), expected)
    np.testing.assert_array_equal(backend.to_numpy(P.shift_max(backend.asarray(x.T, "float64"), axis=0)), expected.T)
    t = torch.tensor(x, requires_grad=True)
    assert not P.shift_max(t, axis=-1).requires_grad


def test_scan_is_a_loop(backend):
    xs = np.arange(12.0).reshape(4, 3)

    def cumulative(xs):
        def step(carry, x):
            carry = carry + x
            return carry, carry * 2

        xp = P.array_namespace(xs)
        carry, ys = P.scan(step, xp.zeros_like(xs[0, ...]), xs)
        return xp.concat([ys, carry[None, ...]], axis=0)

    expected = np.concatenate([2 * np.cumsum(xs, axis=0), xs.sum(axis=0, keepdims=True)])
    grads = ("xs",) if backend.differentiates else ()
    cot = np.ones((5, 3))
    expected_grad = 2 * np.arange(4, 0, -1)[:, None] * np.ones((4, 3)) + 1
    for variant, (value, g, _) in backend.evaluate(cumulative, {"xs": xs}, {}, "float64", grads, cot).items():
        assert_close(value, expected, "float64", variant)
        for k in g:
            assert_close(g[k], expected_grad, "float64", f"{variant} gradient")


def test_scan_in_reverse(backend):
    """``reverse=True``: the steps run from the last row to the first, and ``ys[i]`` is still row i's: a
    running sum from the end, and its gradient."""
    xs = np.arange(12.0).reshape(4, 3)

    def from_the_end(xs):
        xp = P.array_namespace(xs)
        carry, ys = P.scan(lambda c, x: (c + x, c * x), xp.zeros_like(xs[0, ...]), xs, reverse=True)
        return xp.concat([ys, carry[None, ...]], axis=0)

    after = np.cumsum(xs[::-1], axis=0)[::-1] - xs  # the sum of the rows after row i
    expected = np.concatenate([after * xs, xs.sum(axis=0, keepdims=True)])
    cot = np.ones((5, 3))
    # d/dxs[i] of sum_j after[j] * xs[j] + sum(xs) = after[i] + (sum of the rows before i) + 1
    expected_grad = after + (np.cumsum(xs, axis=0) - xs) + 1
    grads = ("xs",) if backend.differentiates else ()
    for variant, (value, g, _) in backend.evaluate(from_the_end, {"xs": xs}, {}, "float64", grads, cot).items():
        assert_close(value, expected, "float64", variant)
        for k in g:
            assert_close(g[k], expected_grad, "float64", f"{variant} gradient")


def test_scan_over_tuples(backend):
    """Several arrays scanned together, several outputs stacked: a running dot product."""
    a, b = np.arange(8.0).reshape(4, 2), np.arange(8.0, 16.0).reshape(4, 2)

    def running(a, b):
        def step(total, rows):
            x, y = rows
            total = total + P.array_namespace(x).sum(x * y)
            return total, (total, x - y)

        xp = P.array_namespace(a)
        total, (partial, diff) = P.scan(step, xp.sum(a[0, ...]) * 0, (a, b))
        return xp.concat([partial, xp.reshape(diff, (-1,)), total[None]])

    dots = (a * b).sum(axis=1)
    expected = np.concatenate([np.cumsum(dots), (a - b).reshape(-1), [dots.sum()]])
    for variant, (value, _, _) in backend.evaluate(running, {"a": a, "b": b}, {}, "float64", (), expected).items():
        assert_close(value, expected, "float64", variant)


def test_scan_under_jit_compiles_one_loop_body():
    jax = need("jax")
    jnp = jax.numpy
    step = lambda c, x: (c + x, c)
    text = jax.jit(lambda xs: P.scan(step, 0.0, xs)).lower(jnp.ones(500)).as_text()
    assert "while" in text  # a loop, not 500 unrolled additions
    assert text.count("add") < 20


def test_generic_switch_is_scoped():
    assert not P.using_generic()
    with generic_primitives():
        assert P.using_generic()
        with generic_primitives(False):
            assert not P.using_generic()
        assert P.using_generic()
    assert not P.using_generic()


def test_sort_order_and_mark_are_numpys(backend, generic):
    """``sort``'s permutation is the stable one (ties in input order, descending too); ``mark`` sets the listed indices and
    ignores negative entries, duplicates included."""
    x = np.array([[2.0, -1.0, 2.0, 0.0, -1.0], [1.0, 1.0, 1.0, 0.0, 3.0]])
    labels = np.array([[4, 0, -1, 4], [-1, 6, -1, 6], [2, 2, 1, -1]])
    expected = np.zeros((3, 6), dtype=bool)
    for row, listed in enumerate(labels):
        expected[row, listed[(listed >= 0) & (listed < 6)]] = True
    _, order = P.sort(backend.asarray(x, "float64"), axis=-1)
    np.testing.assert_array_equal(backend.to_numpy(order), np.argsort(x, axis=-1, kind="stable"))
    _, order = P.sort(backend.asarray(x, "float64"), axis=-1, descending=True)
    np.testing.assert_array_equal(backend.to_numpy(order), np.argsort(-x, axis=-1, kind="stable"))
    np.testing.assert_array_equal(backend.to_numpy(P.mark(backend.asarray(labels, "int64"), 6)), expected)
    none = P.mark(backend.asarray(np.zeros((3, 0), np.int64), "int64"), 6)  # no index at all
    np.testing.assert_array_equal(backend.to_numpy(none), np.zeros((3, 6), dtype=bool))


def test_bin_sum_is_numpys_add_at(backend, generic):
    """Each value added into the bin its index names, repeated indices summed, empty bins 0."""
    values = np.array([[[1.5, -2.0, 4.0, 0.25], [3.0, 3.0, 3.0, 3.0]], [[0.0, 1.0, -1.0, 7.0], [2.0, 5.0, 1.0, 1.0]]])
    indices = np.array([[[0, 2, 2, 4], [1, 1, 1, 1]], [[4, 3, 0, 0], [2, 0, 4, 2]]])
    expected = np.zeros((2, 2, 5))
    for i in np.ndindex(indices.shape):
        expected[i[:-1] + (indices[i],)] += values[i]
    got = P.bin_sum(backend.asarray(values, "float64"), backend.asarray(indices, "int64"), 5)
    np.testing.assert_array_equal(backend.to_numpy(got), expected)
    # indices that broadcast against the values: each row of values into the one row of bins
    got = P.bin_sum(backend.asarray(values, "float64"), backend.asarray(indices[:1], "int64"), 5)
    np.testing.assert_array_equal(backend.to_numpy(got), [[np.bincount(indices[0, j], values[i, j], 5)
                                                           for j in range(2)] for i in range(2)])


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "uint16", "float32"])
def test_value_range_is_numpys_min_and_max(backend, dtype):
    """The range the index checks read: NumPy's min and max of the data, () when empty, None where the data
    are not read (Dask's lazy arrays)."""
    data = np.array([[7, 3, 250], [0, 12, 9]])
    got = P.value_range(backend.asarray(data, dtype))
    if backend.name == "dask":
        assert got is None
        return
    assert got == (0, 250) and all(type(v) is (float if dtype == "float32" else int) for v in got)
    assert P.value_range(backend.asarray(data[:0], dtype)) == ()
    if backend.name == "torch":  # dtypes torch's aminmax lacks
        assert P.value_range(torch.tensor([0.5, 2.0, -1.0]).to(torch.float8_e4m3fn)) == (-1.0, 2.0)
        assert P.value_range(torch.tensor([2**63 + 2**62, 5], dtype=torch.uint64)) is not None


def test_narrow_indices_address_more_than_255_classes(backend, generic):
    """From a review: the generic one-hot paths compared uint8 indices with ``arange(n)`` in uint8, which
    wraps past 255 (index 0 also matched class 256): take_along_axis, bin_sum and mark over 300 classes."""
    x = np.arange(2 * 300, dtype=np.float64).reshape(2, 300)
    indices = np.array([[0, 5, 255], [255, 0, 0]])
    narrow = backend.asarray(indices, "uint8")
    got = P.take_along_axis(backend.asarray(x, "float64"), narrow, axis=1)
    np.testing.assert_array_equal(backend.to_numpy(got), np.take_along_axis(x, indices, axis=1))
    expected = np.zeros((2, 300))
    for row, listed in enumerate(indices):
        np.add.at(expected[row], listed, 1.0)
    got = P.bin_sum(backend.asarray(np.ones((2, 3)), "float64"), narrow, 300)
    np.testing.assert_array_equal(backend.to_numpy(got), expected)
    np.testing.assert_array_equal(backend.to_numpy(P.mark(narrow, 300)), expected > 0)


def test_searchsorted_is_numpys_row_by_row(backend, generic):
    """Each row's insertion indices, both sides, at ties, at -0.0 against 0.0 and at the infinities."""
    rows = np.array([[-np.inf, -1.0, 0.0, 0.0, 2.0, np.inf], [-3.0, -3.0, -3.0, 1.0, 1.0, 5.0]])
    values = np.array([[0.0, -0.0, np.inf, -np.inf, 1.0], [-3.0, 1.0, 0.5, -4.0, 6.0]])
    for side in ("left", "right"):
        got = P.searchsorted(backend.asarray(rows, "float64"), backend.asarray(values, "float64"), side=side)
        expected = np.stack([np.searchsorted(r, v, side=side) for r, v in zip(rows, values)])
        np.testing.assert_array_equal(backend.to_numpy(got), expected, err_msg=side)


def test_row_primitives_keep_dask_row_chunks():
    """From a review: array-api-compat's Dask sort merges every row into one block; ours keep the rows'
    chunks (each block whole along the last axis only)."""
    da = need("dask.array")
    rng = np.random.default_rng(3)
    ints = da.from_array(rng.integers(-1, 6, (8, 5)), chunks=(2, 3))
    floats = da.from_array(rng.standard_normal((8, 5)), chunks=(2, 3))
    values, order = P.sort(floats, axis=-1)
    for out in (values, order, P.mark(ints, 6), P.searchsorted(values, floats, side="left")):
        assert out.chunks[0] == (2, 2, 2, 2)
    np.testing.assert_array_equal(P.mark(ints, 6).compute(), P.mark(np.asarray(ints), 6))


def test_gathers_by_one_hot_where_take_along_axis_does(monkeypatch):
    """gathers_by_one_hot (multilabel_margin_loss's chunk size hangs on it) says True exactly where
    take_along_axis takes its one-hot path (seen by the index widening it starts with): on NumPy and torch,
    natively (the library's gather) and under the generic primitives (the one-hot selection), and on Dask
    (no take_along_axis: one-hot either way)."""
    calls = []
    from agnostic_losses._primitives import _indexing

    original = _indexing.wide_indices
    monkeypatch.setattr(_indexing, "wide_indices", lambda i: calls.append(1) or original(i))  # the one-hot path's first step
    cases = [(np.arange(6.0).reshape(2, 3), np.array([[2], [0]]))]
    cases.append((torch.arange(6.0).reshape(2, 3), torch.tensor([[2], [0]])))
    if installed("dask"):
        import dask.array as da

        cases.append((da.from_array(np.arange(6.0).reshape(2, 3)), da.from_array(np.array([[2], [0]]))))
    for x, i in cases:
        for generic in (False, True):
            with generic_primitives(generic):
                calls.clear()
                picked = np.asarray(P.take_along_axis(x, i, axis=1))
                assert picked.tolist() == [[2.0], [3.0]]
                assert P.gathers_by_one_hot(x) == bool(calls), (type(x), generic)
    assert P.gathers_by_one_hot(cases[0][0]) is False and P.gathers_by_one_hot(cases[1][0]) is False


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_divide_of_a_torch_scalar_by_a_count_is_torchs_quotient(dtype):
    """``P.divide`` of a 0-d tensor by a Python int (a mean's count) gives torch's own ``a / n``, bit for bit, at
    every call: counts a dtype rounds, signed zeros, infinities and NaN included."""
    counts = [1, 3, 7, 64, 1000, 2**24 + 1, 2**53 + 1, 0, -5]
    for value in [1.0, -0.0, 0.0, 3.3, float("inf"), float("nan"), 1e-30]:
        a = torch.tensor(value, dtype=getattr(torch, dtype))
        for n in counts * 2:  # the second time, a count seen before
            got, want = P.divide(a, n), a / n
            assert got.dtype == want.dtype
            assert torch.equal(got.isnan(), want.isnan())
            if not want.isnan():
                assert torch.equal(got, want) and torch.signbit(got) == torch.signbit(want), (value, n)


def test_a_count_first_divided_in_a_special_context_serves_plain_calls_later():
    """The count a mean divides by is kept as a tensor: one first made under inference mode, a default device or
    a fake-tensor mode must not be the one every later call divides by."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    import agnostic_losses as al

    x, t = torch.randn(7, 5, dtype=torch.float64), torch.randint(0, 5, (7,))
    with torch.inference_mode():
        al.cross_entropy(x[:, :4], t % 4)  # 7 targets: the count 7 first divided here
    leaf = x.clone().requires_grad_()
    al.cross_entropy(leaf, t).backward()  # an inference tensor could not be saved for the backward pass
    reference = x.clone().requires_grad_()
    torch.nn.functional.cross_entropy(reference, t).backward()
    np.testing.assert_allclose(leaf.grad.numpy(), reference.grad.numpy(), rtol=1e-12)
    with torch.device("meta"):
        al.mse_loss(torch.ones(9, device="cpu"), torch.zeros(9, device="cpu"))
    assert al.mse_loss(torch.ones(9), torch.zeros(9)).device.type == "cpu"
    with FakeTensorMode() as mode:
        al.mse_loss(mode.from_tensor(torch.ones(11)), mode.from_tensor(torch.zeros(11)))
    assert al.mse_loss(torch.ones(11), torch.zeros(11)).item() == 1.0
