"""linear_cross_entropy against torch.nn: contract, chunking, memory, errors (the classes: test_nn.py).

Every option, shape and dtype is in the conformance catalogue; these tests pin
the signatures, that every chunk size gives torch's values and gradients, the
chunking primitive itself, the memory bound (structurally: JAX's compiled
temporaries, torch's saved tensors), torch.compile and torch.func, and clear
errors.
"""

from __future__ import annotations

import collections
import dataclasses
import inspect

import numpy as np
import pytest

import agnostic_losses as al
import agnostic_losses._primitives as P

from helpers import assert_close, need, torch_reference

torch = need("torch")
F = torch.nn.functional

RNG = np.random.default_rng(5)
N, H, C = 8, 4, 5
X = RNG.standard_normal((N, H))
W = RNG.standard_normal((C, H))
B = RNG.standard_normal(C)
W_K = RNG.standard_normal((C, 2, H))  # K-dimensional: logits (N, C, 2)
B_K = RNG.standard_normal((C, 2))
Y = RNG.integers(0, C, N)
Y_K = RNG.integers(0, C, (N, 2))
WEIGHT = RNG.uniform(0.5, 2.0, C)


def _probabilities(shape):
    e = np.exp(RNG.standard_normal(shape))
    return e / e.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)


# name: (arrays, options); torch's reference is its linear_cross_entropy without options=
CASES = {
    "indices": ({"input": X, "linear_weight": W, "target": Y}, {}),
    "indices_bias_weight_smoothing_ignored": (
        {"input": X, "linear_weight": W, "target": np.where(Y == 2, 1, Y), "linear_bias": B, "weight": WEIGHT},
        {"ignore_index": 1, "label_smoothing": 0.2}),
    "probabilities_bias_weight": (
        {"input": X, "linear_weight": W, "target": _probabilities((N, C)), "linear_bias": B, "weight": WEIGHT},
        {"label_smoothing": 0.1}),
    "k_dim_indices": ({"input": X, "linear_weight": W_K, "target": Y_K, "linear_bias": B_K}, {}),
    "k_dim_probabilities": ({"input": X, "linear_weight": W_K, "target": _probabilities((N, C, 2))}, {}),
    "unbatched": ({"input": X[0], "linear_weight": W, "target": Y[0], "linear_bias": B}, {}),
    "unbatched_probabilities": ({"input": X[0], "linear_weight": W, "target": _probabilities((C,))}, {}),
    "empty": ({"input": X[:0], "linear_weight": W, "target": Y[:0]}, {}),
}
CHUNK_SIZES = (1, 2, 3, N + 5, None)  # one row, a divisor of N, a non-divisor, more than N, the default


def test_signature_is_torchs_plus_chunk_size():
    ours = [(p.name, p.kind, p.default) for p in inspect.signature(al.linear_cross_entropy).parameters.values()]
    theirs = [(p.name, p.kind, p.default) for p in inspect.signature(F.linear_cross_entropy).parameters.values()]
    assert theirs[-1][0] == "options"
    assert ours == theirs + [("chunk_size", inspect.Parameter.KEYWORD_ONLY, None)]


Options = torch.nn.LinearCrossEntropyOptions
# torch's documented options: its defaults ('auto'), a batch chunk size, its aspect-ratio methods, one chunk,
# and the fields that tune its own kernel
TORCH_OPTIONS = [Options(), Options(batch_chunk_size=3), Options(chunking_method="aspect_ratio"),
                 Options(chunking_method="aspect_ratio:2"), Options(chunking_method=None),
                 Options(batch_chunk_size=100, chunking_method=None),
                 Options(allow_retain_graph=True, acc_policy="accurate", acc_dtype=torch.float64)]
# a plain object of the same field names: what code without torch passes (hashable, as JAX's adapter caches it)
PlainOptions = collections.namedtuple("PlainOptions", [f.name for f in dataclasses.fields(Options)])


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name", ["indices", "indices_bias_weight_ignored", "unbatched"])
@pytest.mark.parametrize("i", range(len(TORCH_OPTIONS)), ids=lambda i: repr(TORCH_OPTIONS[i])[26:-1])
def test_torchs_options_give_torchs_values_and_gradients(backend, name, reduction, i):
    """From issue 25: code written against torch's signature runs unchanged: ``options=`` torch's object on
    torch, the same fields as a plain object elsewhere, and gives torch's call with that object (its chunked
    path)."""
    options = TORCH_OPTIONS[i]
    arrays, given = CASES["indices_bias_weight_smoothing_ignored" if name == "indices_bias_weight_ignored" else name]
    given = {k: v for k, v in given.items() if k != "label_smoothing"}  # torch's chunked path refuses smoothing
    grads = tuple(k for k in ("input", "linear_weight", "linear_bias") if k in arrays)
    ref, ref_grads, cot = torch_reference(F.linear_cross_entropy, arrays,
                                         {**given, "reduction": reduction, "options": options}, grads)
    plain = options if backend.name == "torch" else PlainOptions(*(getattr(options, k) for k in PlainOptions._fields))
    variants = backend.evaluate(al.linear_cross_entropy, arrays, {**given, "reduction": reduction, "options": plain},
                                "float64", grads if backend.differentiates else (), cot)
    for variant, (value, g, _) in variants.items():
        assert_close(value, ref, what=f"{variant} value")
        for k in g:
            assert_close(g[k], ref_grads[k], what=f"{variant} d/d{k}")
    if backend.name == "numpy":  # and a dict of the fields
        value = al.linear_cross_entropy(**arrays, **given, reduction=reduction, options=dataclasses.asdict(options))
        assert_close(value, ref, what="dict")


@pytest.mark.parametrize("n", [0, 1, 8, 37])
def test_torchs_options_choose_torchs_rows_per_chunk(n, monkeypatch):
    """The rows per chunk are those torch's options resolve to (its ``_adjust``), where they name a number;
    'auto' is our default, ``chunk_size`` agrees with them or is an error."""
    sizes, chunked = [], P.chunked
    monkeypatch.setattr(P, "chunked", lambda f, arrays, size, *a, **k: sizes.append(size) or chunked(f, arrays, size,
                                                                                                       *a, **k))
    x, y = torch.tensor(RNG.standard_normal((n, H))), torch.tensor(RNG.integers(0, C, n))
    for options in (o for o in TORCH_OPTIONS if o.chunking_method != "auto" or o.batch_chunk_size is not None):
        theirs = options._adjust(num_batches=n, in_features=H, num_classes=C, dtype=torch.float64).batch_chunk_size
        al.linear_cross_entropy(x, torch.tensor(W), y, options=options)
        assert max(1, min(sizes[-1], n)) == theirs, options
    al.linear_cross_entropy(x, torch.tensor(W), y, options=Options(acc_policy="accurate"))
    assert sizes[-1] == al.linear.default_chunk_rows(C, H)
    al.linear_cross_entropy(x, torch.tensor(W), y, options=Options(), chunk_size=2)
    assert sizes[-1] == 2
    al.linear_cross_entropy(x, torch.tensor(W), y, options=Options(batch_chunk_size=2), chunk_size=2)
    assert sizes[-1] == 2


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name", CASES)
def test_every_chunk_size_gives_torchs_values_and_gradients(backend, name, reduction):
    arrays, options = CASES[name]
    options = {**options, "reduction": reduction}
    grads = tuple(k for k in ("input", "linear_weight", "linear_bias") if k in arrays)
    if arrays["target"].dtype.kind == "f":
        grads += ("target",)
    ref, ref_grads, cot = torch_reference(F.linear_cross_entropy, arrays, options, grads)
    # torch's reference path spelled out: cross_entropy of the linear map, reshaped
    unfused = torch_reference(_cross_entropy_of_linear, arrays, options, grads, cot)
    assert_close(unfused[0], ref, what="cross_entropy(linear(...))")
    for chunk_size in CHUNK_SIZES:
        variants = backend.evaluate(al.linear_cross_entropy, arrays, {**options, "chunk_size": chunk_size},
                                    "float64", grads if backend.differentiates else (), cot)
        for variant, (value, g, out_dtype) in variants.items():
            what = f"{name} chunk_size={chunk_size} {variant}"
            assert out_dtype == "float64", what
            assert_close(value, ref, what=f"{what} value")
            for k in g:
                assert_close(g[k], ref_grads[k], what=f"{what} d/d{k}")
                assert_close(g[k], unfused[1][k], what=f"{what} d/d{k} (unfused)")


@pytest.mark.parametrize("wide", ["linear_bias", "weight"])
def test_a_wider_bias_or_weight_promotes_the_result(backend, wide):
    """float32 input and linear weight with a float64 ``linear_bias`` or ``weight``: torch's reference path
    refuses (its matrix product wants one dtype); ours promotes, as every loss does (deviation
    mixed-float-dtypes), and computes torch's float64 value."""
    arrays, options = CASES["indices_bias_weight_smoothing_ignored"]
    dtypes = {k: "float64" if k == wide else "float32" for k in ("input", "linear_weight", "linear_bias", "weight")}
    given = {k: a if k == "target" else backend.asarray(a.astype(np.float32).astype(np.float64), dtypes[k])
             for k, a in arrays.items()}
    ref = F.linear_cross_entropy(*(torch.tensor(arrays[k].astype(np.float32).astype(np.float64))
                                   for k in ("input", "linear_weight")), torch.tensor(arrays["target"]),
                                 linear_bias=torch.tensor(arrays["linear_bias"].astype(np.float32).astype(np.float64)),
                                 weight=torch.tensor(arrays["weight"].astype(np.float32).astype(np.float64)),
                                 **options)
    given["target"] = backend.asarray(arrays["target"], "int64")
    for reduction in ("none", "mean"):
        out = al.linear_cross_entropy(**given, **options, reduction=reduction)
        assert str(out.dtype).endswith("float64"), (reduction, out.dtype)
    assert_close(backend.to_numpy(al.linear_cross_entropy(**given, **options)), ref.numpy(), "float32")


def _cross_entropy_of_linear(input, linear_weight, target, linear_bias=None, weight=None, reduction="mean",
                             ignore_index=-100, label_smoothing=0.0):
    c, d, h = linear_weight.shape[0], tuple(linear_weight.shape[1:-1]), linear_weight.shape[-1]
    logits = F.linear(input, linear_weight.reshape(-1, h), None if linear_bias is None else linear_bias.reshape(-1))
    return F.cross_entropy(logits.reshape(*input.shape[:-1], c, *d), target, weight=weight, reduction=reduction,
                           ignore_index=ignore_index, label_smoothing=label_smoothing)


def test_generic_primitives_give_the_same(ad_backend):
    arrays, options = CASES["indices_bias_weight_smoothing_ignored"]
    grads = ("input", "linear_weight", "linear_bias")
    ref, ref_grads, cot = torch_reference(F.linear_cross_entropy, arrays, options, grads)
    with al.generic_primitives():
        variants = ad_backend.evaluate(al.linear_cross_entropy, arrays, {**options, "chunk_size": 3}, "float64",
                                       grads, cot)
    for variant, (value, g, _) in variants.items():
        assert_close(value, ref, what=variant)
        for k in grads:
            assert_close(g[k], ref_grads[k], what=f"{variant} d/d{k}")


def test_chunked_maps_rows_and_differentiates_closed_over_arrays(backend):
    """The primitive alone: f over chunks of rows of two arrays, w closed over, against one call of f."""
    xp = P.array_namespace(backend.asarray(np.zeros(1), "float64"))
    a, b, w = RNG.standard_normal((7, 3)), RNG.standard_normal((7,)), RNG.standard_normal((3, 2))

    def rows(a, b, w):
        return xp.sum(xp.exp((a @ w) * xp.expand_dims(b, axis=1)), axis=1)

    def chunked(a, b, w, size):
        return P.chunked(lambda a_c, b_c: rows(a_c, b_c, w), (a, b), size)

    arrays = {"a": a, "b": b, "w": w}
    grads = ("a", "b", "w") if backend.differentiates else ()
    cot = RNG.standard_normal(7)
    whole = backend.evaluate(rows, arrays, {}, "float64", grads, cot)
    for size in (1, 2, 3, 7, 10):
        for variant, (value, g, _) in backend.evaluate(chunked, arrays, {"size": size}, "float64", grads,
                                                       cot).items():
            assert_close(value, whole[variant][0], what=f"size={size} {variant}")
            for k in g:
                assert_close(g[k], whole[variant][1][k], what=f"size={size} {variant} d/d{k}")


ERRORS = [  # (arrays, options, exception, message)
    ({"input": X[None]}, {}, ValueError,
     r"linear_cross_entropy: input must have shape \(in_features,\) or \(N, in_features\), got \(1, 8, 4\)"),
    ({"linear_weight": W[:, :3]}, {}, ValueError,
     r"linear_cross_entropy: linear_weight must have shape \(C, 4\) or \(C, d1, ..., dK, 4\) \(in_features = "
     r"input's last axis, 4\), got \(5, 3\)"),
    ({"linear_weight": W[0]}, {}, ValueError, r"linear_cross_entropy: linear_weight must have shape \(C, 4\)"),
    ({"linear_bias": B[:4]}, {}, ValueError,
     r"linear_cross_entropy: linear_bias must have shape \(5,\) \(linear_weight's shape less its last axis\), "
     r"got \(4,\)"),
    ({"linear_weight": W_K, "target": Y_K, "linear_bias": B}, {}, ValueError,
     r"linear_cross_entropy: linear_bias must have shape \(5, 2\)"),
    ({"input": X[0], "linear_weight": W_K, "target": Y_K[0]}, {}, ValueError,
     r"linear_cross_entropy: a K-dimensional linear_weight of shape \(5, 2, 4\) needs a batched input \(N, 4\), "
     r"got \(4,\)"),
    ({"target": Y[:5]}, {}, ValueError,
     r"linear_cross_entropy: target must have shape \(8,\) \(the logits' shape \(8, 5\) less the class axis\), "
     r"got \(5,\)"),
    ({"target": Y.astype(np.float64)}, {}, TypeError,
     r"linear_cross_entropy: target must have an integer dtype \(class indices; class probabilities have the "
     r"logits' shape \(8, 5\)\), got float64"),
    ({"target": _probabilities((N, C))}, {"ignore_index": -100}, ValueError,
     r"linear_cross_entropy: ignore_index cannot be given with probability targets \(target has the logits' "
     r"shape \(8, 5\)\), got ignore_index=-100"),
    ({"weight": WEIGHT[:3]}, {}, ValueError,
     r"linear_cross_entropy: weight must have shape \(5,\) \(one weight per class\), got \(3,\)"),
    ({"target": np.where(Y == 0, 7, Y)}, {}, ValueError,
     r"linear_cross_entropy: target must hold class indices in \[0, 5\) or ignore_index=-100, got 7"),
    ({}, {"chunk_size": 0}, ValueError, r"linear_cross_entropy: chunk_size must be >= 1 \(rows per chunk\), got 0"),
    ({}, {"chunk_size": -3}, ValueError, r"linear_cross_entropy: chunk_size must be >= 1"),
    ({}, {"chunk_size": 2.0}, TypeError, r"linear_cross_entropy: chunk_size must be an int or None, got float"),
    ({}, {"chunk_size": True}, TypeError, r"linear_cross_entropy: chunk_size must be an int or None, got bool"),
    ({}, {"options": Options(batch_chunk_size=2), "chunk_size": 3}, ValueError,
     r"linear_cross_entropy: chunk_size=3 and options, which give 2 rows per chunk, contradict each other"),
    ({}, {"options": Options(batch_chunk_size=3, chunking_method="aspect_ratio")}, ValueError,  # torch's too
     r"linear_cross_entropy: options.batch_chunk_size \(=3\) and options.chunking_method \('aspect_ratio'\) give "
     r"different chunk sizes \(3 vs 4\)"),
    ({}, {"options": {"chunk_size": 3}}, ValueError, r"linear_cross_entropy: options has no field 'chunk_size' "
     r"\(LinearCrossEntropyOptions has allow_retain_graph, batch_chunk_size, chunking_method, acc_policy, "
     r"acc_dtype\)"),
    ({}, {"options": {"acc_policy": "fast"}}, ValueError, r"linear_cross_entropy: options.acc_policy must be one of "
     r"'auto', 'accurate', 'balanced', 'compact', got 'fast'"),
    ({}, {"options": {"chunking_method": "aspect_ratio:0"}}, ValueError,
     r"linear_cross_entropy: options.chunking_method must be 'auto', 'aspect_ratio', 'aspect_ratio:N' \(N >= 1\) "
     r"or None, got 'aspect_ratio:0'"),
    ({}, {"options": {"batch_chunk_size": 0}}, ValueError,
     r"linear_cross_entropy: options.batch_chunk_size must be an int >= 1 or None, got 0"),
    ({}, {"options": {"acc_dtype": "int64"}}, ValueError, r"linear_cross_entropy: options.acc_dtype must be None or a "
     r"dtype of float16, bfloat16, float32, float64, got 'int64'"),
    ({}, {"options": {"allow_retain_graph": 1}}, ValueError,
     r"linear_cross_entropy: options.allow_retain_graph must be True or False, got 1"),
    ({}, {"options": 3}, TypeError, r"linear_cross_entropy: options must be a LinearCrossEntropyOptions, a dict of its "
     r"fields or None, got int"),
    ({}, {"reduction": "avg"}, ValueError,
     r"linear_cross_entropy: reduction must be one of 'none', 'mean', 'sum', got 'avg'"),
    ({}, {"label_smoothing": 1.5}, ValueError, r"linear_cross_entropy: label_smoothing must be at most 1.0, got 1.5"),
    ({"linear_weight": W.astype(np.int64)}, {}, TypeError,
     r"linear_cross_entropy: linear_weight must have a real floating dtype, got int64"),
    ({"linear_bias": torch.tensor(B)}, {}, TypeError,
     r"linear_cross_entropy: all arrays must come from one array library, got input from numpy, linear_weight "
     r"from numpy, target from numpy, linear_bias from torch"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_bad_input_raises_clear_errors(i):
    changes, options, exception, message = ERRORS[i]
    arrays = {"input": X, "linear_weight": W, "target": Y, **changes}
    with pytest.raises(exception, match=message):
        al.linear_cross_entropy(**arrays, **options)


def test_nothing_is_mutated(ad_backend):
    arrays, options = CASES["indices_bias_weight_smoothing_ignored"]
    copies = {k: v.copy() for k, v in arrays.items()}
    native = ad_backend.native(arrays, "float64")
    before = {k: ad_backend.to_numpy(v).copy() for k, v in native.items()}
    ad_backend.evaluate(al.linear_cross_entropy, arrays, {**options, "chunk_size": 3}, "float64",
                        ("input", "linear_weight", "linear_bias"), np.ones(()))
    al.linear_cross_entropy(**native, **options, chunk_size=3)
    for k in arrays:
        np.testing.assert_array_equal(arrays[k], copies[k], err_msg=k)
        np.testing.assert_array_equal(ad_backend.to_numpy(native[k]), before[k], err_msg=k)


def test_jax_compiled_memory_holds_one_chunk_of_logits():
    """Structural: XLA's temporaries for value-and-gradient are a fraction of the (N, V) logits."""
    jax = need("jax")
    jnp = jax.numpy
    n, h, v = 2048, 64, 4096
    x, w = jnp.zeros((n, h), jnp.float32), jnp.zeros((v, h), jnp.float32)
    y = jnp.zeros((n,), jnp.int32)
    logits_bytes = n * v * 4

    def temp_bytes(loss):
        compiled = jax.jit(jax.grad(loss, argnums=(0, 1))).lower(x, w, y).compile()
        return compiled.memory_analysis().temp_size_in_bytes

    ours = temp_bytes(lambda x, w, y: al.linear_cross_entropy(x, w, y, chunk_size=128))
    naive = temp_bytes(lambda x, w, y: al.cross_entropy(x @ w.T, y))
    assert ours < 0.25 * logits_bytes, (ours, logits_bytes)  # one chunk's logits is 1/16 of them
    assert naive >= logits_bytes, (naive, logits_bytes)


def _products(jaxpr):
    """The matrix products (``dot_general``) in a jaxpr, counted into its loops and calls."""
    count = 0
    for eqn in jaxpr.eqns:
        count += eqn.primitive.name == "dot_general"
        for param in eqn.params.values():
            for sub in param if isinstance(param, (tuple, list)) else (param,):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    count += _products(inner)
    return count


@pytest.mark.parametrize("reduction,products", [("mean", 3), ("sum", 3), ("none", 4)])
def test_jax_gradient_computes_each_chunks_logits_once(reduction, products):
    """Structural: the jaxpr of jax.grad of the 'mean' and 'sum' losses has three matrix products (the
    chunk's logits, its gradients of input and of linear_weight: the chunks' gradients come with their
    values, chunked(..., summed=True)); 'none' recomputes the logits in the backward pass (four).  Forward
    mode and the Hessian still work, and equal torch's."""
    jax = need("jax")
    jnp = jax.numpy
    x, w, b, y, weight = (jnp.asarray(a) for a in (X, W, B, Y, WEIGHT))

    def loss(x, w, b):
        out = al.linear_cross_entropy(x, w, y, linear_bias=b, weight=weight, reduction=reduction,
                                      label_smoothing=0.1, chunk_size=2)
        return jnp.sum(out * jnp.arange(1, out.size + 1, dtype=out.dtype).reshape(out.shape))

    assert _products(jax.make_jaxpr(jax.grad(loss, argnums=(0, 1)))(x, w, b).jaxpr) == products
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (X, W, B))
    ref = F.cross_entropy(F.linear(xt, wt, bt), torch.tensor(Y), weight=torch.tensor(WEIGHT),
                          reduction=reduction, label_smoothing=0.1)
    ref = (ref * torch.arange(1, ref.numel() + 1, dtype=ref.dtype).reshape(ref.shape)).sum()
    gx, gw, gb = torch.autograd.grad(ref, (xt, wt, bt), create_graph=True)
    tangents = (np.ones_like(X), np.full_like(W, 0.5), np.zeros_like(B))
    _, tangent = jax.jvp(lambda x, w: loss(x, w, b), (x, w), tuple(jnp.asarray(t) for t in tangents[:2]))
    expected = sum((g * torch.tensor(t)).sum() for g, t in zip((gx, gw), tangents[:2]))
    assert_close(np.asarray(tangent), expected.detach().numpy(), what="jax.jvp")
    hessian = jax.hessian(lambda b: loss(x, w, b))(b)
    rows = [torch.autograd.grad(gb[i], bt, retain_graph=True)[0] for i in range(C)]
    assert_close(np.asarray(hessian), torch.stack(rows).numpy(), what="jax.hessian in linear_bias")


def test_torch_autograd_saves_no_full_logits():
    """Structural: under autograd the chunked loss saves no (N, V) tensor for the backward pass."""
    n, h, v = 64, 8, 256
    x = torch.randn(n, h, requires_grad=True)
    w = torch.randn(v, h, requires_grad=True)
    y = torch.randint(0, v, (n,))

    def largest_saved(loss):
        sizes = []

        def pack(t):
            sizes.append(t.numel())
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            out = loss()
        out.backward()
        return max(sizes)

    assert largest_saved(lambda: F.cross_entropy(x @ w.T, y)) >= n * v  # the naive one does
    assert largest_saved(lambda: al.linear_cross_entropy(x, w, y, chunk_size=8)) < n * v / 4


def test_torch_compile_and_torch_func():
    """torch.compile(fullgraph=True) traces the chunks (each one's gradients taken with its value:
    ``test_torch_compile_takes_each_chunks_gradients_once``); torch.func.grad (which refuses checkpointing's
    saved-tensor hooks) gets the unrematerialised chunks, with the same gradients."""
    x, w, y = torch.tensor(X), torch.tensor(W), torch.tensor(Y)

    def loss(x, w):
        return al.linear_cross_entropy(x, w, y, linear_bias=torch.tensor(B), chunk_size=3, label_smoothing=0.1)

    xr, wr = x.clone().requires_grad_(), w.clone().requires_grad_()
    expected = torch.autograd.grad(F.linear_cross_entropy(xr, wr, y, linear_bias=torch.tensor(B),
                                                          label_smoothing=0.1), (xr, wr))
    xc, wc = x.clone().requires_grad_(), w.clone().requires_grad_()
    compiled = torch.compile(loss, fullgraph=True, backend="aot_eager")
    for got, what in ((torch.autograd.grad(compiled(xc, wc), (xc, wc)), "torch.compile"),
                      (torch.func.grad(loss, argnums=(0, 1))(x, w), "torch.func.grad")):
        for g, e in zip(got, expected):
            assert_close(g.detach().numpy(), e.numpy(), what=what)


def test_torch_compile_takes_each_chunks_gradients_once():
    """Under torch.compile, 'mean' and 'sum' take each chunk's gradients with its value (torch.func inside the
    traced graph): three matrix products per chunk in the forward and backward graphs together, not a fourth
    to recompute the chunk's logits; the values and gradients are torch.nn's, for whichever arrays want one
    (probability targets, class weights, a bias, ignored rows), under an upstream gradient, and under
    torch.func.grad."""
    from functorch.compile import make_boxed_func
    from torch._functorch.aot_autograd import aot_module_simplified

    products = []

    def counting(gm, example_inputs):
        def count(graph, _):
            products.append(sum(n.target in (torch.ops.aten.mm.default, torch.ops.aten.addmm.default)
                                for n in graph.graph.nodes))
            return make_boxed_func(graph)

        return aot_module_simplified(gm, example_inputs, fw_compiler=count, bw_compiler=count)

    rng = np.random.default_rng(2)
    x, w, b = (torch.tensor(rng.normal(size=s)) for s in ((10, 3), (4, 3), (4,)))
    probs = torch.tensor(rng.dirichlet(np.ones(4), size=10))
    y = torch.tensor([0, 3, -100, 1, 2, 2, -100, 0, 1, 3])
    cases = [("mean", y, {"weight": torch.tensor([1.0, 2.0, 0.5, 1.5], dtype=torch.float64)}, (0, 1)),
             ("sum", y, {"linear_bias": b, "label_smoothing": 0.2}, (0, 1, 3)),
             ("mean", probs, {}, (1, 2)),  # linear_weight and the target's probabilities
             ("sum", y, {}, (0,))]
    for reduction, target, options, wanted in cases:
        def loss(x, w, target, b, ours=True):
            given = dict(options, linear_bias=b) if "linear_bias" in options else options
            if ours:
                return al.linear_cross_entropy(x, w, target, reduction=reduction, chunk_size=4, **given)
            return F.linear_cross_entropy(x, w, target, reduction=reduction, **given)

        def args():
            return [a.clone().requires_grad_(i in wanted) for i, a in enumerate((x, w, target, b))]

        torch._dynamo.reset()  # a compilation of its own, counted
        products.clear()
        given, expected_args = args(), args()
        value, expected_value = torch.compile(loss, fullgraph=True, backend=counting)(*given), loss(*expected_args,
                                                                                                   ours=False)
        got = torch.autograd.grad(2.5 * value, [a for a in given if a.requires_grad])  # an upstream gradient
        expected = torch.autograd.grad(2.5 * expected_value, [a for a in expected_args if a.requires_grad])
        what = f"{reduction}, gradients of {wanted}"
        assert_close(value.detach().numpy(), expected_value.detach().numpy(), "float64", what=what)
        for g, e in zip(got, expected):
            assert_close(g.numpy(), e.numpy(), "float64", what=what)
        # 3 chunks: the logits, x's and W's gradients where wanted (the compiler drops an unused one)
        assert sum(products) == 3 * (1 + (0 in wanted) + (1 in wanted)), (what, products)

    # torch.func.grad traced by torch.compile: there the input's requires_grad reads False, and a gradient
    # taken only where it reads True was zero (a review's find)
    def loss(x, w):
        return al.linear_cross_entropy(x, w, y, linear_bias=b, chunk_size=4)

    got = torch.compile(torch.func.grad(loss, argnums=(0, 1)), fullgraph=True, backend="aot_eager")(x, w)
    xr, wr = x.clone().requires_grad_(), w.clone().requires_grad_()
    expected = torch.autograd.grad(F.linear_cross_entropy(xr, wr, y, linear_bias=b), (xr, wr))
    for g, e, what in zip(got, expected, ("input", "linear_weight")):
        assert_close(g.numpy(), e.numpy(), "float64", what=f"torch.compile(torch.func.grad) of {what}")


def test_conformance_keeps_chunk_size_from_torch_and_compares_normwise():
    from conformance import catalogue, runner

    case = next(c for c in catalogue.cases(["linear_cross_entropy"], dtypes=("float64",)) if "random" in c.id)
    assert case.options["chunk_size"] == 3 and "chunk_size" not in case.torch_options and case.normwise
    ref = np.array([1.0, 1e-3])
    ours = ref + 1e-4
    assert runner.error(ours, ref, "float64") == pytest.approx(0.1)  # elementwise: 1e-4 / 1e-3
    assert runner.error(ours, ref, "float64", normwise=True) == pytest.approx(1e-4)  # 1e-4 / max|ref|


def test_mean_divides_each_chunk_before_its_gradients():
    """'mean' in chunks (gradients taken in the forward pass): float16 gradients of the undivided sum would
    overflow before the 1/N (a review found dW = -inf where torch.nn's is -12.3); the Hessian where the
    gradient is exactly 0 (a zero-initialised head, balanced classes) is torch's, not zero."""
    x = torch.full((1200, 4), 100.0, dtype=torch.float16, requires_grad=True)
    w = (torch.randn(3, 4, generator=torch.Generator().manual_seed(11)) * 0.01).half().requires_grad_()
    t = torch.zeros(1200, dtype=torch.long)
    expected = torch.autograd.grad(F.cross_entropy(F.linear(x, w), t), w)[0]
    ours = torch.autograd.grad(al.linear_cross_entropy(x, w, t, chunk_size=600), w)[0]
    assert_close(ours.float().numpy(), expected.float().numpy(), "float16", what="torch float16 dW")
    jax = need("jax")
    jnp = jax.numpy
    got = jax.grad(lambda w: al.linear_cross_entropy(jnp.asarray(x.detach().numpy()), w, jnp.asarray(t.numpy()),
                                                     chunk_size=600))(jnp.asarray(w.detach().numpy()))
    assert_close(np.asarray(got, dtype=np.float32), expected.float().numpy(), "float16", what="jax float16 dW")

    xs, ws, bs, ts = X[:4, :3], np.zeros((2, 3)), np.zeros(2), np.array([0, 1, 0, 1])
    hessian = jax.hessian(lambda b: al.linear_cross_entropy(jnp.asarray(xs), jnp.asarray(ws), jnp.asarray(ts),
                                                            linear_bias=b, chunk_size=2))(jnp.asarray(bs))
    bt = torch.tensor(bs, requires_grad=True)
    (gb,) = torch.autograd.grad(F.cross_entropy(F.linear(torch.tensor(xs), torch.tensor(ws), bt), torch.tensor(ts)),
                                bt, create_graph=True)
    rows = torch.stack([torch.autograd.grad(gb[i], bt, retain_graph=True)[0] for i in range(2)])
    assert_close(np.asarray(hessian), rows.detach().numpy(), what="jax.hessian at a zero gradient")
