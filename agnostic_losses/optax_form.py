"""Losses that optax defines and torch.nn lacks, in optax's form: one value per example, no reduction, the
classes on the last axis.

Same names, arguments and values as ``optax.losses``; gradients too, but at
a kink, where optax's ``jnp.maximum(0, z)`` splits the gradient (0.5 at
``z == 0``), ours is torch's ``clamp_min``'s: the whole gradient passes at
``z == 0``, as this library's hinges do.  ``agnostic_losses.metrics.hinge_loss``
is scikit-learn's averaged metric, not :func:`hinge_loss`.
"""

from __future__ import annotations

import numbers

from . import _checks as checks
from . import _primitives as P
from ._docs import with_args
from ._setup import setup, silent_nonfinite
from ._typing import Array
from .margin import _hinge_from_zero

__all__ = [
    "hinge_loss",
    "perceptron_loss",
    "sparsemax_loss",
    "multiclass_hinge_loss",
    "multiclass_perceptron_loss",
    "multiclass_sparsemax_loss",
    "cosine_distance",
    "ntxent",
    "poly_loss_cross_entropy",
]


def _binary(loss, outputs_name, outputs, targets_name, targets):
    """Scores and labels of one shape (or broadcasting), the labels any real or boolean type."""
    s = setup(loss, "none", {outputs_name: outputs, targets_name: targets}, indices=(targets_name,))
    checks.broadcast_shape(loss, **{outputs_name: outputs, targets_name: targets})
    return s


@silent_nonfinite
def hinge_loss(predictor_outputs: Array, targets: Array) -> Array:
    """Binary hinge loss ``max(0, 1 - y t)``, as ``optax.losses.hinge_loss``.

    Args:
        predictor_outputs: scores ``y``, any shape.
        targets: labels ``t`` in {-1, 1}, broadcasting with the scores.

    Returns one loss per element of the broadcast shape (no reduction).  At
    ``y t == 1`` the gradient is ``-t`` (torch's ``clamp_min``; optax's is half
    that).  Not :func:`agnostic_losses.metrics.hinge_loss`, scikit-learn's mean of it.

    Examples:
        >>> import numpy as np
        >>> hinge_loss(np.array([0.5, 2.0, -1.0]), np.array([1, 1, 1])).tolist()
        [0.5, 0.0, 2.0]

    Reference: ``optax.losses.hinge_loss``.
    """
    s = _binary("hinge_loss", "predictor_outputs", predictor_outputs, "targets", targets)
    y, t = s.arrays
    return s.finish(_hinge_from_zero(1 - y * _as_scores(s.xp, t, y)))


@silent_nonfinite
def perceptron_loss(predictor_outputs: Array, targets: Array) -> Array:
    """Binary perceptron loss ``max(0, -y t)``, as ``optax.losses.perceptron_loss``.

    Args:
        predictor_outputs: scores ``y``, any shape.
        targets: labels ``t`` in {-1, 1}, of the scores' shape (as optax checks).

    Returns one loss per element (no reduction); at ``y t == 0`` the gradient
    is ``-t`` (torch's ``clamp_min``; optax's is half that).

    Examples:
        >>> import numpy as np
        >>> perceptron_loss(np.array([0.5, -2.0]), np.array([1, 1])).tolist()
        [0.0, 2.0]

    Reference: Rosenblatt's perceptron; ``optax.losses.perceptron_loss``.
    """
    loss = "perceptron_loss"
    s = _binary(loss, "predictor_outputs", predictor_outputs, "targets", targets)
    checks.same_shape(loss, "targets", targets, "predictor_outputs", predictor_outputs)
    y, t = s.arrays
    return s.finish(_hinge_from_zero(-y * _as_scores(s.xp, t, y)))


def _as_scores(xp, labels, like):
    """Labels of any real or boolean type in the scores' floating dtype."""
    return labels if labels.dtype == like.dtype else xp.astype(labels, like.dtype)


@silent_nonfinite
def sparsemax_loss(logits: Array, labels: Array) -> Array:
    """Binary sparsemax loss, as ``optax.losses.sparsemax_loss``.

    ``sparse_plus(-z)`` for label 1 and ``sparse_plus(z)`` for label 0, with
    ``sparse_plus(x) = 0`` for ``x <= -1``, ``(x + 1)^2 / 4`` between and ``x``
    for ``x >= 1``: 0 exactly where ``sparse_sigmoid(z)`` equals the label.
    Continuously differentiable, so no kink convention is needed.

    Args:
        logits: scores ``z``, any shape.
        labels: 0 or 1 (any nonzero counts as 1; integers, booleans or floats), broadcasting with the logits.

    Examples:
        >>> import numpy as np
        >>> sparsemax_loss(np.array([0.0, 3.0, -3.0]), np.array([1, 1, 1])).tolist()
        [0.25, 0.0, 3.0]

    Reference: Blondel, Martins and Niculae, Learning with Fenchel-Young Losses (2020), sec. 4.4;
    ``optax.losses.sparsemax_loss``.
    """
    s = _binary("sparsemax_loss", "logits", logits, "labels", labels)
    xp, (z, y) = s.xp, s.arrays
    x = xp.where(y if y.dtype == xp.bool else y != 0, -z, z)
    return s.finish(xp.where(x <= -1.0, 0.0, xp.where(x >= 1.0, x, (x + 1.0) ** 2 / 4)))


def _multiclass(loss, scores, labels):
    """Scores ``(..., C)`` and integer labels ``(...)`` in ``[0, C)``; returns the setup and the labels as
    ``(..., 1)`` indices."""
    s = setup(loss, "none", {"scores": scores, "labels": labels}, indices=("labels",))
    xp, (x, y) = s.xp, s.arrays
    if x.ndim < 1:
        raise ValueError(f"{loss}: scores must have a class axis (the last), got a 0-d array")
    n = x.shape[-1]
    checks.integral(loss, xp, "labels", y, "class indices")
    checks.shape_is(loss, "labels", y, tuple(x.shape[:-1]), "scores' shape less the class axis")
    checks.indices(loss, "labels", y, 0, n, f"class indices in [0, {n})")
    return s, xp.expand_dims(P.wide_indices(y), axis=-1)


@silent_nonfinite
def multiclass_hinge_loss(scores: Array, labels: Array) -> Array:
    """Multiclass hinge loss ``max_c (s_c + 1 - [c = y]) - s_y``, as ``optax.losses.multiclass_hinge_loss``.

    Args:
        scores: ``(..., C)``, the classes last.
        labels: integer class indices ``(...)`` in ``[0, C)`` (optax's one-hot makes an index outside it an
            all-zero row; ours is an error).

    Returns ``(...)``.  A tie of maxima splits the gradient evenly among them (torch's ``amax``, JAX's
    ``max``).

    Examples:
        >>> import numpy as np
        >>> multiclass_hinge_loss(np.array([[2.0, 0.5, 0.0], [0.0, 1.0, 0.5]]), np.array([0, 0])).tolist()
        [0.0, 2.0]

    Reference: Crammer and Singer (2001); ``optax.losses.multiclass_hinge_loss``.
    """
    s, y = _multiclass("multiclass_hinge_loss", scores, labels)
    xp, x = s.xp, s.arrays[0]
    classes = xp.arange(x.shape[-1], dtype=y.dtype, device=P.device(y))
    margins = x + 1.0 - xp.astype(classes == y, x.dtype)  # in optax's order: s_y + 1 - 1 rounds as optax's
    return s.finish(xp.max(margins, axis=-1) - P.take_along_axis(x, y, axis=-1)[..., 0])


@silent_nonfinite
@with_args(multiclass_hinge_loss)
def multiclass_perceptron_loss(scores: Array, labels: Array) -> Array:
    """Multiclass perceptron loss ``max_c s_c - s_y``, as ``optax.losses.multiclass_perceptron_loss``.

    Ties as :func:`multiclass_hinge_loss`'s.

    Examples:
        >>> import numpy as np
        >>> multiclass_perceptron_loss(np.array([[2.0, 0.5, 0.0], [0.0, 1.0, 0.5]]), np.array([0, 2])).tolist()
        [0.0, 0.5]

    Reference: Collins (2002); ``optax.losses.multiclass_perceptron_loss``.
    """
    s, y = _multiclass("multiclass_perceptron_loss", scores, labels)
    xp, x = s.xp, s.arrays[0]
    return s.finish(xp.max(x, axis=-1) - P.take_along_axis(x, y, axis=-1)[..., 0])


@silent_nonfinite
@with_args(multiclass_hinge_loss)
def multiclass_sparsemax_loss(scores: Array, labels: Array) -> Array:
    """Multiclass sparsemax loss, as ``optax.losses.multiclass_sparsemax_loss``.

    ``<p, s - s_y> + (1 - <p, p>) / 2`` per row, with ``p = sparsemax(s)``, the
    Euclidean projection of the scores onto the probability simplex (sparse:
    some classes get exactly 0).  Its gradient is ``p - onehot(y)``.

    Scores of any shape ``(..., C)``, where optax's takes ``(N, C)`` only.

    Examples:
        >>> import numpy as np
        >>> multiclass_sparsemax_loss(np.array([[2.0, 0.5, 0.0], [0.0, 1.0, 0.5]]), np.array([0, 0])).tolist()
        [0.0, 1.0625]

    Reference: Martins and Astudillo, From Softmax to Sparsemax (2016); ``optax.losses.multiclass_sparsemax_loss``.
    """
    s, y = _multiclass("multiclass_sparsemax_loss", scores, labels)
    xp, x = s.xp, s.arrays[0]
    p = _sparsemax(xp, x, y.dtype)
    shifted = x - P.take_along_axis(x, y, axis=-1)
    return s.finish(xp.sum(p * xp.where(p != 0, shifted, 0.0), axis=-1) + 0.5 * (1 - xp.sum(p * p, axis=-1)))


def _sparsemax(xp, x, index_dtype):
    """The projection of each row (last axis) onto the probability simplex: ``max(x - tau, 0)`` with ``tau``
    from the ``k`` largest scores, ``k`` the support's size (the sort and running sum of optax's).  A row
    with a NaN or an infinity has no support: at least 1, so that its NaN reaches the output (optax's)."""
    n = x.shape[-1]
    u, _ = P.sort(x, axis=-1, descending=True)
    running = P.cumulative_sum(u, axis=-1)
    k = xp.arange(1, n + 1, dtype=x.dtype, device=P.device(x))
    support = xp.sum(xp.astype(1 / k + (u - running / k) > 0, index_dtype), axis=-1, keepdims=True)
    support = P.clip(support, min=1)
    size = xp.astype(support, x.dtype)
    return P.clip(1 / size + (x - P.take_along_axis(running, support - 1, axis=-1) / size), min=0.0)


@silent_nonfinite
def cosine_distance(predictions: Array, targets: Array, *, epsilon: float = 0.0,
                    axis: int | tuple[int, ...] | None = -1, where: Array | None = None) -> Array:
    """Cosine distance ``1 - <a, b> / (|a| |b|)`` along ``axis``, as ``optax.losses.cosine_distance``.

    Each norm is ``sqrt(max(sum(v^2), epsilon))``.

    Args:
        predictions: the vectors, any shape.
        targets: the target vectors, broadcasting with ``predictions``.
        epsilon: a floor under the squared norms (0: a zero vector gives NaN, as optax's).
        axis: the axis or tuple of axes of the vectors (None: all).
        where: a boolean mask broadcasting with them: the elements taking part in the sums.  A vector with
            none kept has distance 1, as optax's, and a zero gradient (optax's: NaN where ``epsilon`` is 0).

    Returns the broadcast shape less ``axis``.  Not ``torch.nn.functional.cosine_similarity``, whose
    ``eps`` floors the product of the norms.

    Examples:
        >>> import numpy as np
        >>> cosine_distance(np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([[0.0, 2.0], [2.0, 2.0]])).round(6).tolist()
        [1.0, 0.0]

    Reference: ``optax.losses.cosine_distance``.
    """
    loss = "cosine_distance"
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real):
        raise TypeError(f"{loss}: epsilon must be a float, got {type(epsilon).__name__}")
    s = setup(loss, "none", {"predictions": predictions, "targets": targets, "where": where}, indices=("where",))
    xp, (a, b, mask) = s.xp, s.arrays
    shape = checks.broadcast_shape(loss, predictions=a, targets=b, **({} if mask is None else {"where": mask}))
    if mask is not None and mask.dtype != xp.bool:
        raise TypeError(f"{loss}: where must be a boolean array, got {mask.dtype}")
    # None: each array's own axes, all of them (optax's), whatever their numbers of dimensions
    axes = None if axis is None else _axes(loss, axis, len(shape), f"the broadcast shape {shape}")

    def total(v):
        return xp.sum(v if mask is None else xp.where(mask, v, 0.0), axis=axes, keepdims=True)

    def unit(v):
        squares = total(v * v)
        if mask is not None:  # a vector with no element kept: its distance is 1, as optax's, with a zero gradient
            squares = xp.where(total(xp.ones_like(v)) > 0, squares, 1.0)
        return v / xp.sqrt(P.clip(squares, min=epsilon))

    out = total(unit(a) * unit(b))
    return s.finish(1.0 - (xp.reshape(out, ()) if axes is None else xp.squeeze(out, axis=axes)))


@silent_nonfinite
def ntxent(embeddings: Array, labels: Array, temperature: float = 0.07) -> Array:
    """Normalised temperature-scaled cross-entropy (NT-Xent, SimCLR's contrastive loss), as ``optax.losses.ntxent``.

    With ``c_ij`` the cosine similarity of embeddings i and j over
    ``temperature``, each positive pair (``i != j`` of one label) scores
    ``-log(exp(c_ij) / (exp(c_ij) + sum_{k: label k != label i} exp(c_ik)))``;
    the loss is the mean over the positive pairs (a 0-d array).  Cosine
    similarity floors each squared norm at the dtype's epsilon, as optax's.

    Args:
        embeddings: ``(N, D)`` floating.
        labels: ``(N,)`` integer labels: equal labels make positive pairs.
        temperature: divides the similarities.

    Examples:
        >>> import numpy as np
        >>> round(float(ntxent(np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]), np.array([0, 0, 1]), 0.5)), 6)
        0.143067

    Reference: Chen et al., A Simple Framework for Contrastive Learning of Visual Representations (2020);
    ``optax.losses.ntxent``.
    """
    loss = "ntxent"
    s = setup(loss, "none", {"embeddings": embeddings, "labels": labels}, indices=("labels",))
    xp, (x, y) = s.xp, s.arrays
    if x.ndim != 2:
        raise ValueError(f"{loss}: embeddings must be (N, D), got shape {tuple(x.shape)}")
    checks.integral(loss, xp, "labels", y, "labels of the embeddings")
    checks.shape_is(loss, "labels", y, tuple(x.shape[:1]), "one label per embedding")
    eps = float(xp.finfo(embeddings.dtype).eps)  # the caller's dtype's, as optax's (half precision computes in float32)
    unit = x / xp.sqrt(P.clip(xp.sum(x * x, axis=-1, keepdims=True), min=eps))
    similarity = xp.sum(unit[None, :, :] * unit[:, None, :], axis=-1) / temperature
    same = y[:, None] == y[None, :]
    positive = same & ~xp.eye(x.shape[0], dtype=xp.bool, device=P.device(x))
    negatives = xp.where(same, -xp.inf, similarity)
    positives = xp.where(positive, similarity, -xp.inf)
    top = P.stop_gradient(xp.max(xp.concat([negatives, positives], axis=1), axis=1, keepdims=True))
    scaled = positives - top
    log_share = scaled - xp.log(xp.sum(xp.exp(negatives - top), axis=1, keepdims=True) + xp.exp(scaled))
    count = xp.sum(xp.astype(positive, x.dtype))
    return s.finish(-xp.sum(xp.where(positive, log_share, 0.0)) / count)


@silent_nonfinite
def poly_loss_cross_entropy(logits: Array, labels: Array, *, epsilon: float = 2.0,
                            axis: int | tuple[int, ...] | None = -1, where: Array | None = None) -> Array:
    """Poly-1 loss, as ``optax.losses.poly_loss_cross_entropy``.

    ``CE(logits, labels) + epsilon * sum(labels * (1 - softmax(logits)))`` along
    ``axis``: cross-entropy plus ``epsilon`` times the first polynomial term
    ``1 - p_t`` of its expansion.

    Args:
        logits: unnormalised log-probabilities.
        labels: class probabilities (one-hot rows, or any distribution) broadcasting with the logits (to
            more rows too, as optax's).
        epsilon: the coefficient of ``1 - p_t`` (the paper: 2 for ImageNet, -1 for detection).
        axis: the class axis or tuple of axes (None: all).
        where: a boolean mask broadcasting to the logits: masked logits take no part in the softmax's
            normaliser nor in the sums.  A vector with nothing kept gives 0, as optax's, with a zero
            gradient (optax's: NaN).

    Returns the logits' shape less ``axis``.

    Examples:
        >>> import numpy as np
        >>> poly_loss_cross_entropy(np.array([[2.0, 0.0, -1.0]]), np.array([[1.0, 0.0, 0.0]])).round(4).tolist()
        [0.4823]

    Reference: Leng et al., PolyLoss (2022); ``optax.losses.poly_loss_cross_entropy``.
    """
    loss = "poly_loss_cross_entropy"
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real):
        raise TypeError(f"{loss}: epsilon must be a float, got {type(epsilon).__name__}")
    s = setup(loss, "none", {"logits": logits, "labels": labels, "where": where}, indices=("where",))
    xp, (x, t, mask) = s.xp, s.arrays
    if mask is not None and mask.dtype != xp.bool:
        raise TypeError(f"{loss}: where must be a boolean array, got {mask.dtype}")
    shape = checks.broadcast_shape(loss, logits=x, labels=t, **({} if mask is None else {"where": mask}))
    if tuple(x.shape) != shape:  # labels of more rows than the logits, as optax takes them (a view, no copy)
        x = xp.broadcast_to(x, shape)
    if mask is not None:
        mask = xp.broadcast_to(mask, shape)
    axes = _axes(loss, axis, len(shape), f"the logits ({len(shape)}-D)")
    log_p = P.log_softmax(x, axis=axes, where=mask)
    kept = (lambda v: v) if mask is None else (lambda v: xp.where(mask, v, 0.0))
    cross_entropy = -xp.sum(kept(t * log_p), axis=axes)
    return s.finish(cross_entropy + epsilon * xp.sum(kept(t * (1 - xp.exp(log_p))), axis=axes))


def _axes(loss, axis, ndim, of):
    """``axis`` (an int, a tuple of them, or None: all) as a tuple of axes of an ``ndim``-D array."""
    axes = tuple(range(ndim)) if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
    if not all(isinstance(k, int) and not isinstance(k, bool) and -ndim <= k < ndim for k in axes):
        raise ValueError(f"{loss}: axis must be an axis of {of} or a tuple of them, got {axis!r}")
    return axes
