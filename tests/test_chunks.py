"""Chunked evaluation (``_primitives.Chunks``): torch CPU tensors and NumPy arrays of at least a million
elements are evaluated by ``elementwise`` in chunks of rows, and ``elementwise_sum`` sums them chunk by chunk.

The conformance cases are small, so here the chunks are made tiny (5 elements, from 2 elements on): every
catalogue case of every loss then runs through the chunked paths, forward and backward, with broadcasting
arrays, uneven last chunks and every reduction, and must still equal torch.nn.  One test at the real sizes
checks the default thresholds.
"""

from __future__ import annotations

import numpy as np
import pytest

import agnostic_losses as al
import agnostic_losses._primitives as P
from agnostic_losses._primitives import _chunks, _pieces as pieces
from conformance import backends as B
from conformance import catalogue, runner

from helpers import need

torch = need("torch")


@pytest.fixture
def tiny_chunks(monkeypatch):
    """Chunks of 5 elements (rows of 5 one by one) from outputs of 2 elements on; counts the calls that were
    cut in more than one."""
    monkeypatch.setattr(pieces, "CHUNK", 5)
    monkeypatch.setattr(pieces, "CHUNKED_FROM", 2)
    plan, cut = P.Chunks.plan.__func__, []

    def counting(cls, arrays, host):
        chunks = plan(cls, arrays, host)
        if chunks is not None and len(chunks) > 1:
            cut.append(chunks)
        return chunks

    monkeypatch.setattr(P.Chunks, "plan", classmethod(counting))
    return cut


# the losses whose formulas go through elementwise or elementwise_sum on arrays of the inputs' size (the
# cosine and triplet losses' hinges are per sample: never large)
CHUNKED = ["l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "multilabel_soft_margin_loss", "gaussian_nll_loss",
           "kl_div", "margin_ranking_loss", "hinge_embedding_loss"]


@pytest.mark.parametrize("name", ["torch", "numpy"])
@pytest.mark.parametrize("loss", CHUNKED)
def test_catalogue_passes_in_tiny_chunks(name, loss, tiny_chunks):
    backend = B.make(name)
    results = runner.run(catalogue.cases([loss]), [backend])
    assert results and all(r.passed for r in results), "\n".join(
        f"{r.case}: {r.message}" for r in results if not r.passed)
    assert tiny_chunks, "no case was evaluated in more than one chunk"


@pytest.mark.parametrize("shape,weight_shape", [((1100, 1000), (1000,)), ((2, 600_000), None)])
def test_large_arrays_are_chunked_and_equal_torch(shape, weight_shape):
    """At the default sizes: BCE with logits (with a broadcast weight: rows cut; without: the flat view)
    and its gradients, against torch.nn in float64."""
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal(shape), rng.random(shape)
    w = None if weight_shape is None else rng.random(weight_shape)
    assert _chunks.plan(tuple(torch.from_numpy(a) for a in (x, t) + (() if w is None else (w,)))) is not None
    x_, t_ = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)
    w_ = None if w is None else torch.from_numpy(w)  # torch does not differentiate BCE's weight
    for reduction in ("mean", "sum", "none"):
        ours = al.binary_cross_entropy_with_logits(x_, t_, weight=w_, reduction=reduction)
        ref = torch.nn.functional.binary_cross_entropy_with_logits(x_, t_, weight=w_, reduction=reduction)
        cot = torch.rand_like(ref)
        g_ours = torch.autograd.grad(ours, (x_, t_), cot)
        g_ref = torch.autograd.grad(ref, (x_, t_), cot)
        torch.testing.assert_close(ours, ref, rtol=1e-12, atol=0)
        for a, b in zip(g_ours, g_ref):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    value = al.binary_cross_entropy_with_logits(x, t, weight=w)  # NumPy, chunked too
    np.testing.assert_allclose(value, float(torch.nn.functional.binary_cross_entropy_with_logits(
        *(torch.from_numpy(a) if a is not None else None for a in (x, t, w)))), rtol=1e-12)


def test_a_chunked_output_is_no_view_and_takes_in_place_updates():
    """A 'none' loss of a million elements (chunked) is multiplied in place, as users mask losses, and the
    gradient is still torch.nn's."""
    x = torch.randn(1024, 1024, dtype=torch.float64, requires_grad=True)
    t = torch.rand(1024, 1024, dtype=torch.float64)
    mask = (torch.arange(1024) % 3 == 0).to(torch.float64)
    grads = []
    for f in (al.binary_cross_entropy_with_logits, torch.nn.functional.binary_cross_entropy_with_logits):
        out = f(x, t, reduction="none")
        out *= mask
        grads.append(torch.autograd.grad(out.sum(), x)[0])
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-12, atol=1e-15)


@pytest.fixture
def tiny_rows(monkeypatch):
    """``row_chunk`` at 7 elements (one row of the catalogue's multi_margin_loss cases per chunk); counts
    the torch calls that went through ``RowChunks`` (chunks recomputed in one backward pass)."""
    monkeypatch.setattr(_chunks, "ROW_CHUNK", 7)
    from agnostic_losses._primitives import _torch_chunks as PT

    apply, calls = PT.RowChunks.apply, []

    def counting(*args):
        calls.append(args[1])
        return apply(*args)

    monkeypatch.setattr(PT.RowChunks, "apply", counting)
    return calls


@pytest.mark.parametrize("name", ["torch", "numpy"])
def test_multi_margin_loss_in_row_chunks_equals_torch(name, tiny_rows):
    """multi_margin_loss's rows in chunks (P.row_chunk, tiny here): every catalogue case, values and
    gradients, still torch.nn's; on torch the chunks went through RowChunks."""
    results = runner.run(catalogue.cases(["multi_margin_loss"]), [B.make(name)])
    assert results and all(r.passed for r in results), "\n".join(
        f"{r.case}: {r.message}" for r in results if not r.passed)
    assert name == "numpy" or tiny_rows, "no case went through RowChunks"


def test_row_chunks_gradients_and_double_backward_equal_one_call():
    """RowChunks (chunked under torch's eager autograd): the rows' gradients, the shared arrays' summed,
    an integer array among the rows, an array the value does not use, and the double backward
    (create_graph), against f called once on the whole rows; without ``arguments_only`` (a closure over
    a tensor that requires grad) the checkpoint loop serves and that tensor still gets its gradient."""
    from agnostic_losses._primitives import _torch_chunks as PT

    g = torch.Generator().manual_seed(5)
    a = torch.randn(7, 3, dtype=torch.float64, generator=g, requires_grad=True)
    k = torch.randint(0, 3, (7,), generator=g)
    unused = torch.randn(7, 2, dtype=torch.float64, generator=g, requires_grad=True)
    w = torch.randn(3, 2, dtype=torch.float64, generator=g, requires_grad=True)
    cot = torch.randn(7, dtype=torch.float64, generator=g)

    def f(a, k, unused, w):
        y = torch.tanh(a @ w)
        return (y * y).sum(axis=1) + torch.take_along_dim(a, k[:, None], dim=1)[:, 0] ** 3

    def grads(out):
        first = [torch.zeros_like(unused) if d is None else d for d in
                 torch.autograd.grad(out, (a, unused, w), cot, create_graph=True, allow_unused=True)]
        second = torch.autograd.grad(sum((d * d).sum() for d in first), (a, w))
        return first + list(second)

    expected = grads(f(a, k, unused, w))
    calls = []
    apply = PT.RowChunks.apply
    try:
        PT.RowChunks.apply = lambda *args: calls.append(args[1]) or apply(*args)
        for size in (1, 3, 7, 10):
            got = grads(P.chunked(f, (a, k, unused), size, shared=(w,), arguments_only=True))
            for x, y in zip(got, expected):
                torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-14)
    finally:
        PT.RowChunks.apply = apply
    assert calls == [1, 3]  # 7 and 10 rows: one chunk, f itself
    closes = lambda a, k, unused: f(a, k, unused, w)  # noqa: E731  (no arguments_only: the checkpoint loop)
    for x, y in zip(grads(P.chunked(closes, (a, k, unused), 3)), expected):
        torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-14)


def test_row_chunks_recompute_under_the_forwards_autocast():
    """Under torch.autocast the backward pass recomputes each chunk in bfloat16 as the forward pass ran it:
    the gradients equal the checkpoint loop's (which re-enters autocast), and differ from the float32
    function's (about 1%), which a recomputation outside autocast would give; linear_cross_entropy's
    gradient of its input equals one chunk's."""
    g = torch.Generator().manual_seed(6)
    x = torch.randn(64, 32, generator=g, requires_grad=True)
    w = torch.randn(16, 32, generator=g, requires_grad=True)
    t = torch.randint(0, 16, (64,), generator=g)

    def f(x, w):
        return torch.tanh(x @ w.T).sum(axis=1)

    def grads(autocast, **options):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            out = P.chunked(f, (x,), 8, shared=(w,), **options)
        return torch.autograd.grad(out.sum(), (x, w))

    ours, checkpointed, float32 = grads(True, arguments_only=True), grads(True), grads(False, arguments_only=True)
    for a, b, c in zip(ours, checkpointed, float32):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)
        assert (a - c).abs().max() > 1e-3
    lce = []
    for chunk_size in (8, 64):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            lce.append(torch.autograd.grad(al.linear_cross_entropy(x, w, t, chunk_size=chunk_size), x)[0])
    torch.testing.assert_close(lce[0], lce[1], rtol=1e-6, atol=1e-7)


def test_row_chunks_take_batched_gradients(tiny_rows):
    """A transform of the backward pass (jacobian(vectorize=True), is_grads_batched) through RowChunks:
    linear_cross_entropy's and multi_margin_loss's Jacobians equal those of one call."""
    g = torch.Generator().manual_seed(7)
    x = torch.randn(5, 3, dtype=torch.float64, generator=g)
    w = torch.randn(4, 3, dtype=torch.float64, generator=g)
    t = torch.tensor([0, 1, 2, 3, 0])
    for f in (lambda x: al.linear_cross_entropy(x, w, t, reduction="none", chunk_size=2),
              lambda x: al.multi_margin_loss(x, t % 3, p=2, reduction="none")):
        batched = torch.autograd.functional.jacobian(f, x, vectorize=True)
        expected = torch.stack([torch.autograd.grad(f(x_)[i], x_)[0] for i in range(5)
                                for x_ in [x.clone().requires_grad_()]])
        torch.testing.assert_close(batched, expected, rtol=1e-12, atol=1e-14)
    assert tiny_rows, "no call went through RowChunks"


def test_row_chunks_not_under_forward_mode(tiny_rows):
    """Forward mode (dual tensors) with requires_grad and the backward pass after the dual level: the rows
    whole (row_chunk), the gradient torch.nn's."""
    import torch.autograd.forward_ad as fwAD

    g = torch.Generator().manual_seed(8)
    x = torch.randn(6, 4, dtype=torch.float64, generator=g, requires_grad=True)
    t = torch.tensor([0, 1, 2, 3, 0, 1])
    with fwAD.dual_level():
        loss = al.multi_margin_loss(fwAD.make_dual(x, torch.ones_like(x)), t, p=2)
    ref = torch.nn.functional.multi_margin_loss(x, t, p=2)
    torch.testing.assert_close(torch.autograd.grad(loss, x)[0], torch.autograd.grad(ref, x)[0])
    assert P.row_chunk(np.zeros((6, 4))) == 1 and P.row_chunk(x) == 1  # chunks of rows elsewhere


def test_row_chunks_sum_takes_the_gradients_in_the_forward_pass():
    """chunked(..., summed=True) under torch's eager autograd (RowChunksSum): the sum of the rows' values, the
    gradients of the rows (into their rows) and of the shared arrays (summed), an integer row array and an
    unused one, against f called once on the whole rows; each chunk evaluated once (in the forward pass: the
    backward pass only scales), a second backward pass (retain_graph) equal to the first, the double
    backward (create_graph) equal to one call's; the upstream gradient a scalar other than 1."""
    from agnostic_losses._primitives import _torch_chunks as PT

    g = torch.Generator().manual_seed(9)
    a = torch.randn(7, 3, dtype=torch.float64, generator=g, requires_grad=True)
    k = torch.randint(0, 3, (7,), generator=g)
    unused = torch.randn(7, 2, dtype=torch.float64, generator=g, requires_grad=True)
    w = torch.randn(3, 2, dtype=torch.float64, generator=g, requires_grad=True)
    calls = []

    def f(a, k, unused, w):
        calls.append(a.shape[0])
        y = torch.tanh(a @ w)
        return (y * y).sum(axis=1) + torch.take_along_dim(a, k[:, None], dim=1)[:, 0] ** 3

    def first(out):
        return [torch.zeros_like(unused) if d is None else d for d in
                torch.autograd.grad(2.5 * out, (a, unused, w), create_graph=True, allow_unused=True)]

    whole = f(a, k, unused, w).sum()
    expected = first(whole)
    second = torch.autograd.grad(sum((d * d).sum() for d in expected), (a, w))
    apply, through = PT.RowChunksSum.apply, []
    try:
        PT.RowChunksSum.apply = lambda *args: through.append(args[1]) or apply(*args)
        for size in (1, 3, 7):
            calls.clear()
            out = P.chunked(f, (a, k, unused), size, shared=(w,), arguments_only=True, summed=True)
            assert out.shape == () and calls == [min(size, 7 - s) for s in range(0, 7, size)]
            torch.testing.assert_close(out, whole, rtol=1e-14, atol=0)
            for _ in range(2):  # the saved gradients serve a second backward pass unchanged
                got = torch.autograd.grad(2.5 * out, (a, unused, w), retain_graph=True, allow_unused=True)
                for x, y in zip(got, expected):
                    torch.testing.assert_close(torch.zeros_like(unused) if x is None else x, y.detach(),
                                               rtol=1e-13, atol=1e-15)
            assert calls == [min(size, 7 - s) for s in range(0, 7, size)], "the backward pass recomputed"
            twice = torch.autograd.grad(sum((d * d).sum() for d in first(out)), (a, w))
            for x, y in zip(twice, second):
                torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-14)
    finally:
        PT.RowChunksSum.apply = apply
    assert through == [1, 3]  # 7 rows: one chunk, f itself


def test_scalar_reductions_of_linear_cross_entropy_take_no_second_matrix_product(monkeypatch):
    """linear_cross_entropy 'mean' and 'sum' in chunks on torch: each chunk's logits are computed once for
    forward and backward together ('none' recomputes them in the backward pass); the values and the
    gradients (also a second backward pass) are torch.nn's."""
    import torch.nn.functional as F
    from agnostic_losses import classification as C

    g = torch.Generator().manual_seed(10)
    x = torch.randn(9, 5, dtype=torch.float64, generator=g, requires_grad=True)
    w = torch.randn(6, 5, dtype=torch.float64, generator=g, requires_grad=True)
    b = torch.randn(6, dtype=torch.float64, generator=g, requires_grad=True)
    t = torch.tensor([0, 1, 2, 3, 4, 5, -100, 1, 2])
    weight = torch.rand(6, dtype=torch.float64, generator=g) + 0.5
    products = []
    terms = C._cross_entropy_terms
    monkeypatch.setattr(C, "_cross_entropy_terms", lambda xp, logits, *rest: products.append(1) or terms(
        xp, logits, *rest))
    for reduction, expected_products in (("mean", 3), ("sum", 3), ("none", 9)):  # 3 chunks, 2 backward passes
        products.clear()
        ours = al.linear_cross_entropy(x, w, t, linear_bias=b, weight=weight, reduction=reduction,
                                       label_smoothing=0.2, chunk_size=4)
        ref = F.cross_entropy(F.linear(x, w, b), t, weight=weight, reduction=reduction, label_smoothing=0.2)
        torch.testing.assert_close(ours, ref, rtol=1e-13, atol=1e-15)
        cot = torch.rand(ref.shape, dtype=torch.float64, generator=g)
        for _ in range(2):
            got = torch.autograd.grad(ours, (x, w, b), cot, retain_graph=True)
            for y, e in zip(got, torch.autograd.grad(ref, (x, w, b), cot, retain_graph=True)):
                torch.testing.assert_close(y, e, rtol=1e-12, atol=1e-14)
        assert len(products) == expected_products, (reduction, products)
