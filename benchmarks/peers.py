"""The peers each loss is timed against: torch.nn.functional, optax, and plain formulas of each 'mean' loss.

The formulas take the array namespace first (NumPy, CuPy or jax.numpy) and stand in for optax where it has no
loss of the same semantics.
"""

from __future__ import annotations

import numpy as np

F32 = np.float32


# --- plain formulas of each 'mean' loss, for NumPy, CuPy and jax.numpy (xp) ------------------

def _softplus(xp, z):
    return xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))


def log_softmax(xp, x, axis):
    s = x - xp.max(x, axis=axis, keepdims=True)
    return s - xp.log(xp.sum(xp.exp(s), axis=axis, keepdims=True))


def _picked(xp, x, t):
    """x[n, t[n]] for (N, C) x and (N,) t."""
    return xp.take_along_axis(x, t[:, None], axis=1)[:, 0]


def _huber(xp, x, t, delta=1.0):
    d = xp.abs(x - t)
    return xp.mean(xp.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)))


def _distance(xp, a, b, eps=1e-6):
    d = a - b + eps
    return xp.sqrt(xp.sum(d * d, axis=-1))


def f_l1(xp, x, t):
    return xp.mean(xp.abs(x - t))


def f_mse(xp, x, t):
    return xp.mean((x - t) ** 2)


def f_huber(xp, x, t):
    return _huber(xp, x, t, 1.0)


def f_smooth_l1(xp, x, t):  # beta = 1
    d = xp.abs(x - t)
    return xp.mean(xp.where(d < 1.0, 0.5 * d * d, d - 0.5))


def f_cross_entropy(xp, x, t):
    return xp.mean(-_picked(xp, log_softmax(xp, x, 1), t))


def f_cross_entropy_probs(xp, x, t):
    return xp.mean(-xp.sum(t * log_softmax(xp, x, 1), axis=1))


def f_nll(xp, x, t):
    return -xp.mean(_picked(xp, x, t))


def f_bce(xp, x, t):
    return -xp.mean(t * xp.maximum(xp.log(x), -100.0) + (1 - t) * xp.maximum(xp.log1p(-x), -100.0))


def f_bce_logits(xp, x, t):
    return xp.mean((1 - t) * x + _softplus(xp, -x))


def f_multilabel_soft_margin(xp, x, t):
    return xp.mean(t * _softplus(xp, -x) + (1 - t) * _softplus(xp, x))


def f_soft_margin(xp, x, t):
    return xp.mean(_softplus(xp, -t * x))


def f_kl_div(xp, x, t):  # 'batchmean'; the targets are positive
    return xp.sum(t * (xp.log(t) - x)) / x.shape[0]


def f_poisson_nll(xp, x, t):  # log_input=True
    return xp.mean(xp.exp(x) - t * x)


def f_gaussian_nll(xp, x, t, v):
    v = xp.maximum(v, 1e-6)
    return xp.mean(0.5 * (xp.log(v) + (x - t) ** 2 / v))


def f_margin_ranking(xp, x1, x2, t):
    return xp.mean(xp.maximum(-t * (x1 - x2), 0))


def f_hinge_embedding(xp, x, t):  # labels +-1
    return xp.mean(xp.where(t == 1, x, xp.maximum(1.0 - x, 0)))


def f_multi_margin(xp, x, t):
    z = xp.maximum(1.0 - _picked(xp, x, t)[:, None] + x, 0)
    z = xp.where(xp.arange(x.shape[1])[None, :] == t[:, None], 0.0, z)
    return xp.mean(xp.sum(z, axis=1) / x.shape[1])


def f_multilabel_margin(xp, x, t):
    n = x.shape[1]
    listed = xp.cumprod((t >= 0).astype(t.dtype), axis=1) > 0
    safe = xp.where(listed, t, 0)
    positive = xp.any(listed[:, :, None] & (safe[:, :, None] == xp.arange(n)[None, None, :]), axis=1)
    z = 1.0 - xp.take_along_axis(x, safe, axis=1)[:, :, None] + x[:, None, :]
    h = xp.where(listed[:, :, None] & ~positive[:, None, :], xp.maximum(z, 0), 0.0)
    return xp.mean(xp.sum(h, axis=(1, 2)) / n)


def f_cosine_embedding(xp, x1, x2, t):
    cos = xp.sum(x1 * x2, axis=1) / xp.sqrt((xp.sum(x1 * x1, axis=1) + 1e-12) * (xp.sum(x2 * x2, axis=1) + 1e-12))
    return xp.mean(xp.where(t == 1, 1 - cos, xp.maximum(cos, 0)))


def f_triplet(xp, a, p, n):
    return xp.mean(xp.maximum(_distance(xp, a, p) - _distance(xp, a, n) + 1.0, 0))


def f_ctc(xp, log_probs, targets, input_lengths, target_lengths):
    """The CTC forward recursion in log space, batched; every sequence of full length (as drawn here), blank 0."""
    steps, n, _ = log_probs.shape
    s = targets.shape[1]
    zeros = xp.zeros_like(targets)
    ext = xp.concatenate([xp.reshape(xp.stack([zeros, targets], axis=2), (n, 2 * s)), zeros[:, :1]], axis=1)
    skip = xp.concatenate([xp.zeros((n, 2), dtype=bool), (ext[:, 2:] != 0) & (ext[:, 2:] != ext[:, :-2])], axis=1)
    ninf = xp.full((n, 1), -xp.inf, dtype=log_probs.dtype)
    alpha = xp.where(xp.arange(2 * s + 1)[None, :] < 2, xp.take_along_axis(log_probs[0], ext, axis=1), -xp.inf)
    for step in range(1, steps):
        one = xp.concatenate([ninf, alpha[:, :-1]], axis=1)
        two = xp.where(skip, xp.concatenate([ninf, ninf, alpha[:, :-2]], axis=1), -xp.inf)
        alpha = xp.logaddexp(xp.logaddexp(alpha, one), two) + xp.take_along_axis(log_probs[step], ext, axis=1)
    return xp.mean(-xp.logaddexp(alpha[:, -1], alpha[:, -2]) / s)


def f_linear_cross_entropy(xp, x, w, t):
    return f_cross_entropy(xp, x @ w.T, t)


# --- optax peers: (label "optax.<name> ...", f(optax.losses, jnp, *arrays)) on ours' arrays -------------

OPTAX_SQUARED = ("optax.squared_error", lambda o, jnp, x, t: jnp.mean(o.squared_error(x, t)))
OPTAX_HUBER = ("optax.huber_loss", lambda o, jnp, x, t: jnp.mean(o.huber_loss(x, t, delta=1.0)))
OPTAX_SMOOTH_L1 = ("optax.huber_loss (= smooth_l1 at beta 1)", OPTAX_HUBER[1])
OPTAX_CE = ("optax.softmax_cross_entropy_with_integer_labels",
            lambda o, jnp, x, t: jnp.mean(o.softmax_cross_entropy_with_integer_labels(x, t)))
OPTAX_SOFTMAX_CE = ("optax.softmax_cross_entropy", lambda o, jnp, x, t: jnp.mean(o.softmax_cross_entropy(x, t)))
OPTAX_SIGMOID = ("optax.sigmoid_binary_cross_entropy",
                 lambda o, jnp, x, t: jnp.mean(o.sigmoid_binary_cross_entropy(x, t)))
OPTAX_KL = ("optax.kl_divergence", lambda o, jnp, x, t: jnp.mean(o.kl_divergence(x, t)))
OPTAX_TRIPLET = ("optax.triplet_margin_loss", lambda o, jnp, a, p, n: jnp.mean(o.triplet_margin_loss(a, p, n)))
OPTAX_LINEAR_CE = ("optax.softmax_cross_entropy_with_integer_labels(x @ W.T)",
                   lambda o, jnp, x, w, t: jnp.mean(o.softmax_cross_entropy_with_integer_labels(x @ w.T, t)))


def optax_ctc(jax, jnp, optax, arrays, put):
    """optax.ctc_loss takes batch-major logits (N, T, C) and paddings; ours gets log_softmax of (T, N, C)."""
    if optax is None:
        raise ImportError("ctc_loss's JAX peer is optax.ctc_loss, and optax is not installed")
    lp = arrays["log_probs"]
    n, s = arrays["targets"].shape
    args = (put(np.ascontiguousarray(np.swapaxes(lp, 0, 1))), put(np.zeros((n, lp.shape[0]), F32)),
            put(arrays["targets"].astype(np.int32)), put(np.zeros((n, s), F32)))

    def f(x, x_pad, t, t_pad):  # torch's 'mean': each loss over its target length, then the batch mean
        return jnp.mean(optax.losses.ctc_loss(x, x_pad, t, t_pad) / s)

    return "optax.ctc_loss", f, args, (0,)


# --- an entry's peers, as each column calls them --------------------------------------------------

def torch_peer(bench):
    import torch.nn.functional as F

    if bench.fn == "linear_cross_entropy" and not hasattr(F, "linear_cross_entropy"):
        return lambda x, w, t, **kw: F.cross_entropy(F.linear(x, w), t, **kw)  # torch before 2.13
    return getattr(F, bench.fn)


def jax_peer(bench, jax, jnp, optax, through):
    """(label, loss) of the optax loss named in the entry, or of its formula on jax.numpy."""
    label, optax_loss = bench.optax or ("jnp formula", None)
    if optax_loss is not None:
        name = label.split(".")[1].split(" ")[0].split("(")[0]
        if optax is None or not hasattr(optax.losses, name):
            label = f"jnp formula ({'optax is not installed' if optax is None else 'this optax has no ' + name})"
            optax_loss = None

    def inner(*a):
        return bench.formula(jnp, *a) if optax_loss is None else optax_loss(optax.losses, jnp, *a)

    def peer(*a):
        return inner(*[jax.nn.log_softmax(x, axis=-1) if i in through else x for i, x in enumerate(a)])

    return label, peer
