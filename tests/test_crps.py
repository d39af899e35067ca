"""crps_normal and crps_ensemble (agnostic_losses.metrics) against scoringrules.

Values against ``scoringrules`` itself (its NumPy backend, float64) on every
backend; gradients in the observation, the forecast parameters, the members and
their weights against ``torch.autograd`` of scoringrules' own torch backend, an
implementation independent of ours.
"""

from __future__ import annotations

import numpy as np
import pytest

from agnostic_losses import metrics as M
from agnostic_losses._crps import ESTIMATORS

from helpers import assert_close, need

RNG = np.random.default_rng(30)
OBS = RNG.standard_normal((2, 3))
FCT = RNG.standard_normal((2, 3, 6)) * 1.5
WEIGHTS = RNG.uniform(0.1, 1.0, (2, 3, 6))
MU, SIGMA = RNG.standard_normal((2, 3)), RNG.uniform(0.2, 3.0, (2, 3))

# (estimator, weighted, sorted_ensemble, m_axis)
ENSEMBLE = [(e, weighted, False, -1) for e in ESTIMATORS for weighted in (False, True)]
ENSEMBLE += [("qd", False, True, -1), ("int", True, True, -1), ("nrg", True, False, 1), ("qd", False, False, 0)]


def _ensemble_arrays(weighted, sorted_ensemble, m_axis):
    fct, w = (np.sort(FCT, axis=-1), WEIGHTS) if sorted_ensemble else (FCT, WEIGHTS)
    fct, w = np.moveaxis(fct, -1, m_axis), np.moveaxis(w, -1, m_axis)
    return OBS, fct, (w if weighted else None)


def scoringrules(name, *args, backend="numpy", **kwargs):
    return getattr(need("scoringrules"), name)(*args, backend=backend, **kwargs)


@pytest.mark.parametrize("estimator,weighted,sorted_ensemble,m_axis", ENSEMBLE)
def test_crps_ensemble_is_scoringrules(backend, estimator, weighted, sorted_ensemble, m_axis):
    obs, fct, w = _ensemble_arrays(weighted, sorted_ensemble, m_axis)
    options = {"estimator": estimator, "sorted_ensemble": sorted_ensemble}
    expected = scoringrules("crps_ensemble", obs, fct, m_axis, ens_w=w, **options)
    out = M.crps_ensemble(backend.asarray(obs, "float64"), backend.asarray(fct, "float64"), m_axis,
                          ens_w=None if w is None else backend.asarray(w, "float64"), **options)
    assert type(out) is type(backend.asarray(obs, "float64")) and tuple(out.shape) == obs.shape
    assert_close(backend.to_numpy(out), expected, what=f"{estimator} weighted={weighted}")


def test_crps_normal_is_scoringrules(backend):
    obs = np.concatenate([OBS, [[0.0, 40.0, -40.0]]])  # far tails: erf's own range
    mu, sigma = np.concatenate([MU, [[0.0, 0.0, 1.0]]]), np.concatenate([SIGMA, [[1.0, 0.5, 2.0]]])
    expected = scoringrules("crps_normal", obs, mu, sigma)
    out = M.crps_normal(backend.asarray(obs, "float64"), backend.asarray(mu, "float64"),
                        backend.asarray(sigma, "float64"))
    assert_close(backend.to_numpy(out), expected)
    broadcast = M.crps_normal(backend.asarray(obs, "float64"), 0.5, backend.asarray(sigma[0], "float64"))
    assert_close(backend.to_numpy(broadcast), scoringrules("crps_normal", obs, 0.5, sigma[0]))


def _torch_oracle(name, arrays, *args, **options):
    """scoringrules' torch backend in float64: its value and the ``torch.autograd`` gradients of its sum in each of
    ``arrays`` (its constants, ``sqrt(2)`` and the 'int' estimator's CDF steps, are made in torch's default dtype:
    float64 here)."""
    torch = need("torch")
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in arrays.items() if v is not None}
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        out = scoringrules(name, *args, backend="torch", **tensors, **options)
    finally:
        torch.set_default_dtype(default)
    got = torch.autograd.grad(out.sum(), list(tensors.values()))
    return out.detach().numpy(), {k: g.numpy() for k, g in zip(tensors, got)}


@pytest.mark.parametrize("estimator,weighted,sorted_ensemble,m_axis", ENSEMBLE)
def test_crps_ensemble_gradients_are_scoringrules_torch_autograd(ad_backend, estimator, weighted, sorted_ensemble,
                                                                  m_axis):
    obs, fct, w = _ensemble_arrays(weighted, sorted_ensemble, m_axis)
    arrays = {"obs": obs, "fct": fct} | ({"ens_w": w} if weighted else {})
    grads = tuple(arrays)
    options = {"estimator": estimator, "sorted_ensemble": sorted_ensemble}
    expected, oracle = _torch_oracle("crps_ensemble", arrays, m_axis=m_axis, **options)
    got = ad_backend.evaluate(lambda obs, fct, ens_w=None: M.crps_ensemble(obs, fct, m_axis, ens_w=ens_w, **options),
                              arrays, {}, "float64", grads, np.ones(obs.shape))
    for variant, (value, gradients, _) in got.items():
        assert_close(value, expected, what=f"{variant} value")
        for k in grads:
            assert_close(gradients[k], oracle[k], what=f"{variant} {estimator} d/d{k}")


def test_crps_normal_gradients_are_scoringrules_torch_autograd(ad_backend):
    arrays = {"obs": OBS, "mu": MU, "sigma": SIGMA}
    _, oracle = _torch_oracle("crps_normal", arrays)
    got = ad_backend.evaluate(M.crps_normal, arrays, {}, "float64", tuple(arrays), np.ones(OBS.shape))
    for variant, (_, gradients, _) in got.items():
        for k in arrays:
            assert_close(gradients[k], oracle[k], what=f"{variant} d/d{k}")


def test_transforms():
    jax = need("jax")
    jnp = jax.numpy
    obs, fct, w = jnp.asarray(OBS), jnp.asarray(FCT), jnp.asarray(WEIGHTS)
    for estimator in ESTIMATORS:
        expected = scoringrules("crps_ensemble", OBS, FCT, ens_w=WEIGHTS, estimator=estimator)
        jitted = jax.jit(lambda o, f, w: M.crps_ensemble(o, f, ens_w=w, estimator=estimator))
        assert_close(np.asarray(jitted(obs, fct, w)), expected, "float32", what=f"jit {estimator}")
        rows = jax.vmap(lambda o, f: M.crps_ensemble(o, f, estimator=estimator))(obs, fct)
        assert_close(np.asarray(rows), scoringrules("crps_ensemble", OBS, FCT, estimator=estimator), "float32",
                     what=f"vmap {estimator}")
    torch = need("torch")
    f = torch.tensor(FCT, requires_grad=True)
    compiled = torch.compile(lambda o, f: M.crps_ensemble(o, f).sum(), fullgraph=True, backend="aot_eager")
    (g,) = torch.autograd.grad(compiled(torch.tensor(OBS), f), f)
    (g_eager,) = torch.autograd.grad(M.crps_ensemble(torch.tensor(OBS), f).sum(), f)
    assert_close(g.numpy(), g_eager.numpy())
    da = need("dask.array")
    lazy = M.crps_ensemble(da.from_array(OBS, chunks=1), da.from_array(FCT, chunks=(1, 3, 6)), estimator="int")
    assert isinstance(lazy, da.Array)
    assert_close(lazy.compute(), scoringrules("crps_ensemble", OBS, FCT, estimator="int"))


def test_gradients_at_ties_are_this_librarys():
    torch = need("torch")
    fct = torch.tensor([0.0, 1.0, 1.0, 3.0], dtype=torch.float64, requires_grad=True)  # a tie and a member at y
    for estimator in ("nrg", "fair"):
        (g,) = torch.autograd.grad(M.crps_ensemble(torch.tensor(1.0, dtype=torch.float64), fct,
                                                   estimator=estimator), fct)
        # the energy form's derivative in x_i: (sign(x_i - y) - sum_j sign(x_i - x_j) / M') / M, sign(0) = 0
        m = 4 if estimator == "nrg" else 3
        x = fct.detach().numpy()
        expected = (np.sign(x - 1.0) - np.sign(x[:, None] - x[None, :]).sum(axis=1) / m) / 4
        assert_close(g.numpy(), expected, what=estimator)


def test_numpy_scalars_as_scoringrules_takes_them():
    axis, flag = np.argmax(FCT.shape), np.bool_(False)  # np.int64(2), a NumPy bool
    assert_close(M.crps_ensemble(OBS, FCT, axis, sorted_ensemble=flag),
                 scoringrules("crps_ensemble", OBS, FCT, axis, sorted_ensemble=flag))


def test_bad_input_raises_clear_errors():
    cases = [
        (lambda: M.crps_ensemble(OBS, FCT, estimator="median"), ValueError,
         r"crps_ensemble: estimator must be one of 'qd', 'nrg', 'fair', 'pwm', 'akr', 'akr_circperm', 'int', got "
         r"'median'"),
        (lambda: M.crps_ensemble(OBS[0], FCT), ValueError,
         r"crps_ensemble: obs must have fct's shape without m_axis, \(2, 3\), got \(3,\)"),
        (lambda: M.crps_ensemble(OBS, FCT, ens_w=WEIGHTS[..., :3]), ValueError,
         r"crps_ensemble: ens_w must have fct's shape \(2, 3, 6\), got \(2, 3, 3\)"),
        (lambda: M.crps_ensemble(OBS, FCT, ens_w=-WEIGHTS), ValueError,
         r"crps_ensemble: ens_w must hold non-negative weights, got -"),
        (lambda: M.crps_ensemble(OBS, FCT, 3), ValueError, r"crps_ensemble: m_axis must be an axis of fct \(ndim 3\), "
                                                           r"got 3"),
        (lambda: M.crps_ensemble(OBS, FCT, sorted_ensemble=1), TypeError,
         r"crps_ensemble: sorted_ensemble must be True or False, got 1"),
        (lambda: M.crps_normal(OBS, MU, -SIGMA), ValueError, r"crps_normal: sigma must hold values > 0 \(a standard "
                                                             r"deviation\), got -"),
        (lambda: M.crps_normal(0.0, 1.0, 2.0), TypeError, r"crps_normal: obs, mu, sigma must include an array"),
        (lambda: M.crps_normal(OBS, MU[:, :2], SIGMA), ValueError, r"crps_normal: "),
    ]
    for call, kind, message in cases:
        with pytest.raises(kind, match=message):
            call()
