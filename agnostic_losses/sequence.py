"""Connectionist temporal classification: ``ctc_loss``, torch.nn.functional's semantics.

The forward variables of Graves et al. (2006) in log space, one time step per
``scan`` step: on JAX a ``jax.lax.scan``, so ``jax.jit`` compiles one loop
body whatever T is; elsewhere a Python loop.  Gradients are the true gradients
with respect to ``log_probs``: on torch under eager autograd and on JAX
those of a hand-written reverse mode of the recursion (``P.custom_vjp``), where
autodiff's replay of the loop keeps several arrays per step and a reverse step
is a handful of operations.  On torch the forward pass keeps only the forward
variables, as torch's kernel does; on JAX the recursion runs as JAX
linearises the loss, and what the backward pass keeps is its result, the
(T, N, C) gradient before the upstream gradient multiplies it.  Elsewhere
(``torch.compile``, the ``torch.func`` transforms) the gradient is autodiff's
through the forward recursion.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

from . import _checks as checks
from . import _primitives as P
from ._reduction import reduce as _reduce
from ._setup import setup, silent_nonfinite
from ._typing import Array

__all__ = ["ctc_loss"]

# About the values of each term whose shares the reverse mode computes at once: large enough that a block's
# steps are few array operations, small enough that the peak memory stays torch's (benchmarks/HISTORY.md).
_BLOCK = 2**16


def _lengths(loss, xp, name, lengths, n, batched, like):
    """Lengths given as an array, a tuple/list of ints or an int, as an integer array of shape (n,)."""
    if P.is_array(lengths):
        checks.namespace(loss, **{name: lengths, "log_probs": like})
        checks.integral(loss, xp, name, lengths, "one length per sequence")
        lengths = P.wide_indices(lengths)
    elif isinstance(lengths, numbers.Integral) or (
            isinstance(lengths, (tuple, list)) and all(isinstance(v, numbers.Integral) for v in lengths)):
        lengths = xp.asarray(lengths, device=P.device(like))  # the default integer dtype
    else:
        raise TypeError(f"{loss}: {name} must be an integer array, a tuple of ints or an int, "
                        f"got {type(lengths).__name__}")
    expected = (n,) if batched else ()
    if tuple(lengths.shape) not in (expected, (n,)):
        raise ValueError(f"{loss}: {name} must have shape {expected} (one length per sequence), "
                         f"got {tuple(lengths.shape)}")
    return xp.reshape(lengths, (n,))


def _padded(xp, targets, target_lengths):
    """Concatenated 1-D targets as a padded ``(N, S)`` array.

    S is the longest target where the lengths can be read, else the total
    length (under ``jax.jit``: a static shape that holds every target).
    """
    total = targets.shape[0]
    known = P.host_values(target_lengths)
    width = int(known.max()) if known is not None and known.size else total
    n = target_lengths.shape[0]
    if width == 0 or total == 0:
        return xp.zeros((n, 0), dtype=targets.dtype, device=P.device(targets))
    ends = P.cumulative_sum(target_lengths)
    position = xp.arange(width, device=P.device(targets))
    index = P.clip((ends - target_lengths)[:, None] + position[None, :], 0, total - 1)
    return xp.reshape(xp.take(targets, xp.reshape(index, (-1,))), (n, width))


def _logsumexp(xp, terms):
    """``log(sum(exp(terms), axis=0))`` over the first axis: -inf where every term is -inf, with zero
    (not NaN) gradients there, so unreachable states pass nothing back."""
    m, _, total = _shifted_exponentials(xp, terms)
    return m + xp.log(total)


def _shifted_exponentials(xp, terms):
    """``m``, the largest of the terms along the first axis (held constant); the terms' exponentials
    shifted by it; their sum, at least 1/2.

    The shift is ``m`` clipped to the finite range, so that no difference is
    ``inf - inf``; the sum is at least 1 wherever a term is finite (the
    largest gives ``exp(0)``), and where all are -inf it is taken as 1/2 (the
    log-sum-exp ``m + log`` stays -inf, with gradient 0).  Differences below
    -80 are clipped there, before ``exp``: ``exp(-80)``, 1.8e-35, is below
    half an ulp of the sum in float32 and float64 alike, so the sum is the
    same, and the clipped terms' gradients are 0 (on CPUs ``exp`` of a value
    that underflows, or of -inf, is several times slower than of a normal one).
    All terms go through each operation at once: one array operation each
    for the three terms of a step (on torch's eager path an operation's
    dispatch outweighs its arithmetic at these sizes)."""
    m = P.stop_gradient(xp.max(terms, axis=0))
    info = xp.finfo(m.dtype)
    exps = xp.exp(P.clip(terms - P.clip(m, float(info.min), float(info.max)), -80.0))
    return m, exps, P.clip(xp.sum(exps, axis=0), 0.5)


def _entries(xp, alpha, barred):
    """The three terms a step adds up for each state s, stacked ``(3, ..., states)`` (``alpha`` of one
    step, ``(N, states)``, or of several): from s (stay), s - 1 (advance) and s - 2 (skip).  ``barred`` is
    -inf where the rules forbid a term (a skip that repeats a label or leaves a blank, the moves from
    before state 0), else 0, and is added (an addition costs less than a ``where`` on torch's CPU)."""
    before = xp.broadcast_to(barred[2, ..., :2], (*alpha.shape[:-1], 2))  # -inf
    shifted = xp.concat([before, alpha], axis=-1)  # shifted[..., s + 2] is alpha[..., s]
    return xp.stack([alpha, shifted[..., 1:-1], shifted[..., :-2]], axis=0) + barred


@silent_nonfinite
def ctc_loss(log_probs: Array, targets: Array, input_lengths: Array | Sequence[int] | int,
             target_lengths: Array | Sequence[int] | int, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Array:
    """CTC loss, as ``torch.nn.functional.ctc_loss``.

    Args:
        log_probs: ``(T, N, C)`` or unbatched ``(T, C)`` log-probabilities
            (e.g. ``log_softmax`` of logits over C, blank included).
        targets: class indices, padded ``(N, S)`` (``(S,)`` or ``(1, S)``
            unbatched) or the N targets concatenated ``(sum(target_lengths),)``.
        input_lengths: the length of each input sequence, as an integer
            array, a tuple of ints, or an int when unbatched.  Under
            ``jax.jit`` it may be traced.
        target_lengths: the length of each target sequence, in the same forms; under ``jax.jit`` it may be
            traced too.
        blank: the blank class.
        reduction: ``'none' | 'mean' | 'sum'``; ``'mean'`` divides each loss by
            its target length (at least 1), then averages over the batch.
        zero_infinity: impossible alignments (infinite loss) give 0 and a
            zero gradient.

    The gradient is the true derivative with respect to ``log_probs``.
    torch's differs for a leaf ``log_probs`` (pytorch issue 52241: it adds
    ``exp(log_probs)``); through ``log_softmax``, the way CTC is used, both
    are the same.  An impossible alignment without ``zero_infinity`` has an
    infinite loss and a zero gradient here (torch's is NaN).
    """
    loss = "ctc_loss"
    s = setup(loss, reduction, {"log_probs": log_probs, "targets": targets}, indices=("targets",))
    xp = s.xp
    checks.integral(loss, xp, "targets", targets, "class indices")
    if log_probs.ndim not in (2, 3):
        raise ValueError(f"{loss}: log_probs must have shape (T, N, C) or (T, C), got {tuple(log_probs.shape)}")
    if math.prod(log_probs.shape) == 0:
        raise ValueError(f"{loss}: log_probs must not be empty, got shape {tuple(log_probs.shape)}")
    batched = log_probs.ndim == 3
    steps, classes = log_probs.shape[0], log_probs.shape[-1]
    n = log_probs.shape[1] if batched else 1
    if isinstance(blank, bool) or not isinstance(blank, numbers.Integral) or not 0 <= blank < classes:
        raise ValueError(f"{loss}: blank must be a class index in [0, {classes}), got {blank!r}")
    input_lengths = _lengths(loss, xp, "input_lengths", input_lengths, n, batched, log_probs)
    target_lengths = _lengths(loss, xp, "target_lengths", target_lengths, n, batched, log_probs)
    checks.values(loss, "input_lengths", input_lengths, lambda v: (v >= 0) & (v <= steps),
                  f"lengths in [0, {steps}] (T)", within=(0, steps))
    if not batched:
        if targets.ndim == 1:
            targets = xp.expand_dims(targets, axis=0)
        elif targets.ndim != 2 or targets.shape[0] != 1:  # (1, S): the one sequence padded, as torch reads it
            raise ValueError(f"{loss}: unbatched targets must have shape (S,) or (1, S), got {tuple(targets.shape)}")
    elif targets.ndim == 1:
        checks.values(loss, "target_lengths", target_lengths, lambda v: (v >= 0) & (v.sum() == targets.shape[0]),
                      f"lengths >= 0 adding up to the {targets.shape[0]} concatenated targets")
        targets = _padded(xp, targets, target_lengths)
    elif targets.ndim != 2 or targets.shape[0] != n:
        raise ValueError(f"{loss}: targets must have shape ({n}, S) (padded) or (sum(target_lengths),) "
                         f"(concatenated), got {tuple(targets.shape)}")
    width = targets.shape[1]
    checks.values(loss, "target_lengths", target_lengths, lambda v: (v >= 0) & (v <= width),
                  f"lengths in [0, {width}] (the padded targets' S)", within=(0, width))
    # what lies past a target's length is padding, of any value: made blank
    targets = xp.where(xp.arange(width, device=P.device(targets))[None, :] < target_lengths[:, None],
                       targets, xp.full_like(targets, blank))
    checks.indices(loss, "targets", targets, 0, classes, f"class indices in [0, {classes})")

    log_probs = s.arrays[0] if batched else xp.expand_dims(s.arrays[0], axis=1)  # in working precision
    nll = _negative_log_likelihood(xp, log_probs, targets, input_lengths, target_lengths, blank)
    if zero_infinity:
        nll = xp.where(xp.isinf(nll), xp.zeros_like(nll), nll)
    if reduction == "mean":
        per_label = xp.astype(P.clip(target_lengths, 1, None), nll.dtype)
        out = _reduce(nll / per_label, "mean")
    else:
        out = _reduce(nll if batched else nll[0], reduction)
    return s.finish(out)


def _negative_log_likelihood(xp, log_probs, targets, input_lengths, target_lengths, blank):
    """``-log p(target | log_probs)`` per sequence, shape (N,)."""
    steps, n, _ = log_probs.shape
    dev = P.device(log_probs)
    # the extended labels: blank, y1, blank, y2, ..., yS, blank
    last_blank = xp.full((n, 1), blank, dtype=targets.dtype, device=dev)
    if targets.shape[1] == 0:  # no labels: one unused column keeps the slices below in bounds
        targets = last_blank
    pairs = xp.stack([xp.full_like(targets, blank), targets], axis=2)
    ext = xp.concat([xp.reshape(pairs, (n, -1)), last_blank], axis=1)
    # state s may be entered from s - 2 when its label differs from that of s - 2 (torch's rule)
    jump = xp.concat([xp.zeros((n, 2), dtype=xp.bool, device=dev), ext[:, 2:] != ext[:, :-2]], axis=1)
    free = xp.zeros(jump.shape, dtype=log_probs.dtype, device=dev)
    barred = xp.stack([free, free, xp.where(jump, free, xp.full_like(free, -xp.inf))], axis=0)  # stay, advance, skip
    active = (xp.arange(steps, device=dev)[:, None] < input_lengths[None, :])[..., None]  # (T, N, 1)
    return P.custom_vjp(_alphas, _gradient, log_probs, ext, barred, active, 2 * target_lengths)


def _alphas(log_probs, ext, barred, active, end, keep=False):
    """The forward recursion: ``(-log p, (alphas, log p - offset))`` (the second with ``keep``).

    ``alphas[t, n, s]`` is the log-probability of the paths through state s
    at step t, its emission included, less the largest of that step (their
    sum, ``offset``, is added back to ``log p``): unshifted, the sums would
    grow to the size of ``|log p|`` and round by ``eps |log p|``, which ``exp``
    turns into a relative error of the gradient's shares.  Steps past a
    sequence's length keep its last."""
    xp = P.array_namespace(log_probs)
    state = xp.arange(ext.shape[1], device=P.device(log_probs))

    def step(alpha, inputs):
        log_probs_t, active_t, start_t = inputs
        # a gather a step: of all steps at once, its gradient (a scatter-add) is slower under jax.jit
        new = _logsumexp(xp, _entries(xp, alpha, barred)) + P.take_along_axis(log_probs_t, ext, axis=1)
        new = xp.where(start_t, new, impossible)
        # a step whose largest state is not finite (all -inf, or a NaN or inf log-probability) is not shifted:
        # its states stay what the paths give, as unshifted (a NaN reaches only the states its paths reach)
        top = P.shift_max(new, axis=-1)
        alpha = xp.where(active_t, new - top, alpha)
        return alpha, ((alpha, top) if keep else top)

    # the first step, as torch's: the paths start in state 0 or 1, the others are -inf whatever their
    # log-probability (a NaN too); before it, all probability sits on a virtual state 0
    impossible = xp.full_like(barred[0, ...], -xp.inf)
    starts = (xp.arange(log_probs.shape[0], device=P.device(log_probs))[:, None, None] > 0) | (state < 2)
    alpha = xp.where(state == 0, xp.zeros_like(impossible), impossible)
    alpha, ys = P.scan(step, alpha, (log_probs, active, starts))
    alphas, tops = ys if keep else (None, ys)
    offset = xp.sum(xp.where(active, tops, xp.zeros_like(tops)), axis=(0, 2))
    last = xp.squeeze(P.take_along_axis(alpha, end[:, None], axis=1), axis=1)
    before = xp.squeeze(P.take_along_axis(alpha, P.clip(end - 1, 0, None)[:, None], axis=1), axis=1)
    before = xp.where(end > 0, before, xp.full_like(before, -xp.inf))
    log_p = _logsumexp(xp, xp.stack([last, before], axis=0))
    return -(offset + log_p), ((alphas, log_p) if keep else None)


def _gradient(residuals, upstream, log_probs, ext, barred, active, end):
    """The gradient of ``sum(upstream * -log p)`` with respect to ``log_probs``: reverse mode of the
    forward recursion, by hand, one step at a time from the last.

    ``g[n, s]``, the derivative of ``log p`` with respect to ``alphas[t, n, s]``
    (the posterior of state s at step t), is also that with respect to the
    emission ``log_probs[t, n, label of s]``; it passes back to the states it
    was entered from in the proportions of the three terms of that step's
    log-sum-exp, recomputed from ``alphas[t - 1]`` (``_shares``).  These weights are ratios
    of nearby values of the shifted ``alphas`` (``_alphas``), so the posteriors
    keep float32's precision (the product ``exp(alphas + betas - log p)`` of a
    backward recursion, torch's, loses it in proportion to ``|log p|``); the clipped exponentials of
    ``_shifted_exponentials`` give terms that are -inf (unreachable states,
    forbidden skips) shares below 4e-35 where autodiff's are 0.  The
    posteriors of each step are added into their classes (``P.bin_sum``), and
    the upstream gradient multiplied in last: under a vmap of the backward pass
    (torch's ``is_grads_batched``) only that product is batched, and on JAX
    (``P.custom_vjp``) only it is transposed: the recursion runs once."""
    alphas, log_p = residuals
    xp = P.array_namespace(log_probs)
    steps, n, classes = log_probs.shape
    if steps == 0:
        return xp.zeros_like(log_probs)
    states = ext.shape[1]
    # log p = log(exp(alpha[end]) + exp(alpha[end - 1])) after the last step: the two states' shares of it
    state = xp.arange(states, device=P.device(log_probs))[None, :]
    ends = (state == end[:, None]) | ((state == end[:, None] - 1) & (end[:, None] > 0))
    possible = xp.isfinite(log_p)[:, None]  # an impossible alignment: all posteriors 0
    shift = xp.where(possible, log_p[:, None], xp.zeros_like(log_p[:, None]))
    g = xp.where(ends & possible, xp.exp(alphas[steps - 1, ...] - shift), xp.zeros_like(alphas[0, ...]))
    if P.compiles_loops(log_probs):
        rows = _posteriors_scanned(xp, g, alphas, barred, active, ext, classes)
    else:
        rows = _posteriors_in_blocks(xp, g, alphas, barred, active, ext, classes)
    # past a sequence's length a step emits nothing (and passes its states on unchanged)
    weights = xp.where(active, -upstream[:, None], xp.zeros_like(upstream[:, None]))  # (T, N, 1)
    rows = rows * weights  # not in place: under a vmap of the backward pass only the weights are batched
    # an impossible alignment passes nothing back, also where its forward variables hold a NaN (0 NaN is NaN)
    return xp.where(possible[None, ...], rows, 0.0)


def _shares(xp, alphas, barred):
    """The proportions in which each state of a step passes its posterior back through the three terms
    (stay, advance, skip) it was entered by, ``(3, ..., N, states + 2)`` from ``alphas`` ``(..., N,
    states)`` of the steps before: two columns of zeros past the last state (see ``_passed_back``)."""
    _, exps, total = _shifted_exponentials(xp, _entries(xp, alphas, barred))
    pad = xp.zeros((*exps.shape[:-1], 2), dtype=exps.dtype, device=P.device(exps))
    return xp.concat([exps / total, pad], axis=-1)


def _passed_back(shares, padded):
    """The posteriors of one step's states from those of the next, ``padded`` with two columns of zeros
    (``(N, states + 2)``), and the next step's ``shares`` ``(3, N, states + 2)``: state s + k passes
    ``passed[k, n, s + k]`` back to s through term k (stay, advance, skip)."""
    passed = shares * padded
    return passed[0, :, :-2] + passed[1, :, 1:-1] + passed[2, :, 2:]


def _posteriors_scanned(xp, g, alphas, barred, active, ext, classes):
    """The posteriors of every step, added into their classes, ``(T, N, C)``, from ``g``, those of the
    last step: one compiled loop (``P.scan`` on JAX) from the last step to the first, each step's shares
    computed in its body (XLA fuses them there; all steps' at once, a (3, T, N, states) input, took twice
    as long on the CPU), and one ``P.bin_sum`` of all steps' posteriors."""
    pad = xp.zeros((g.shape[0], 2), dtype=g.dtype, device=P.device(g))

    def step(g, inputs):
        alpha, active_t = inputs  # the forward variables of step t - 1; whether step t is in its sequence
        g = xp.where(active_t, _passed_back(_shares(xp, alpha, barred), xp.concat([g, pad], axis=-1)), g)
        return g, g

    _, earlier = P.scan(step, g, (alphas[:-1, ...], active[1:, ...]), reverse=True)
    return P.bin_sum(xp.concat([earlier, g[None, ...]], axis=0), ext, classes)


def _posteriors_in_blocks(xp, g, alphas, barred, active, ext, classes):
    """``_posteriors_scanned``'s result by a Python loop over the steps (torch's eager autograd), in blocks
    of about ``_BLOCK`` values of each term: the shares of a block's steps are computed at once (one array
    operation each for all its steps), and so are the classes its posteriors add into (a scatter-add);
    what remains a step is five small array operations, written in place into the block's buffer."""
    steps, n, states = alphas.shape
    rows = xp.empty((steps, n, classes), dtype=alphas.dtype, device=P.device(alphas))  # filled from the last step
    rows[-1, ...] = P.bin_sum(g, ext, classes)
    block = max(1, _BLOCK // max(1, n * states))
    for hi in range(steps - 1, 0, -block):
        # steps lo + 1 .. hi pass their posteriors back to steps lo .. hi - 1
        lo = max(0, hi - block)
        shares = _shares(xp, alphas[lo:hi, ...], barred[:, None, ...])
        # the block's posteriors, two columns of zeros past the last state
        posteriors = xp.zeros((hi - lo + 1, n, states + 2), dtype=alphas.dtype, device=P.device(alphas))
        posteriors[-1, :, :states] = g
        for i in range(hi - lo, 0, -1):
            back = _passed_back(shares[:, i - 1, ...], posteriors[i, ...])
            posteriors[i - 1, :, :states] = xp.where(active[lo + i, ...], back, posteriors[i, :, :states])
        g = posteriors[0, :, :states]
        rows[lo:hi, ...] = P.bin_sum(posteriors[:-1, :, :states], ext, classes)
    return rows
