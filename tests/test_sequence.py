"""ctc_loss: contract, the forms torch accepts, the leaf-gradient quirk, jit, errors; against torch.nn.

Every option, shape and dtype is in the conformance catalogue (gradients
through log_softmax); these tests pin what a user relies on beyond it.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import agnostic_losses as al

from helpers import TOLERANCES, assert_close, error, need

torch = need("torch")
F = torch.nn.functional

RNG = np.random.default_rng(5)
T, N, C = 8, 3, 5
LOGITS = RNG.standard_normal((T, N, C))
LOG_PROBS = LOGITS - np.log(np.exp(LOGITS).sum(-1, keepdims=True))
TARGETS = np.array([[1, 1, 2], [3, 4, 0], [2, 2, 2]])  # repeats; padding after the length
INPUT_LENGTHS = np.array([8, 6, 7])
TARGET_LENGTHS = np.array([3, 2, 3])


def theirs(log_probs=LOG_PROBS, targets=TARGETS, input_lengths=INPUT_LENGTHS, target_lengths=TARGET_LENGTHS,
           **options):
    t = lambda a: torch.tensor(a) if isinstance(a, np.ndarray) else a
    return F.ctc_loss(t(log_probs), t(targets), t(input_lengths), t(target_lengths), **options).numpy()


def test_signature_is_torchs():
    assert [(p.name, p.default) for p in inspect.signature(al.ctc_loss).parameters.values()] == \
           [(p.name, p.default) for p in inspect.signature(F.ctc_loss).parameters.values()]


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_lengths_as_arrays_tuples_and_narrow_integers(reduction):
    expected = theirs(reduction=reduction)
    for lengths in ((INPUT_LENGTHS, TARGET_LENGTHS), (tuple(INPUT_LENGTHS.tolist()), tuple(TARGET_LENGTHS.tolist())),
                    (list(INPUT_LENGTHS.tolist()), list(TARGET_LENGTHS.tolist())),
                    (INPUT_LENGTHS.astype(np.int32), TARGET_LENGTHS.astype(np.uint8))):
        assert_close(al.ctc_loss(LOG_PROBS, TARGETS, *lengths, reduction=reduction), expected)


def test_concatenated_targets_and_unbatched_input():
    flat = np.concatenate([row[:n] for row, n in zip(TARGETS, TARGET_LENGTHS)])
    assert_close(al.ctc_loss(LOG_PROBS, flat, INPUT_LENGTHS, TARGET_LENGTHS, reduction="none"),
                 theirs(targets=flat, reduction="none"))
    one = LOG_PROBS[:, 0]
    expected = theirs(one, TARGETS[0], np.array(8), np.array(3), reduction="none")
    assert expected.shape == ()
    for lengths in ((np.array(8), np.array(3)), (8, 3), ((8,), (3,))):
        out = al.ctc_loss(one, TARGETS[0], *lengths, reduction="none")
        assert out.shape == ()
        assert_close(out, expected)
    # the one sequence padded, (1, S): torch reads it as a batch of one (found by the fuzz)
    padded = np.array([[2, 4, 0, 1]])
    expected = theirs(one, padded, np.array(8), np.array(2), reduction="none")
    assert_close(al.ctc_loss(one, padded, 8, 2, reduction="none"), expected)


def test_true_gradient_for_a_leaf_and_torchs_through_log_softmax():
    """torch's gradient for a leaf log_probs adds exp(log_probs) where t < input length (pytorch
    issue 52241); ours is the true gradient.  Through log_softmax both are the same."""
    lp = torch.tensor(LOG_PROBS, requires_grad=True)
    args = (torch.tensor(TARGETS), torch.tensor(INPUT_LENGTHS), torch.tensor(TARGET_LENGTHS))
    (torch_leaf,) = torch.autograd.grad(F.ctc_loss(lp, *args, reduction="sum"), lp)
    ours_lp = lp.detach().clone().requires_grad_()
    (ours_leaf,) = torch.autograd.grad(al.ctc_loss(ours_lp, *args, reduction="sum"), ours_lp)
    running = (np.arange(T)[:, None] < INPUT_LENGTHS[None, :])[..., None]
    assert_close(ours_leaf.numpy(), torch_leaf.numpy() - np.exp(LOG_PROBS) * running, what="leaf gradient")
    # the true gradient: a finite difference of the loss
    step = np.zeros_like(LOG_PROBS)
    step[2, 1, 3] = 1e-6
    slope = (al.ctc_loss(LOG_PROBS + step, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS, reduction="sum")
             - al.ctc_loss(LOG_PROBS - step, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS, reduction="sum")) / 2e-6
    assert abs(slope - ours_leaf.numpy()[2, 1, 3]) < 1e-6

    for fn, name in ((F.ctc_loss, "torch"), (al.ctc_loss, "ours")):
        x = torch.tensor(LOGITS, requires_grad=True)
        (g,) = torch.autograd.grad(fn(x.log_softmax(-1), *args, reduction="sum"), x)
        if name == "torch":
            expected = g.numpy()
    assert_close(g.numpy(), expected, what="gradient through log_softmax")


def test_impossible_alignment():
    """Sequence 2 needs 5 steps for its 3 labels with repeats; it has 4."""
    lengths = np.array([8, 6, 4])
    x = torch.tensor(LOGITS, requires_grad=True)
    args = (torch.tensor(TARGETS), torch.tensor(lengths), torch.tensor(TARGET_LENGTHS))
    out = al.ctc_loss(x.log_softmax(-1), *args, reduction="none")
    assert np.isinf(out[2].item()) and np.isfinite(out[:2].detach().numpy()).all()
    for reduction in ("none", "mean", "sum"):
        ours = al.ctc_loss(x.log_softmax(-1), *args, reduction=reduction, zero_infinity=True)
        ref = F.ctc_loss(x.log_softmax(-1), *args, reduction=reduction, zero_infinity=True)
        assert_close(ours.detach().numpy(), ref.detach().numpy())
        cot = torch.ones_like(ref)
        (g_ours,) = torch.autograd.grad(ours, x, cot)
        (g_ref,) = torch.autograd.grad(ref, x, cot)
        assert_close(g_ours.numpy(), g_ref.numpy(), what=f"{reduction} gradient")
        assert not g_ours[:, 2].any()  # the impossible sequence passes nothing back


@pytest.mark.parametrize("library", ["numpy", "torch"])
def test_a_nan_first_step_reaches_only_the_states_paths_start_in(library):
    """torch starts the paths in states 0 and 1: the others are -inf at the first step whatever their
    log-probability, so an impossible sequence's loss is inf though its first step is NaN (log_softmax of a +inf
    logit, found by the fuzz); a possible one's is NaN."""
    logits = LOGITS.copy()
    logits[0, :2, 0] = np.inf
    lengths = np.array([8, 2, 7])  # sequence 1 needs 2 labels in 2 steps: possible; sequence 0 in 8
    lp = torch.tensor(logits).log_softmax(-1)
    args = (TARGETS, lengths, np.array([3, 2, 3]))
    ref = theirs(lp.numpy(), *args, reduction="none")
    short = theirs(lp.numpy(), TARGETS, np.array([8, 1, 7]), np.array([3, 2, 3]), reduction="none")
    assert np.isnan(ref[:2]).all() and np.isinf(short[1])  # torch: NaN where possible, inf where not
    for lengths, expected in ((lengths, ref), (np.array([8, 1, 7]), short)):
        data = lp if library == "torch" else lp.numpy()
        ours = al.ctc_loss(data, *(torch.tensor(a) if library == "torch" else a for a in
                                   (TARGETS, lengths, np.array([3, 2, 3]))), reduction="none")
        assert_close(np.asarray(ours), expected)
    # with zero_infinity the impossible sequence passes nothing back, NaN first step or not (torch: 0)
    leaf = lp.clone().requires_grad_()
    args = (torch.tensor(TARGETS), torch.tensor([8, 2, 7]), torch.tensor([3, 3, 3]))  # 3 labels in 2 steps
    for fn in (al.ctc_loss, F.ctc_loss):
        (grad,) = torch.autograd.grad(fn(leaf, *args, reduction="none", zero_infinity=True)[1], leaf)
        assert not grad[:, 1].any()


GRADIENT_CASES = {  # (input_lengths, target_lengths, zero_infinity)
    "varied lengths": ([8, 6, 7], [3, 2, 3], False),
    "an empty target and an empty input": ([8, 0, 7], [3, 0, 0], False),
    "an impossible alignment": ([8, 6, 4], [3, 2, 3], True),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", list(GRADIENT_CASES))
def test_torch_gradient_is_the_backward_recursion(case, dtype, monkeypatch):
    """Under torch's eager autograd the gradient is the backward recursion's (``_primitives.custom_vjp``:
    one autograd.Function), not autograd's replay of the forward loop: it equals torch's through
    log_softmax, and autograd's through the same loop (the generic primitives, no Function), for every
    reduction."""
    from agnostic_losses import sequence

    calls = []
    recursion = sequence._gradient
    monkeypatch.setattr(sequence, "_gradient", lambda *a: calls.append(1) or recursion(*a))
    input_lengths, target_lengths, zero_infinity = GRADIENT_CASES[case]
    args = (torch.tensor(TARGETS), torch.tensor(input_lengths), torch.tensor(target_lengths))
    for reduction in ("none", "mean", "sum"):
        cot = torch.tensor(RNG.standard_normal(N) if reduction == "none" else 1.7, dtype=getattr(torch, dtype))
        grads = {}
        for name, fn, generic in (("torch", F.ctc_loss, False), ("ours", al.ctc_loss, False),
                                  ("autograd", al.ctc_loss, True)):
            x = torch.tensor(LOGITS, dtype=getattr(torch, dtype), requires_grad=True)
            with al.generic_primitives(generic):
                out = fn(x.log_softmax(-1), *args, reduction=reduction, zero_infinity=zero_infinity)
            (grads[name],) = torch.autograd.grad(out, x, cot)
        for name in ("torch", "autograd"):
            assert_close(grads["ours"].numpy(), grads[name].numpy(), dtype, what=f"{reduction}: ours vs {name}")
        assert torch.isfinite(grads["ours"]).all()
    assert len(calls) == 3  # once per reduction: the Function's backward ran, the generic path's did not


@pytest.mark.parametrize("steps_a_block", [1, 3, T])
def test_torch_reverse_mode_in_blocks_of_steps(steps_a_block, monkeypatch):
    """The reverse mode computes the shares of a block of steps at once and carries the posteriors from one
    block into the next: blocks of one step, of three (8 = 3 + 3 + 2, sequences ending inside a block)
    and all steps in one give torch's gradients, for every case."""
    from agnostic_losses import sequence

    monkeypatch.setattr(sequence, "_BLOCK", steps_a_block * N * (2 * TARGETS.shape[1] + 1))
    for case, (input_lengths, target_lengths, zero_infinity) in GRADIENT_CASES.items():
        args = (torch.tensor(TARGETS), torch.tensor(input_lengths), torch.tensor(target_lengths))
        grads = []
        for fn in (al.ctc_loss, F.ctc_loss):
            x = torch.tensor(LOGITS, requires_grad=True)
            out = fn(x.log_softmax(-1), *args, reduction="sum", zero_infinity=zero_infinity)
            grads.append(torch.autograd.grad(out, x)[0].numpy())
        assert_close(grads[0], grads[1], what=f"{case}, {steps_a_block} steps a block")


def test_jax_gradient_is_the_backward_recursion(monkeypatch):
    """On JAX too the gradient is the hand-written reverse mode's (``P.custom_vjp``: a ``jax.custom_jvp``
    whose tangent is the transposed backward recursion): equal to torch's through log_softmax and to JAX's
    autodiff through the same loop (the generic primitives) in every case, one gradient per sequence
    (reduction 'none') and 'mean'; forward mode (``jax.jvp``), the Hessian-vector product (forward over
    reverse) and a vmap of the gradient over targets equal autodiff's.  (float32 and the other options:
    the conformance suite, whose JAX cases take this path too.)"""
    jax = need("jax")
    jnp = jax.numpy
    from agnostic_losses import sequence

    calls = []
    recursion = sequence._gradient
    monkeypatch.setattr(sequence, "_gradient", lambda *a: calls.append(1) or recursion(*a))

    def loss(x, targets, input_lengths, target_lengths, cot, reduction, zero_infinity):
        out = al.ctc_loss(jax.nn.log_softmax(x, -1), targets, input_lengths, target_lengths,
                          reduction=reduction, zero_infinity=zero_infinity)
        return jnp.sum(out * cot)

    static = ("reduction", "zero_infinity")
    x, direction = jnp.asarray(LOGITS), jnp.asarray(RNG.standard_normal(LOGITS.shape))
    for case, reduction in [(case, "none") for case in GRADIENT_CASES] + [("varied lengths", "mean")]:
        input_lengths, target_lengths, zero_infinity = GRADIENT_CASES[case]
        cot = RNG.standard_normal(N) if reduction == "none" else np.array(1.7)
        xt = torch.tensor(LOGITS, requires_grad=True)
        ref = F.ctc_loss(xt.log_softmax(-1), torch.tensor(TARGETS), torch.tensor(input_lengths),
                         torch.tensor(target_lengths), reduction=reduction, zero_infinity=zero_infinity)
        (expected,) = torch.autograd.grad(ref, xt, torch.tensor(cot))
        args = (jnp.asarray(TARGETS), jnp.asarray(input_lengths), jnp.asarray(target_lengths), jnp.asarray(cot))
        options = {"reduction": reduction, "zero_infinity": zero_infinity}
        for generic in (False, True):  # ours; JAX's autodiff through the forward loop
            calls.clear()
            with al.generic_primitives(generic):
                got = jax.jit(jax.grad(loss), static_argnames=static)(x, *args, **options)
            assert bool(calls) != generic, f"{case}, {reduction}: the reverse mode ran {len(calls)} times"
            assert_close(np.asarray(got), expected.numpy(), what=f"{case}, {reduction}, generic {generic}")
    # the last case's, forward mode and the Hessian-vector product, and a vmap of the gradient
    results = []
    for generic in (False, True):
        with al.generic_primitives(generic):
            tangent = jax.jit(lambda x, d: jax.jvp(lambda x: loss(x, *args, **options), (x,), (d,))[1])
            hvp = jax.jit(lambda x, d: jax.jvp(jax.grad(lambda x: loss(x, *args, **options)), (x,), (d,))[1])
            results.append((tangent(x, direction), hvp(x, direction)))
    for ours, autodiff, what in zip(*results, ("jvp", "hvp")):
        assert_close(np.asarray(ours), np.asarray(autodiff), what=what)
    targets = jnp.stack([jnp.asarray(TARGETS), jnp.asarray(TARGETS[::-1])])
    batched = jax.jit(jax.vmap(lambda t: jax.grad(loss)(x, t, *args[1:], **options)))(targets)
    for i in range(2):
        one = jax.jit(jax.grad(loss), static_argnames=static)(x, targets[i], *args[1:], **options)
        assert_close(np.asarray(batched[i]), np.asarray(one), what=f"vmap of the gradient, {i}")


def _peaked():
    logits = np.random.default_rng(3).standard_normal((10, 2, 6)) * 100
    return logits, [[1, 4, 3], [2, 2, 1]], [10, 9], [3, 3]


def _one_step_of_1e4():
    logits = np.random.default_rng(4).standard_normal((6, 2, 5))
    logits[0, :, 0] = 1e4  # every path starts with a log-probability of about -1e4 (found by the fuzz)
    return logits, [[2, 2, 2], [1, 1, 0]], [4, 5], [1, 2]


def _long():
    logits = np.random.default_rng(5).standard_normal((200, 2, 20)) * 3
    return logits, np.random.default_rng(6).integers(1, 20, (2, 30)), [200, 180], [30, 25]


@pytest.mark.parametrize("case", [_peaked, _one_step_of_1e4, _long], ids=["peaked", "one-step-of-1e4", "long"])
def test_torch_float32_gradient_keeps_its_precision_where_log_p_is_large(case):
    """Log-space sums of the size of ``|log p|`` round by ``eps |log p|``; ``exp`` turns that into a relative
    error of the gradient.  Posteriors as ``exp(alpha + beta - log p)`` (torch's) are 8e-5 off for peaked logits
    and 3e-4 over 200 steps; unshifted forward variables were 4e-5 off over 200 steps.  The hand-written reverse
    mode takes ratios of nearby values of forward variables shifted to 0 at each step: float32's precision,
    against float64 torch, judged normwise as the conformance suite judges gradients through log_softmax."""
    logits, targets, input_lengths, target_lengths = case()
    args = (torch.tensor(targets), torch.tensor(input_lengths), torch.tensor(target_lengths))
    grads = []
    for dtype, fn in ((torch.float32, al.ctc_loss), (torch.float64, F.ctc_loss)):
        x = torch.tensor(logits.astype(np.float32), dtype=dtype, requires_grad=True)
        grads.append(torch.autograd.grad(fn(x.log_softmax(-1), *args, reduction="sum"), x)[0].numpy())
    err = error(grads[0], grads[1], "float32", normwise=True)
    assert err <= TOLERANCES["float32"][0], f"float32 gradient vs float64 torch: error {err:.3g}"


def test_torch_double_backward_and_batched_gradients_through_the_recursion():
    """torch has no double backward for ctc_loss; ours differentiates its forward recursion again under
    create_graph, and matches a central difference of the gradient in float64.  A vmap of the backward
    pass (``is_grads_batched``) gives the gradients one at a time."""
    args = (torch.tensor(TARGETS), torch.tensor(INPUT_LENGTHS), torch.tensor(TARGET_LENGTHS))
    x = torch.tensor(LOGITS, requires_grad=True)
    direction = torch.tensor(RNG.standard_normal(LOGITS.shape))

    def gradient(x, create_graph=False):
        return torch.autograd.grad(al.ctc_loss(x.log_softmax(-1), *args), x, create_graph=create_graph)[0]

    (hvp,) = torch.autograd.grad((gradient(x, create_graph=True) * direction).sum(), x)
    step = 1e-6
    shifted = [(x.detach() + sign * step * direction).requires_grad_() for sign in (1, -1)]
    central = (gradient(shifted[0]) - gradient(shifted[1])) / (2 * step)
    np.testing.assert_allclose(hvp.numpy(), central.numpy(), rtol=1e-5, atol=1e-7)

    out = al.ctc_loss(x.log_softmax(-1), *args, reduction="none")
    (batched,) = torch.autograd.grad(out, x, torch.eye(N, dtype=out.dtype), is_grads_batched=True,
                                 retain_graph=True)
    for i in range(N):
        (one,) = torch.autograd.grad(out[i], x, retain_graph=True)
        assert_close(batched[i].numpy(), one.numpy(), what=f"batched gradient {i}")


def test_long_sequences_stay_finite_in_float32():
    steps = 400
    logits = np.random.default_rng(0).standard_normal((steps, 2, 6)).astype(np.float32) * 4
    lp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    targets = np.random.default_rng(1).integers(1, 6, (2, 60))
    ours = al.ctc_loss(lp, targets, np.array([400, 350]), np.array([60, 45]), reduction="none")
    ref = theirs(lp.astype(np.float64), targets, np.array([400, 350]), np.array([60, 45]), reduction="none")
    assert np.isfinite(ours).all()
    assert_close(ours, ref, "float32")


def test_jit_compiles_one_loop_whatever_t_with_traced_lengths():
    jax = need("jax")
    jnp = jax.numpy
    fn = jax.jit(jax.value_and_grad(lambda lp, t, il, tl: al.ctc_loss(lp, t, il, tl)))
    sizes = []
    for steps in (50, 500):
        lp = jnp.asarray(np.log(np.full((steps, N, C), 1.0 / C)))
        args = (lp, jnp.asarray(TARGETS), jnp.full((N,), steps), jnp.asarray(TARGET_LENGTHS))
        text = fn.lower(*args).as_text()
        assert "while" in text
        sizes.append(len(text.replace(str(steps), "")))
        value, _ = fn(*args)
        expected = theirs(np.asarray(lp), TARGETS, np.full(N, steps), TARGET_LENGTHS)
        assert_close(np.asarray(value), expected)
    assert abs(sizes[0] - sizes[1]) < 200, "the compiled program grows with T"


def test_bad_input_is_refused_clearly_and_nothing_is_mutated():
    before = [a.copy() for a in (LOG_PROBS, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS)]
    bad = {
        "log_probs must have shape": dict(log_probs=LOG_PROBS[0, 0]),
        "log_probs must have a real floating dtype": dict(log_probs=TARGETS[None]),
        "targets must have an integer dtype": dict(targets=TARGETS.astype(float)),
        "input_lengths must have shape": dict(input_lengths=INPUT_LENGTHS[:2]),
        "input_lengths must hold lengths in": dict(input_lengths=np.array([9, 6, 7])),
        "target_lengths must hold lengths in": dict(target_lengths=np.array([4, 2, 3])),
        "targets must hold class indices": dict(targets=np.array([[1, 7, 2], [3, 4, 0], [2, 2, 2]])),
        "adding up to": dict(targets=np.array([1, 2, 3])),
        "blank must be a class index": dict(blank=5),
        "input_lengths must be an integer array": dict(input_lengths=[8.0, 6.0, 7.0]),
        "targets must have shape": dict(targets=TARGETS[None]),
    }
    base = dict(log_probs=LOG_PROBS, targets=TARGETS, input_lengths=INPUT_LENGTHS, target_lengths=TARGET_LENGTHS)
    for message, change in bad.items():
        with pytest.raises((ValueError, TypeError), match=f"ctc_loss: .*{message}"):
            al.ctc_loss(**{**base, **change})
    with pytest.raises(TypeError, match="ctc_loss: all arrays must come from one array library"):
        al.ctc_loss(torch.tensor(LOG_PROBS), TARGETS, INPUT_LENGTHS, TARGET_LENGTHS)
    for a, b in zip(before, (LOG_PROBS, TARGETS, INPUT_LENGTHS, TARGET_LENGTHS)):
        np.testing.assert_array_equal(a, b)


def test_jax_default_32_bit_mode_needs_no_int64():
    """Without jax_enable_x64 (JAX's default), lengths and class indices stay in JAX's int32: no
    'int64 is not available' warnings (the suite itself runs with x64, so this is a subprocess)."""
    need("jax")
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import warnings, numpy as np, jax, jax.numpy as jnp, agnostic_losses as al\n"
        "warnings.simplefilter('error')\n"
        "lp = jax.nn.log_softmax(jnp.asarray(np.random.default_rng(0).standard_normal((8, 2, 5)), jnp.float32))\n"
        "t = jnp.asarray([[1, 2], [3, 3]])\n"
        "a = al.ctc_loss(lp, t, (8, 8), (2, 2))\n"
        "b = jax.jit(al.ctc_loss)(lp, t, jnp.asarray([8, 8], jnp.uint8), jnp.asarray([2, 2]))\n"
        "c = al.ctc_loss(lp, jnp.asarray([1, 2, 3, 3]), jnp.asarray([8, 8]), jnp.asarray([2, 2]))\n"
        "assert abs(float(a) - float(b)) < 1e-5 and abs(float(a) - float(c)) < 1e-5\n"
        "y = jnp.asarray([0, 1, 2, 3], jnp.uint8)\n"
        "al.cross_entropy(jnp.ones((4, 5)), y), al.multi_margin_loss(jnp.ones((4, 5)), y)\n"
        "al.linear_cross_entropy(jnp.ones((4, 3)), jnp.ones((5, 3)), y)\n"
        "m = al.multilabel_margin_loss(jnp.ones((4, 5)), jnp.asarray([[0, 1, -1, 0, 0]] * 4))\n"
        "assert m.dtype == jnp.float32 and abs(float(m) - 1.2) < 1e-6\n"  # 2 slots x 3 hinges of 1, / C = 5
    )
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "JAX_ENABLE_X64": "0", "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
