"""Oracles other than torch.nn: the libraries that define what torch.nn lacks (scikit-learn, scoringrules, optax,
torchvision, kornia, torchmetrics).

A catalogue entry named in :data:`ORACLES` is judged against its oracle
instead of ``torch.nn.functional``: the exact value is the oracle library's
own, in float64 on the case's (rounded) arrays; the exact gradients are float64
``torch.autograd`` of a formula written here independently of ours (for
scoringrules, its own torch backend; for torchvision, whose losses are torch
code, the oracle itself).  The runner checks each formula against
its oracle on every case (values within 1e-10) and, on random draws, its
gradients against central finite differences of the oracle's value, so that a
formula cannot drift from the library it stands for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

import agnostic_losses
from agnostic_losses import metrics


@dataclass(frozen=True)
class Oracle:
    reference: str  # the library function ours must equal, as the report names it
    ours: Callable  # ours, called with the case's arrays and options by keyword
    value: Callable  # the oracle: float64 NumPy arrays and the options by keyword -> its value
    formula: Callable  # float64 torch tensors and the options by keyword -> the same value, differentiable
    derivative: bool = True  # the formula's gradient is its value's (checked against finite differences)


def _sklearn(name):
    import sklearn.metrics

    return getattr(sklearn.metrics, name)


def _given(**arrays):
    return {k: v for k, v in arrays.items() if v is not None}


# --- scikit-learn's regression metrics: y_true, y_pred (n,) or (n, k), sample_weight (n,) --------------------

def _torch():
    import torch

    return torch


def _columns(a):
    return a if a.ndim == 2 else a.reshape(-1, 1)


def _sample_mean(a, w):
    return a.mean(0) if w is None else (a * w[:, None]).sum(0) / w.sum()


def _outputs(errors, multioutput, weights=None):
    """scikit-learn's ``multioutput``: the errors per output, their mean, or their weighted mean."""
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return errors
        if weights is None:
            return errors.mean()
    else:
        weights = _torch().tensor(multioutput, dtype=errors.dtype)
    return (errors * weights).sum() / weights.sum()


def _per_output(errors_of):
    """A formula from ``errors_of(y_true, y_pred, w, **options)`` (one error per output, columns as (n, k))."""
    def formula(y_true, y_pred, sample_weight=None, multioutput="uniform_average", **options):
        return _outputs(errors_of(_columns(y_true), _columns(y_pred), sample_weight, **options), multioutput)
    return formula


def _root(s):
    """``sqrt(s)`` with the gradient 0 at ``s == 0`` (this library's convention for a root of zero error)."""
    torch = _torch()
    positive = s > 0
    return torch.where(positive, torch.where(positive, s, torch.ones_like(s)).sqrt(), torch.zeros_like(s))


def _mae(t, p, w):
    return _sample_mean((p - t).abs(), w)


def _mse(t, p, w):
    return _sample_mean((t - p) ** 2, w)


def _msle(t, p, w):
    return _mse(t.log1p(), p.log1p(), w)


def _mape(t, p, w):
    return _sample_mean((p - t).abs() / t.abs().clamp_min(np.finfo(np.float64).eps), w)


def _pinball(t, p, w, alpha=0.5):
    d = t - p
    return _sample_mean(_torch().where(d >= 0, alpha * d, (alpha - 1) * d), w)


def _median(t, p, w):
    """The (weighted) median of ``|p - t|`` per output, by walking the sorted errors (NumPy's
    'averaged_inverted_cdf' with weights; the middle one or two without)."""
    torch = _torch()
    errors = (p - t).abs()
    out = []
    for j in range(errors.shape[1]):
        values, order = torch.sort(errors[:, j], stable=True)
        n = values.shape[0]
        if w is None:
            out.append((values[(n - 1) // 2] + values[n // 2]) / 2)
            continue
        weights = w.detach()[order].tolist()
        half, total, i = sum(weights) / 2, 0.0, 0
        while total + weights[i] < half and i < n - 1:
            total += weights[i]
            i += 1
        total += weights[i]
        if total - half > np.finfo(np.float64).eps:
            out.append(values[i])
        else:
            k = next((k for k in range(i + 1, n) if weights[k] > 0), i)
            out.append((values[i] + values[k]) / 2)
    return torch.stack(out)


def _fraction_explained(numerator, denominator, multioutput):
    torch = _torch()
    scores = torch.where(numerator == 0, torch.ones_like(numerator),
                         torch.where(denominator == 0, torch.zeros_like(numerator), 1 - numerator / denominator))
    weights = denominator if multioutput == "variance_weighted" else None
    return _outputs(scores, "uniform_average" if weights is not None else multioutput, weights)


def _r2(y_true, y_pred, sample_weight=None, multioutput="uniform_average", force_finite=True):
    t, p, w = _columns(y_true), _columns(y_pred), sample_weight
    c = 1.0 if w is None else w[:, None]
    numerator = (c * (t - p) ** 2).sum(0)
    denominator = (c * (t - _sample_mean(t, w)) ** 2).sum(0)
    return _fraction_explained(numerator, denominator, multioutput)


def _explained_variance(y_true, y_pred, sample_weight=None, multioutput="uniform_average", force_finite=True):
    t, p, w = _columns(y_true), _columns(y_pred), sample_weight
    d = t - p
    numerator = _sample_mean((d - _sample_mean(d, w)) ** 2, w)
    denominator = _sample_mean((t - _sample_mean(t, w)) ** 2, w)
    return _fraction_explained(numerator, denominator, multioutput)


def _max_error(y_true, y_pred):
    return _torch().amax((y_true - y_pred).abs())


def _tweedie(y_true, y_pred, sample_weight=None, power=0):
    torch, y, mu, p = _torch(), y_true, y_pred, power
    if p == 0:
        dev = (y - mu) ** 2
    elif p == 1:
        dev = 2 * (torch.xlogy(y, y) - y * mu.log() - y + mu)
    elif p == 2:
        dev = 2 * ((mu / y).log() + y / mu - 1)
    else:
        dev = 2 * (y.clamp_min(0) ** (2 - p) / ((1 - p) * (2 - p)) - y * mu ** (1 - p) / (1 - p)
                   + mu ** (2 - p) / (2 - p))
    return _sample_mean(dev.reshape(-1, 1), sample_weight)[0]


def _poisson(y_true, y_pred, sample_weight=None):
    return _tweedie(y_true, y_pred, sample_weight, power=1)


def _gamma(y_true, y_pred, sample_weight=None):
    return _tweedie(y_true, y_pred, sample_weight, power=2)


def _metric(name, formula):
    return Oracle(f"sklearn.metrics.{name}", getattr(metrics, name), _sklearn_value(name), formula)


def _sklearn_value(name):
    def value(**arrays_and_options):
        return np.asarray(_sklearn(name)(**_given(**arrays_and_options)), dtype=np.float64)
    value.__name__ = name
    return value


# --- scikit-learn's classification metrics: y_true integer labels, the probabilities or decisions -------------

def _one_hot(y_true, classes, like):
    torch = _torch()
    return (y_true[:, None] == torch.tensor(list(classes))[None, :]).to(like.dtype)


def _log_loss(y_true, y_proba, sample_weight=None, normalize=True, labels=None):
    torch = _torch()
    y_true = y_true.reshape(-1)  # a column of labels
    p = y_proba if y_proba.ndim == 2 and y_proba.shape[1] > 1 else torch.stack((1 - y_proba.reshape(-1),
                                                                                 y_proba.reshape(-1)), dim=1)
    eps = torch.finfo(p.dtype).eps
    losses = -(_one_hot(y_true, labels, p) * p.clamp(eps, 1 - eps).log()).sum(1)
    return _average(losses, sample_weight, normalize)


def _average(losses, w, normalize=True):
    weighted = losses if w is None else losses * w
    if not normalize:
        return weighted.sum()
    return losses.mean() if w is None else weighted.sum() / w.sum()


def _brier(y_true, y_proba, sample_weight=None, pos_label=None, labels=None, scale_by_half="auto"):
    torch = _torch()
    if y_proba.ndim == 1:
        positive = (y_true == pos_label).to(y_proba.dtype)
        one_hot, p = torch.stack((1 - positive, positive), 1), torch.stack((1 - y_proba, y_proba), 1)
    else:
        one_hot, p = _one_hot(y_true, labels, y_proba), y_proba
    score = _average(((one_hot - p) ** 2).sum(1), sample_weight)
    return score * 0.5 if (p.shape[1] < 3 if scale_by_half == "auto" else scale_by_half) else score


def _hinge(y_true, pred_decision, labels=None, sample_weight=None):
    torch = _torch()
    if pred_decision.ndim == 2:
        true = _one_hot(y_true, labels, pred_decision).bool()
        others = pred_decision.masked_fill(true, -math.inf)
        margin = pred_decision[true] - others.amax(1)
    else:
        found = torch.unique(y_true).tolist()  # scikit-learn's signs: y_true's own labels, -1 for all if one
        sign = torch.where(y_true == max(found), 1.0, -1.0) if len(found) == 2 else -torch.ones(y_true.shape)
        margin = sign.to(pred_decision.dtype) * pred_decision
    z = 1 - margin
    return _average(torch.where(z > 0, z, torch.zeros_like(z)), sample_weight)


# --- scoringrules: its NumPy backend for the value, its torch backend (float64) for the gradients -------------

def _scoringrules(name, backend):
    def call(**arrays_and_options):
        import scoringrules

        given = _given(**arrays_and_options)
        if backend == "numpy":
            return np.asarray(getattr(scoringrules, name)(**given, backend="numpy"), dtype=np.float64)
        torch = _torch()
        default = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)  # its constants (sqrt(2), 'int''s CDF steps) in torch's default
        try:
            return getattr(scoringrules, name)(**given, backend="torch")
        finally:
            torch.set_default_dtype(default)
    call.__name__ = f"{name}_{backend}"
    return call


# --- the torch-style losses of these metrics: elementwise oracles, reduced by this library's rules -----------

def _reduced(values, weight, reduction):
    """The elementwise ``values`` (NumPy or torch) reduced as this library reduces a loss: ``weight`` broadcast
    to them, ``'mean'`` the weighted mean ``sum(w l) / sum(w)``."""
    if weight is None:
        return values if reduction == "none" else values.sum() if reduction == "sum" else values.mean()
    weight = weight.expand(values.shape) if hasattr(weight, "expand") else np.broadcast_to(weight, values.shape)
    weighted = values * weight
    return weighted if reduction == "none" else weighted.sum() if reduction == "sum" else weighted.sum() / weight.sum()


def _elementwise_oracle(name, loss_of):
    """The oracle of a torch-style loss from the elementwise value ``loss_of(input, target, **options)``
    the oracle library computes."""
    def value(input, target, weight=None, reduction="mean", **options):
        return np.asarray(_reduced(loss_of(input, target, **options), weight, reduction), dtype=np.float64)
    value.__name__ = name
    return value


def _sklearn_elementwise(name, **renamed):
    """Each element's error as scikit-learn's ``raw_values`` of a one-sample, n-output problem."""
    def loss_of(input, target, **options):
        options = {renamed.get(k, k): v for k, v in options.items()}
        return np.asarray(_sklearn(name)(target.reshape(1, -1), input.reshape(1, -1), multioutput="raw_values",
                                         **options)).reshape(input.shape)
    return loss_of


def _optax_log_cosh(input, target):
    import jax

    jax.config.update("jax_enable_x64", True)
    import optax

    return np.asarray(optax.losses.log_cosh(jax.numpy.asarray(input), jax.numpy.asarray(target)))


def _optax(name):
    """``optax.losses.<name>`` on float64 JAX arrays (x64 on), by keyword."""
    def value(**arrays_and_options):
        import jax

        jax.config.update("jax_enable_x64", True)
        import optax

        given = {k: jax.numpy.asarray(v) if isinstance(v, np.ndarray) else v for k, v in arrays_and_options.items()}
        return np.asarray(getattr(optax.losses, name)(**given), dtype=np.float64)

    value.__name__ = name
    return value


def _optax_oracle(name, formula):
    return Oracle(f"optax.losses.{name}", getattr(agnostic_losses, name), _optax(name), formula)


def _sparse_plus(x):
    torch = _torch()
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x >= 1, x, (x + 1) ** 2 / 4))


def _picked(scores, labels):
    return scores.gather(-1, labels[..., None])[..., 0]


def _multiclass_sparsemax(scores, labels):
    """The Fenchel-Young loss of the Gini entropy, ``<p, s> - s_y + (1 - <p, p>) / 2``, with ``p = max(s - tau,
    0)`` the projection onto the simplex, ``tau`` found by Michelot's fixed point (not a sort): the mean of the
    kept scores less 1 over their number, the kept ones those above it, until they stop changing."""
    torch = _torch()
    kept = torch.ones_like(scores, dtype=torch.bool)
    for _ in range(scores.shape[-1]):
        tau = ((scores * kept).sum(-1, keepdim=True) - 1) / kept.sum(-1, keepdim=True)
        kept = scores.detach() > tau.detach()
    tau = ((scores * kept).sum(-1, keepdim=True) - 1) / kept.sum(-1, keepdim=True)
    p = (scores - tau).clamp_min(0)
    return (p * scores).sum(-1) - _picked(scores, labels) + (1 - (p * p).sum(-1)) / 2


def _ntxent(embeddings, labels, temperature=0.07):
    """The mean over positive pairs (i, j) of ``-log softmax`` of ``c_ij`` against row i's negatives."""
    torch = _torch()
    eps = torch.finfo(embeddings.dtype).eps
    unit = embeddings / (embeddings ** 2).sum(-1, keepdim=True).clamp_min(eps).sqrt()
    c = unit @ unit.T / temperature
    same = labels[:, None] == labels[None, :]
    positive = same & ~torch.eye(len(labels), dtype=torch.bool)
    negatives = torch.where(same, -torch.inf, c).logsumexp(1, keepdim=True)
    log_share = c - torch.logaddexp(negatives, c)
    return -torch.where(positive, log_share, 0.0).sum() / positive.sum()


def _poly_loss(logits, labels, epsilon=2.0, axis=-1, where=None):
    """Cross-entropy plus ``epsilon * sum(labels * (1 - p))``, the masked logits -inf in the log-softmax."""
    torch = _torch()
    dims = tuple(range(logits.ndim)) if axis is None else axis
    x = logits if where is None else logits.masked_fill(~where, -torch.inf)
    log_p = x - x.logsumexp(dims, keepdim=True)

    def kept(v):  # masked log-probabilities (-inf) left out before the labels multiply them
        return v if where is None else torch.where(where, v, 0.0)

    return -(labels * kept(log_p)).sum(dims) + epsilon * (labels * kept(1 - log_p.exp())).sum(dims)


def _cosine_distance(predictions, targets, epsilon=0.0, axis=-1, where=None):
    """``1 - <a, b> / (|a| |b|)``, each norm ``sqrt(max(|v|^2, epsilon))`` over the array's own axes (all of
    them for None); a vector with nothing kept is 1, a constant."""
    torch = _torch()

    def total(v):
        v = v if where is None else torch.where(where, v, 0.0)
        return v.sum(tuple(range(v.ndim)) if axis is None else axis, keepdim=True)

    dot = total(predictions * targets)
    norms = total(predictions ** 2).clamp_min(epsilon).sqrt() * total(targets ** 2).clamp_min(epsilon).sqrt()
    if where is None:
        cosine = dot / norms
    else:
        kept = total(torch.ones_like(dot).expand(torch.broadcast_shapes(predictions.shape, targets.shape))) > 0
        cosine = torch.where(kept, dot / torch.where(kept, norms, 1.0), 0.0)
    return 1 - (cosine.reshape(()) if axis is None else cosine.squeeze(axis))


def _torch_loss(elementwise):
    def formula(input, target, weight=None, reduction="mean", **options):
        return _reduced(elementwise(input, target, **options), weight, reduction)
    return formula


def _rmse_value(input, target, weight=None, reduction="mean"):
    """'none': the weighted errors; 'sum': the root of the weighted sum of squares; 'mean': scikit-learn's."""
    absolute = _sklearn_elementwise("root_mean_squared_error")(input, target)
    if reduction != "mean":
        return _reduced(absolute, weight, "none") if reduction == "none" else np.sqrt(
            _reduced(absolute ** 2, weight, "sum"))
    w = None if weight is None else np.broadcast_to(weight, input.shape).reshape(-1)
    return np.asarray(_sklearn("root_mean_squared_error")(target.reshape(-1), input.reshape(-1), sample_weight=w))


def _rmse_formula(input, target, weight=None, reduction="mean"):
    d = input - target
    return _reduced(d.abs(), weight, "none") if reduction == "none" else _root(_reduced(d ** 2, weight, reduction))


def torchvision_ops():
    """``torchvision.ops``, importable on a CPU torch.

    The registry's torchvision 0.28 wheel is a CUDA build whose compiled
    extension does not load on torch's CPU build; its Python module then
    registers fake implementations of ``torchvision::nms`` and ``qnms`` and
    fails at "operator torchvision::nms does not exist".  The losses compared
    here are pure torch, so the two operators' schemas are declared (never
    called) and the import tried again.
    """
    import sys

    torch = _torch()
    try:
        import torchvision.ops
    except RuntimeError as exc:
        if "torchvision::nms" not in str(exc):
            raise
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]  # the failed import's half-made modules
        _TORCHVISION_SCHEMAS.append(torch.library.Library("torchvision", "DEF"))
        for op in ("nms", "qnms"):
            _TORCHVISION_SCHEMAS[-1].define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        import torchvision.ops
    return torchvision.ops


_TORCHVISION_SCHEMAS: list = []  # the Library object must live as long as the schemas it declared


def _torch_code(reference, function, derivative=True, ours=None):
    """An oracle whose library is torch code (torchvision, kornia, torchmetrics, MONAI): its value on float64
    tensors, and itself as the formula, whose gradients are torch autograd of the library's own.  ``function()``
    imports it; ``ours`` is the function of ours of its name (default: the reference's last name)."""
    def formula(**arrays_and_options):
        return function()(**arrays_and_options)

    def value(**arrays_and_options):
        given = {k: _torch().from_numpy(v) if isinstance(v, np.ndarray) else v
                 for k, v in arrays_and_options.items()}
        return formula(**given).numpy()

    name = reference.rsplit(".", 1)[1]
    value.__name__ = name
    return Oracle(reference, ours or getattr(agnostic_losses, name), value, formula, derivative)


def _torchvision(name, derivative=True):
    return _torch_code(f"torchvision.ops.{name}", lambda: getattr(torchvision_ops(), name), derivative)


def _kornia(name):
    def function():
        import kornia.losses

        return getattr(kornia.losses, name)

    return _torch_code(f"kornia.losses.{name}", function)


def _torchmetrics_jensen_shannon():
    """torchmetrics' function, run with torch's default dtype float64: its ``log 2`` is ``torch.tensor(2.0)``,
    in the default dtype (the oracle's value in float64, not a float32 constant)."""
    import importlib.util

    if importlib.util.find_spec("torchvision") is not None:
        torchvision_ops()  # torchmetrics imports torchvision where it is installed
    from torchmetrics.functional.regression import jensen_shannon_divergence

    def in_float64(**arrays_and_options):
        torch = _torch()
        before = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            return jensen_shannon_divergence(**arrays_and_options)
        finally:
            torch.set_default_dtype(before)

    return in_float64


def _monai(name):
    """MONAI's loss class ``name``, made with the case's options and called on its arrays; the classes moved to
    axis 1 (MONAI's channels) where the case names another ``axis``.

    Two of MONAI's steps are float32 whatever the input's dtype; here they run in the input's, so that the
    float64 value is exact: the one-hot target (``monai.networks.one_hot``'s default dtype; exact, but the
    squared and soft-label norms of it round) and GeneralizedDiceLoss's class weights (``ground_o.float()``:
    the catalogue's volumes, counts and sums of eighths, are exact in float32; their reciprocals are not).
    """
    def function():
        import functools

        import monai.losses
        import monai.losses.dice
        import monai.losses.tversky
        import monai.networks

        class GeneralizedDiceLoss(monai.losses.GeneralizedDiceLoss):
            def w_func(self, grnd):
                return super().w_func(grnd.double())

        cls = GeneralizedDiceLoss if name == "GeneralizedDiceLoss" else getattr(monai.losses, name)
        modules = (monai.losses.dice, monai.losses.tversky)

        def call(input, target, axis=1, **options):
            moved = axis % input.ndim != 1
            if moved:
                input, target = input.movedim(axis, 1), target.movedim(axis, 1)
            saved = [m.one_hot for m in modules]
            for m in modules:
                m.one_hot = functools.partial(monai.networks.one_hot, dtype=input.dtype)
            try:
                out = cls(**options)(input, target)
            finally:
                for m, f in zip(modules, saved):
                    m.one_hot = f
            return out.movedim(1, axis) if moved and out.ndim == input.ndim else out

        return call

    ours = {"DiceLoss": "dice_loss", "GeneralizedDiceLoss": "generalized_dice_loss", "TverskyLoss": "tversky_loss"}
    return _torch_code(f"monai.losses.{name}", function, ours=getattr(agnostic_losses, ours[name]))


ORACLES = {
    **{f"metrics.{name}": _metric(name, _per_output(errors)) for name, errors in (
        ("mean_absolute_error", _mae), ("mean_squared_error", _mse), ("mean_squared_log_error", _msle),
        ("mean_absolute_percentage_error", _mape), ("mean_pinball_loss", _pinball),
        ("median_absolute_error", _median))},
    "metrics.root_mean_squared_error": _metric("root_mean_squared_error", _per_output(lambda t, p, w: _root(_mse(
        t, p, w)))),
    "metrics.root_mean_squared_log_error": _metric("root_mean_squared_log_error", _per_output(lambda t, p, w: _root(_msle(
        t, p, w)))),
    "metrics.max_error": _metric("max_error", _max_error),
    "metrics.r2_score": _metric("r2_score", _r2),
    "metrics.explained_variance_score": _metric("explained_variance_score", _explained_variance),
    "metrics.mean_tweedie_deviance": _metric("mean_tweedie_deviance", _tweedie),
    "metrics.mean_poisson_deviance": _metric("mean_poisson_deviance", _poisson),
    "metrics.mean_gamma_deviance": _metric("mean_gamma_deviance", _gamma),
    "metrics.log_loss": _metric("log_loss", _log_loss),
    "metrics.brier_score_loss": _metric("brier_score_loss", _brier),
    "metrics.hinge_loss": _metric("hinge_loss", _hinge),
    **{f"metrics.{name}": Oracle(f"scoringrules.{name}", getattr(metrics, name), _scoringrules(name, "numpy"),
                                 _scoringrules(name, "torch")) for name in ("crps_normal", "crps_ensemble")},
    "log_cosh_loss": Oracle("optax.losses.log_cosh", agnostic_losses.log_cosh_loss,
                            _elementwise_oracle("log_cosh", _optax_log_cosh),
                            _torch_loss(lambda x, t: (x - t) + _torch().nn.functional.softplus(-2 * (x - t))
                                        - math.log(2))),
    "mape_loss": Oracle("sklearn.metrics.mean_absolute_percentage_error", agnostic_losses.mape_loss,
                        _elementwise_oracle("mape", _sklearn_elementwise("mean_absolute_percentage_error")),
                        _torch_loss(lambda x, t: (x - t).abs() / t.abs().clamp_min(np.finfo(np.float64).eps))),
    "msle_loss": Oracle("sklearn.metrics.mean_squared_log_error", agnostic_losses.msle_loss,
                        _elementwise_oracle("msle", _sklearn_elementwise("mean_squared_log_error")),
                        _torch_loss(lambda x, t: (x.log1p() - t.log1p()) ** 2)),
    "rmse_loss": Oracle("sklearn.metrics.root_mean_squared_error", agnostic_losses.rmse_loss, _rmse_value,
                        _rmse_formula),
    "pinball_loss": Oracle("sklearn.metrics.mean_pinball_loss", agnostic_losses.pinball_loss,
                           _elementwise_oracle("pinball", _sklearn_elementwise("mean_pinball_loss",
                                                                               quantile="alpha")),
                           _torch_loss(lambda x, t, quantile=0.5: _torch().where(
                               t - x >= 0, quantile * (t - x), (quantile - 1) * (t - x)))),
    **{name: _torchvision(name) for name in ("sigmoid_focal_loss", "generalized_box_iou_loss",
                                             "distance_box_iou_loss")},
    "focal_loss": _kornia("focal_loss"),
    "dice_loss": _monai("DiceLoss"),
    "generalized_dice_loss": _monai("GeneralizedDiceLoss"),
    "tversky_loss": _monai("TverskyLoss"),
    "jensen_shannon_divergence": _torch_code("torchmetrics.functional.regression.jensen_shannon_divergence",
                                             _torchmetrics_jensen_shannon),
    # optax's losses, their kinks' gradients torch's (clamp_min passes the gradient at 0; optax halves it)
    "hinge_loss": _optax_oracle("hinge_loss", lambda predictor_outputs, targets: (
        1 - predictor_outputs * targets).clamp_min(0)),
    "perceptron_loss": _optax_oracle("perceptron_loss", lambda predictor_outputs, targets: (
        -predictor_outputs * targets).clamp_min(0)),
    "sparsemax_loss": _optax_oracle("sparsemax_loss", lambda logits, labels: _sparse_plus(
        _torch().where(labels != 0, -logits, logits))),
    "multiclass_hinge_loss": _optax_oracle("multiclass_hinge_loss", lambda scores, labels: (
        scores + 1 - _torch().nn.functional.one_hot(labels, scores.shape[-1])).amax(-1) - _picked(scores, labels)),
    "multiclass_perceptron_loss": _optax_oracle("multiclass_perceptron_loss", lambda scores, labels: (
        scores.amax(-1) - _picked(scores, labels))),
    "multiclass_sparsemax_loss": _optax_oracle("multiclass_sparsemax_loss", _multiclass_sparsemax),
    "cosine_distance": _optax_oracle("cosine_distance", _cosine_distance),
    "ntxent": _optax_oracle("ntxent", _ntxent),
    "poly_loss_cross_entropy": _optax_oracle("poly_loss_cross_entropy", _poly_loss),
    # torchvision computes the aspect-ratio weight under no_grad: its gradient is not its value's derivative
    "complete_box_iou_loss": _torchvision("complete_box_iou_loss", derivative=False),
}


def missing(loss: str) -> str | None:
    """Why ``loss``'s oracle cannot run here (its library is not installed), or None."""
    import importlib.util

    oracle = ORACLES.get(loss)
    module = oracle and oracle.reference.split(".")[0]
    if module and importlib.util.find_spec(module) is None:
        return f"{module} ({oracle.reference}, the oracle) is not installed"
    return None


def reference(loss: str) -> str:
    """The function ``loss`` is judged against, as the report names it."""
    oracle = ORACLES.get(loss)
    return oracle.reference if oracle else f"torch.nn.functional.{loss}"
