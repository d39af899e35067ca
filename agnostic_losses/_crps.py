"""The continuous ranked probability score (CRPS) of a normal forecast and of an ensemble, as ``scoringrules``.

Public through ``agnostic_losses.metrics``.  ``CRPS(F, y) = int (F(x) - 1{y <=
x})^2 dx = E|X - y| - E|X - X'| / 2`` for ``X, X' ~ F`` independent: lower is
better, 0 only for a point forecast at the observation.
"""

from __future__ import annotations

import math
import numbers

from . import _checks as checks
from . import _primitives as P
from ._setup import setup, silent_nonfinite
from ._typing import Array

__all__ = ["crps_normal", "crps_ensemble"]

ESTIMATORS = ("qd", "nrg", "fair", "pwm", "akr", "akr_circperm", "int")
_SORTED = ("qd", "pwm", "int")  # the estimators that need the members in ascending order


def _as_arrays(metric, named: dict):
    """``named`` arrays with any Python number among them made an array of the first array's library, dtype and
    device."""
    like = next((a for a in named.values() if P.is_array(a)), None)
    if like is None:
        raise TypeError(f"{metric}: {', '.join(named)} must include an array, got only "
                        f"{', '.join(type(a).__name__ for a in named.values())}")
    xp = P.array_namespace(like)
    dtype = like.dtype if xp.isdtype(like.dtype, "real floating") else P.wide_float(like)
    return {k: xp.asarray(float(a), dtype=dtype, device=P.device(like))
            if isinstance(a, numbers.Real) and not isinstance(a, bool) else a for k, a in named.items()}


@silent_nonfinite
def crps_normal(obs: Array, mu: Array | float, sigma: Array | float) -> Array:
    """The CRPS of the normal forecast ``N(mu, sigma^2)`` at ``obs``, as ``scoringrules.crps_normal``.

    ``sigma (w (2 Phi(w) - 1) + 2 phi(w) - 1 / sqrt(pi))`` with ``w = (obs -
    mu) / sigma`` (Gneiting et al., 2005), ``Phi`` and ``phi`` the standard
    normal CDF and density.

    Args:
        obs: the observations.
        mu: the forecast means, broadcasting with ``obs``.
        sigma: the forecast standard deviations, ``> 0`` (checked where the data can be read), broadcasting
            with ``obs``.  The three are arrays of one library, or Python numbers beside at least one such
            array; all are differentiable.

    Returns the scores, of the broadcast shape (no mean is taken).

    Examples:
        >>> import numpy as np
        >>> [round(v, 6) for v in crps_normal(np.array([0.0, 1.0]), np.array([0.0, 0.0]), np.array([1.0, 2.0])).tolist()]
        [0.233695, 0.662807]
    """
    metric = "crps_normal"
    s = setup(metric, "none", _as_arrays(metric, {"obs": obs, "mu": mu, "sigma": sigma}), targets=("obs",))
    xp = s.xp
    obs, mu, sigma = s.arrays
    checks.broadcast_shape(metric, obs=obs, mu=mu, sigma=sigma)
    checks.values(metric, "sigma", sigma, lambda v: v > 0, "values > 0 (a standard deviation)")
    w = (obs - mu) / sigma
    cdf = (1 + P.erf(w / math.sqrt(2))) / 2
    density = xp.exp(-w * w / 2) / math.sqrt(2 * math.pi)
    return s.finish(sigma * (w * (2 * cdf - 1) + 2 * density - 1 / math.sqrt(math.pi)))


@silent_nonfinite
def crps_ensemble(obs: Array, fct: Array, m_axis: int = -1, *, ens_w: Array | None = None, estimator: str = "qd",
                  sorted_ensemble: bool = False) -> Array:
    """The CRPS of the ensemble forecast ``fct`` at ``obs``, as ``scoringrules.crps_ensemble``.

    For members ``x_1 .. x_M`` (weights ``w_i``, normalised to sum to 1; ``1 / M``
    by default), ``estimator``:

    - 'nrg' (energy form): ``sum_i w_i |x_i - y| - 1/2 sum_ij w_i w_j |x_i - x_j|``;
    - 'fair': the same with the second sum divided by ``1 - sum_i w_i^2``
      (``M / (M - 1)`` unweighted), unbiased for the distribution the members
      are drawn from;
    - 'pwm' (probability weighted moments): ``sum_i w_i |x_i - y| + b_0 -
      2 b_1``, ``b_0 = sum_i w_i x_i``, ``b_1 = sum_i w_i x_i W_{i-1} / (1 -
      sum_i w_i^2)`` over the sorted members (``W`` the cumulative weight);
    - 'qd' (quantile decomposition, the default): ``2 sum_i w_i (1{x_i > y} -
      a_i) (x_i - y)``, ``a_i = W_i - w_i / 2`` over the sorted members;
    - 'akr', 'akr_circperm' (approximate kernel representation): the energy
      form's second term over neighbours only, ``1/2 sum_i w_j |x_j - x_i|``
      with ``j = i + 1`` (or ``i + M // 2`` unweighted, ``i + (M - 1) // 2``
      weighted, as scoringrules' two implementations differ) cyclically;
    - 'int' (integral form): ``int (F_M(x) - 1{y <= x})^2 dx`` of the
      ensemble's step CDF, exactly.

    Args:
        obs: ``fct``'s shape without ``m_axis``.
        fct: the members along ``m_axis``.  Differentiable, as ``obs`` and ``ens_w``.
        m_axis: the members' axis of ``fct``.
        ens_w: the members' weights, ``fct``'s shape, non-negative.
        estimator: one of the forms above, by name.
        sorted_ensemble: the members are in ascending order already ('qd',
            'pwm' and 'int' sort them otherwise).

    Returns the scores, of ``obs``'s shape.  The gradient at a tie (a member
    equal to ``y`` or to another member) is this library's: ``|d|`` has
    subgradient 0, and 'qd''s and 'int''s indicators are constants.

    Examples:
        >>> import numpy as np
        >>> round(float(crps_ensemble(np.array(0.3), np.array([-1.0, 0.0, 0.5, 2.0]))), 6)
        0.28125
    """
    metric = "crps_ensemble"
    if estimator not in ESTIMATORS:
        raise ValueError(f"{metric}: estimator must be one of {', '.join(map(repr, ESTIMATORS))}, got {estimator!r}")
    checks.boolean(metric, "sorted_ensemble", sorted_ensemble)
    s = setup(metric, "none", _as_arrays(metric, {"fct": fct, "obs": obs}) | {"ens_w": ens_w}, targets=("obs",))
    xp = s.xp
    fct, obs, ens_w = s.arrays
    if isinstance(m_axis, bool) or not isinstance(m_axis, numbers.Integral) or not -fct.ndim <= m_axis < fct.ndim:
        raise ValueError(f"{metric}: m_axis must be an axis of fct (ndim {fct.ndim}), got {m_axis!r}")
    axis = int(m_axis) % fct.ndim
    expected = (*fct.shape[:axis], *fct.shape[axis + 1:])
    if tuple(obs.shape) != expected:
        raise ValueError(f"{metric}: obs must have fct's shape without m_axis, {expected}, got {tuple(obs.shape)}")
    if ens_w is not None and tuple(ens_w.shape) != tuple(fct.shape):
        raise ValueError(f"{metric}: ens_w must have fct's shape {tuple(fct.shape)}, got {tuple(ens_w.shape)}")
    last = (*(i for i in range(fct.ndim) if i != axis), axis)
    fct = xp.permute_dims(fct, last)
    if ens_w is not None:
        checks.values(metric, "ens_w", ens_w, lambda v: ~(v < 0), "non-negative weights")
        ens_w = xp.permute_dims(ens_w, last)
        ens_w = ens_w / xp.sum(ens_w, axis=-1, keepdims=True)
    if estimator in _SORTED and not sorted_ensemble:
        fct, order = P.sort(fct, axis=-1)
        ens_w = None if ens_w is None else P.take_along_axis(ens_w, order, axis=-1)
    y = obs[..., None]
    score = (_UNWEIGHTED if ens_w is None else _WEIGHTED)[estimator](xp, y, fct, ens_w)
    return s.finish(score)


def _rolled(x, shift):
    """``x`` with its last axis rotated ``shift`` places to the left: entry ``i`` is ``x[(i + shift) % M]``."""
    xp = P.array_namespace(x)
    shift %= x.shape[-1]
    return x if shift == 0 else xp.concat((x[..., shift:], x[..., :shift]), axis=-1)


def _pairs(x, w=None):
    """``sum_ij w_i w_j |x_i - x_j|`` over the last axis (unweighted: ``w = 1``)."""
    xp = P.array_namespace(x)
    d = P.abs(x[..., :, None] - x[..., None, :])
    return xp.sum(d if w is None else d * w[..., :, None] * w[..., None, :], axis=(-2, -1))


def _arange(x, start, stop):
    xp = P.array_namespace(x)
    return xp.arange(start, stop, dtype=x.dtype, device=P.device(x))


def _integral(xp, y, x, w, cdf):
    """``int (F(t) - 1{y <= t})^2 dt`` for the step CDF ``F`` of the sorted members ``x``, of weights ``w`` and
    cumulative weights ``cdf``."""
    m = x.shape[-1]
    below = xp.sum(xp.astype(x <= y, x.dtype) * w, axis=-1, keepdims=True)  # NaN weights stay NaN, as theirs
    steps, _ = P.sort(xp.concat((cdf, below), axis=-1), axis=-1)
    points, _ = P.sort(xp.concat((x, y), axis=-1), axis=-1)
    obs_cdf = xp.astype(y <= points[..., :m], x.dtype)
    return xp.sum((points[..., 1:] - points[..., :m]) * (steps[..., :m] - obs_cdf) ** 2, axis=-1)


def _spread(xp, y, x, w=None):
    """``sum_i w_i |x_i - y|`` (unweighted: the mean)."""
    d = P.abs(y - x)
    return xp.mean(d, axis=-1) if w is None else xp.sum(d * w, axis=-1)


def _qd(xp, y, x, _):
    m = x.shape[-1]
    alpha = _arange(x, 1, m + 1) - 0.5
    below = xp.where(x <= y, alpha * (y - x), xp.zeros_like(x))
    above = xp.where(x > y, (m - alpha) * (x - y), xp.zeros_like(x))
    return 2 * xp.sum(below + above, axis=-1) / m**2


def _pwm(xp, y, x, _):
    m = x.shape[-1]
    return _spread(xp, y, x) + xp.mean(x, axis=-1) - 2 * xp.sum(x * _arange(x, 0, m), axis=-1) / (m * (m - 1.0))


_UNWEIGHTED = {  # scoringrules' core/crps/_approx.py, term by term
    "nrg": lambda xp, y, x, _: _spread(xp, y, x) - 0.5 * _pairs(x) / x.shape[-1] ** 2,
    "fair": lambda xp, y, x, _: _spread(xp, y, x) - 0.5 * _pairs(x) / (x.shape[-1] * (x.shape[-1] - 1)),
    "pwm": _pwm,
    "qd": _qd,
    "akr": lambda xp, y, x, _: _spread(xp, y, x) - 0.5 * xp.mean(P.abs(x - _rolled(x, -1)), axis=-1),
    "akr_circperm": lambda xp, y, x, _: (_spread(xp, y, x)
                                         - 0.5 * xp.mean(P.abs(x - _rolled(x, -(x.shape[-1] // 2))), axis=-1)),
    "int": lambda xp, y, x, _: _integral(xp, y, x, xp.full_like(x, 1 / x.shape[-1]),
                                         xp.broadcast_to(_arange(x, 1, x.shape[-1] + 1) / x.shape[-1], x.shape)),
}


def _pwm_weighted(xp, y, x, w):
    before = P.cumulative_sum(w, axis=-1) - w
    return (_spread(xp, y, x, w) + xp.sum(x * w, axis=-1)
            - 2 * xp.sum(x * w * before, axis=-1) / (1 - xp.sum(w * w, axis=-1)))


def _qd_weighted(xp, y, x, w):
    a = P.cumulative_sum(w, axis=-1) - 0.5 * w
    d = x - y
    return 2 * xp.sum(w * xp.where(d > 0, 1 - a, -a) * d, axis=-1)


def _akr_weighted(shift):
    def akr(xp, y, x, w):
        s = shift(x.shape[-1])
        return _spread(xp, y, x, w) - 0.5 * xp.sum(P.abs(_rolled(x, s) - x) * _rolled(w, s), axis=-1)
    return akr


_WEIGHTED = {  # scoringrules' core/crps/_approx_w.py
    "nrg": lambda xp, y, x, w: _spread(xp, y, x, w) - 0.5 * _pairs(x, w),
    "fair": lambda xp, y, x, w: _spread(xp, y, x, w) - 0.5 * _pairs(x, w) / (1 - xp.sum(w * w, axis=-1)),
    "pwm": _pwm_weighted,
    "qd": _qd_weighted,
    "akr": _akr_weighted(lambda m: 1),
    "akr_circperm": _akr_weighted(lambda m: (m - 1) // 2),
    "int": lambda xp, y, x, w: _integral(xp, y, x, w, P.cumulative_sum(w, axis=-1)),
}
