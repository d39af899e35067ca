"""The JAX backend: JAX's own implementation of every primitive that has one, and its autodiff hooks.

Imported once a JAX array is seen (``_dispatch.backend``).  Every custom
derivative is a ``jax.custom_jvp`` (not a ``custom_vjp``), so forward mode,
``hessian`` and ``vmap`` still work: JAX transposes the tangent rule for
reverse mode.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.custom_derivatives import SymbolicZero


def eager_on_host(x) -> bool:
    return False  # JAX fuses a formula itself: no chunks for a formula's temporaries' sake


# --- autodiff hooks ---------------------------------------------------------------------------------------

def stop_gradient(x):
    return jax.lax.stop_gradient(x)


def elementwise(value, derivatives, *arrays):
    """A ``jax.custom_jvp`` whose tangent is ``sum(g * dx)``.  With symbolic zeros the derivatives of the
    arrays without a tangent (not differentiated) are not asked for, so XLA does not compute them."""

    @jax.custom_jvp
    def f(*arrays):
        return value(*arrays)

    def f_jvp(primals, tangents):
        out = value(*primals)
        wanted = tuple(not isinstance(t, SymbolicZero) for t in tangents)
        tangent = jnp.zeros_like(out)
        for g, t, w in zip(derivatives(wanted, *primals), tangents, wanted):
            if g is not None and w:
                tangent = tangent + g * t
        return out, tangent

    f.defjvp(f_jvp, symbolic_zeros=True)
    return f(*arrays)


def elementwise_sum(value, derivatives, *arrays, divisor=None):
    s = jnp.sum(elementwise(value, derivatives, *arrays))  # XLA fuses the sum with the values
    return s if divisor is None else s / divisor


def custom_vjp(forward, backward, x, *constants):
    """A ``jax.custom_jvp`` whose tangent is ``backward``'s transpose (``jax.linear_transpose``), so
    ``jax.grad`` runs ``backward`` (transposed back), and forward mode and higher derivatives differentiate
    ``forward`` and ``backward`` as JAX code.  ``backward`` runs while JAX linearises, before the upstream
    gradient is known: what it computes before its last, linear step in ``upstream`` is what the backward
    pass keeps.  Forward mode costs a forward and a backward pass."""

    @jax.custom_jvp
    def f(x, *constants):
        return forward(x, *constants)[0]

    @f.defjvp
    def tangent(primals, tangents):  # the constants' tangents are ignored: they are not differentiated
        x, *constants = primals
        value, residuals = forward(x, *constants, keep=True)
        (dvalue,) = jax.linear_transpose(lambda u: backward(residuals, u, x, *constants), value)(tangents[0])
        return value, dvalue

    return f(x, *constants)


def scan(f, init, xs, *, rematerialise, reverse):
    """``jax.lax.scan``: ``jax.jit`` compiles one loop body however long ``xs`` is; ``rematerialise``
    makes the body a ``jax.checkpoint``."""
    return jax.lax.scan(jax.checkpoint(f) if rematerialise else f, init, xs, reverse=reverse)


def rematerialised(f):
    return jax.checkpoint(f)


def chunked_sum(f, arrays, size, shared, scanned):
    """``chunked(..., summed=True)``: a ``jax.custom_jvp`` whose tangent rule takes each chunk's gradients
    (``jax.value_and_grad`` of its sum) in the same scan as its value, and whose tangent is their inner
    product with the tangents.  Reverse mode (the cotangent times the gradients) so evaluates each chunk
    once, where ``scanned`` (the chunks' rematerialised scan, the primal) evaluates it again; forward mode
    and higher derivatives differentiate the rule (symbolic zeros: the gradients of arrays without a tangent
    are not taken)."""
    k = len(arrays)
    n = arrays[0].shape[0]
    full = n // size

    @jax.custom_jvp
    def total(*given):
        return jnp.sum(scanned(lambda *chunk: f(*chunk, *given[k:]), given[:k], size))

    def total_jvp(primals, tangents):
        wanted = [i for i, t in enumerate(tangents) if not isinstance(t, SymbolicZero)]
        rows, shared = primals[:k], primals[k:]

        def chunk(*chunk_rows):  # the chunk's value and its gradients in the wanted arrays
            given = list(chunk_rows) + list(shared)

            def value(*differentiated):
                for i, a in zip(wanted, differentiated):
                    given[i] = a
                return jnp.sum(f(*given))

            return jax.value_and_grad(value, argnums=tuple(range(len(wanted))))(*(given[i] for i in wanted))

        n_row_grads = sum(i < k for i in wanted)  # wanted is ascending: the rows' gradients first

        def step(carry, chunk_rows):  # carry: the sum of the values and the shared arrays' gradients
            value, grads = chunk(*chunk_rows)
            s, shared_grads = carry
            return (s + value, tuple(g + d for g, d in zip(shared_grads, grads[n_row_grads:]))), grads[:n_row_grads]

        stacked = tuple(jnp.reshape(a[:full * size], (full, size) + tuple(a.shape[1:])) for a in rows)
        value_type = jax.eval_shape(chunk, *(a[0] for a in stacked))[0]
        init = jnp.zeros((), value_type.dtype), tuple(jnp.zeros_like(primals[i]) for i in wanted[n_row_grads:])
        (s, shared_grads), row_grads = jax.lax.scan(step, init, stacked)
        row_grads = [jnp.reshape(g, (full * size,) + tuple(g.shape[2:])) for g in row_grads]
        if n % size:  # the remainder
            value, grads = chunk(*(a[full * size:] for a in rows))
            s = s + value
            row_grads = [jnp.concatenate([g, d]) for g, d in zip(row_grads, grads[:n_row_grads])]
            shared_grads = tuple(g + d for g, d in zip(shared_grads, grads[n_row_grads:]))
        tangent = jnp.zeros((), s.dtype)
        for g, i in zip(list(row_grads) + list(shared_grads), wanted):
            tangent = tangent + jnp.sum(g * tangents[i]).astype(s.dtype)
        return s, tangent

    total.defjvp(total_jvp, symbolic_zeros=True)
    return total(*arrays, *shared)


# --- numerics ---------------------------------------------------------------------------------------------

def logsumexp(x, *, axis, keepdims):
    return jax.nn.logsumexp(x, axis=axis, keepdims=keepdims)


def log_softmax(x, *, axis):
    return jax.nn.log_softmax(x, axis=axis)


def erf(x):
    return jax.lax.erf(x)


def softplus(x):
    return jax.nn.softplus(x)


def log_sigmoid(x):
    return jax.nn.log_sigmoid(x)


def sigmoid(x):
    return jax.nn.sigmoid(x)


@jax.custom_jvp
def one_where_zero(x):
    """``x + 1 - |sign(x)|``: arithmetic alone (the same values as ``where(x == 0, 1, x)``; NaN stays NaN),
    with ``where``'s gradient.  XLA's CPU backend fuses a sum with arithmetic but not with a select, which
    writes a full-size temporary of its own before the sum."""
    return x + (1 - jnp.abs(jnp.sign(x)))


one_where_zero.defjvp(lambda primals, tangents: (one_where_zero(*primals), jnp.where(primals[0] == 0, 0, tangents[0])))


def nonzero_root(s, root):
    """Arithmetic, no select, for the fusion ``one_where_zero`` serves."""
    return root(one_where_zero(s)) * jnp.abs(jnp.sign(s))


def wide_float(x):
    return jnp.float64 if jax.config.jax_enable_x64 else x.dtype


# --- indexing ---------------------------------------------------------------------------------------------

def mark(indices, n):
    lead = tuple(indices.shape[:-1])
    flat = jnp.reshape(jnp.where(indices < 0, n, indices), (math.prod(lead), indices.shape[-1]))  # n: dropped
    rows = jnp.arange(flat.shape[0])[:, None]
    out = jnp.zeros((flat.shape[0], n + 1), dtype=bool).at[rows, flat].set(True)
    return jnp.reshape(out[:, :n], lead + (n,))


def bin_sum(values, indices, n):
    """For floating values a product with the one-hot indices, which XLA makes one dot (its scatter-add takes
    several times as long on the CPU), in full float32 precision on GPUs too; so the values must be finite
    (an infinite one gives 0 x inf = NaN in the other classes of its row).  None for other values."""
    if not jnp.isdtype(values.dtype, "real floating"):
        return None
    if indices.dtype not in (jnp.int32, jnp.int64):
        indices = indices.astype(jnp.asarray(0).dtype)  # uint8's iota wraps past 255
    one_hot = jax.nn.one_hot(indices, n, dtype=values.dtype)
    return jnp.einsum("...s,...sc->...c", values, one_hot, precision=jax.lax.Precision.HIGHEST)


def sort(x, *, axis, descending):
    """``argsort`` and a gather, so that the values carry the gradient; None for a descending sort (the
    generic code sorts ``-x``: ``jnp.sort``'s descending order reverses its ties)."""
    if descending:
        return None
    order = jnp.argsort(jax.lax.stop_gradient(x), axis=axis, stable=True)
    return jnp.take_along_axis(x, order, axis=axis), order


def searchsorted(sorted, values, *, side):
    lead = tuple(sorted.shape[:-1])
    find = jax.vmap(lambda a, v: jnp.searchsorted(a, v, side=side))
    rows = math.prod(lead)
    found = find(jnp.reshape(sorted, (rows, sorted.shape[-1])), jnp.reshape(values, (rows, values.shape[-1])))
    return jnp.reshape(found, lead + (values.shape[-1],))


# --- value checks -----------------------------------------------------------------------------------------

def host_values(x, *, always):
    if isinstance(x, jax.core.Tracer):
        return None
    if always or all(d.platform == "cpu" for d in x.devices()):
        return jax.device_get(x.astype(jnp.float32) if x.dtype == jnp.bfloat16 else x)  # NumPy has no bfloat16
    return None
