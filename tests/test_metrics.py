"""agnostic_losses.metrics: scikit-learn's regression metrics, on every backend.

Values against ``sklearn.metrics`` itself (float64), gradients in ``y_pred``
against central finite differences of scikit-learn's value away from kinks, and
this library's conventions at the kinks.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

from agnostic_losses import metrics as M
from conformance.runner import finite_differences

from helpers import assert_close, need

RNG = np.random.default_rng(28)
N, K = 7, 3
Y_TRUE = {1: RNG.standard_normal(N), 2: RNG.standard_normal((N, K))}
Y_PRED = {1: RNG.standard_normal(N), 2: RNG.standard_normal((N, K))}
WEIGHT = RNG.uniform(0.1, 2.0, N)
SCORES = ("r2_score", "explained_variance_score")
TWEEDIE = ("mean_tweedie_deviance", "mean_poisson_deviance", "mean_gamma_deviance")
ONE_OUTPUT = ("max_error", *TWEEDIE)  # 1-D targets only, no multioutput
CLASSIFICATION = ("log_loss", "brier_score_loss", "hinge_loss")  # tests/test_metrics_classification.py
SCORES_OF_FORECASTS = ("crps_normal", "crps_ensemble")  # scoringrules': tests/test_crps.py
REGRESSION = [name for name in M.__all__ if name not in CLASSIFICATION + SCORES_OF_FORECASTS]


def arguments(name, ndim):
    """The keyword sets of ``name`` to compare with scikit-learn's, for ``ndim``-dimensional targets."""
    if name in ONE_OUTPUT:
        return ([{}] + ([{"sample_weight": WEIGHT}] if name in TWEEDIE else [])) if ndim == 1 else []
    out = [{}, {"sample_weight": WEIGHT}, {"multioutput": "raw_values"},
           {"multioutput": "raw_values", "sample_weight": WEIGHT}]
    if ndim == 2:
        out += [{"multioutput": [0.2, 0.3, 0.5]}, {"multioutput": [0.2, 0.3, 0.5], "sample_weight": WEIGHT}]
    if name in SCORES:
        out += [{"multioutput": "variance_weighted"}, {"force_finite": False}]
    if name == "mean_pinball_loss":
        out += [{"alpha": 0.9}, {"alpha": 0.1, "sample_weight": WEIGHT}]
    return out


def data(name, ndim):
    y_true, y_pred = Y_TRUE[ndim], Y_PRED[ndim]
    if "log" in name or name in TWEEDIE:  # log1p's domain; the deviances' (power 0 by default, Poisson, Gamma)
        return np.abs(y_true) + 0.1, np.abs(y_pred) + 0.1
    return y_true, y_pred


CASES = [(name, ndim, i) for name in REGRESSION for ndim in (1, 2) for i in range(len(arguments(name, ndim)))]


def sklearn_metric(name):
    return getattr(need("sklearn.metrics"), name)


def test_signatures_are_the_oracles():
    for name in M.__all__:
        ours = [(p.name, p.kind, p.default) for p in inspect.signature(getattr(M, name)).parameters.values()]
        oracle = getattr(need("scoringrules"), name) if name in SCORES_OF_FORECASTS else sklearn_metric(name)
        theirs = [(p.name, p.kind, p.default) for p in inspect.signature(oracle).parameters.values()
                  if p.name != "backend"]  # scoringrules' choice of its own backend
        assert ours == theirs, name


@pytest.mark.parametrize("name,ndim,i", CASES)
def test_values_are_sklearns_on_every_backend(backend, name, ndim, i):
    kwargs = arguments(name, ndim)[i]
    y_true, y_pred = data(name, ndim)
    expected = np.asarray(sklearn_metric(name)(y_true, y_pred, **kwargs))
    given = {k: backend.asarray(v, "float64") if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    out = getattr(M, name)(backend.asarray(y_true, "float64"), backend.asarray(y_pred, "float64"), **given)
    assert type(out) is type(backend.asarray(y_pred, "float64")) and str(out.dtype).endswith("float64")
    assert tuple(out.shape) == expected.shape
    assert_close(backend.to_numpy(out), expected, what=f"{name} {kwargs}")


@pytest.mark.parametrize("name,ndim,i", [c for c in CASES if "raw_values" not in str(arguments(c[0], c[1])[c[2]])])
def test_gradients_are_finite_differences_of_sklearns_value(ad_backend, name, ndim, i):
    kwargs = arguments(name, ndim)[i]
    y_true, y_pred = data(name, ndim)
    expected = finite_differences(lambda p: sklearn_metric(name)(y_true, p, **kwargs), y_pred)
    fn = getattr(M, name)
    given = {k: ad_backend.asarray(v, "float64") if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    got = ad_backend.evaluate(lambda y_pred, y_true: fn(y_true, y_pred, **given), {"y_pred": y_pred, "y_true": y_true},
                              {}, "float64", ("y_pred",), np.array(1.0))
    for variant, (_, grads, _) in got.items():
        err = np.abs(grads["y_pred"] - expected).max() / max(np.abs(expected).max(), 1e-3)
        assert err < 1e-5, f"{variant} {name} {kwargs}: {err:.2g}\n{grads['y_pred']}\n{expected}"


def test_gradients_at_the_kinks_are_this_librarys():
    torch = need("torch")
    y = np.array([1.0, -2.0, 3.0, 0.5])
    cases = {  # metric of (y_true, y_pred) at y_pred == y_true, and the gradient expected there
        "mean_absolute_error": (M.mean_absolute_error, np.zeros(4)),  # |d|'(0) = 0
        "mean_absolute_percentage_error": (M.mean_absolute_percentage_error, np.zeros(4)),
        "median_absolute_error": (M.median_absolute_error, np.zeros(4)),
        "root_mean_squared_error": (M.root_mean_squared_error, np.zeros(4)),  # 0, not NaN
        "root_mean_squared_log_error": (lambda t, p: M.root_mean_squared_log_error(t, p), np.zeros(4)),
        "mean_pinball_loss": (lambda t, p: M.mean_pinball_loss(t, p, alpha=0.3), np.full(4, -0.3 / 4)),
    }
    for name, (fn, expected) in cases.items():
        target = np.abs(y) if "log" in name else y
        for library in ("torch", "jax"):
            if library == "torch":
                p = torch.tensor(target, requires_grad=True)
                (g,) = torch.autograd.grad(fn(torch.tensor(target), p), p)
                g = g.numpy()
            else:
                jax = need("jax")
                g = np.asarray(jax.grad(lambda p: fn(jax.numpy.asarray(target), p))(jax.numpy.asarray(target)))
            assert_close(g, expected, what=f"{library} {name}")
    p = torch.tensor([0.0, 3.0, -3.0], requires_grad=True)  # two elements tie at the maximum: half each
    (g,) = torch.autograd.grad(M.max_error(torch.zeros(3, dtype=torch.float64), p.double()), p)
    assert_close(g.numpy(), np.array([0.0, 0.5, -0.5]))


def test_scores_follow_sklearn_where_y_true_is_constant():
    skm = need("sklearn.metrics")
    constant = np.ones((4, 2))
    for name in SCORES:
        for y_pred in (constant, constant + np.array([0.0, 1.0])):
            for kwargs in ({}, {"force_finite": False}, {"multioutput": "variance_weighted"},
                           {"multioutput": "raw_values"}):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    expected = np.asarray(getattr(skm, name)(constant, y_pred, **kwargs))
                    assert_close(getattr(M, name)(constant, y_pred, **kwargs), expected, what=f"{name} {kwargs}")
    with pytest.warns(UserWarning, match="r2_score: R\\^2 score is not well-defined with less than two samples"):
        assert np.isnan(M.r2_score(np.ones(1), np.zeros(1)))


def test_dtypes_follow_y_pred(backend):
    y_true, y_pred = Y_TRUE[1], Y_PRED[1]
    out = M.mean_squared_error(backend.asarray(np.round(y_true * 3), "int64"), backend.asarray(y_pred, "float32"))
    assert str(out.dtype).endswith("float32")
    assert_close(backend.to_numpy(out), sklearn_metric("mean_squared_error")(np.round(y_true * 3), y_pred), "float32")
    if "float16" in backend.dtypes:
        out = M.r2_score(backend.asarray(y_true, "float16"), backend.asarray(y_pred, "float16"))
        assert str(out.dtype).endswith("float16")
        rounded = [backend.to_numpy(backend.asarray(a, "float16")) for a in (y_true, y_pred)]
        assert_close(backend.to_numpy(out), sklearn_metric("r2_score")(*rounded), "float16")
    integers = M.max_error(backend.asarray(np.array([3, 2, 7, 1]), "int64"), backend.asarray(np.array([4, 2, 7, 1]),
                                                                                            "int64"))
    assert float(backend.to_numpy(integers)) == 1.0 and str(integers.dtype).endswith("float64")


def test_transforms():
    jax = need("jax")
    jnp = jax.numpy
    y_true, y_pred = jnp.asarray(Y_TRUE[2]), jnp.asarray(Y_PRED[2])
    for name in REGRESSION:
        if name in ONE_OUTPUT:
            continue
        fn = getattr(M, name)
        a, b = (jnp.abs(y_true), jnp.abs(y_pred)) if "log" in name else (y_true, y_pred)
        assert_close(np.asarray(jax.jit(fn)(a, b)), np.asarray(fn(a, b)), what=f"jit {name}")
        rows = jax.vmap(lambda t, p: fn(t, p, multioutput="raw_values"))(a[None], b[None])
        assert_close(np.asarray(rows[0]), np.asarray(fn(a, b, multioutput="raw_values")), what=f"vmap {name}")
    torch = need("torch")
    p = torch.tensor(Y_PRED[2], requires_grad=True)
    for name in ("mean_absolute_error", "root_mean_squared_error", "r2_score", "mean_pinball_loss",
                 "mean_absolute_percentage_error"):
        fn = getattr(M, name)
        compiled = torch.compile(lambda t, q: fn(t, q), fullgraph=True, backend="aot_eager")
        (g,) = torch.autograd.grad(compiled(torch.tensor(Y_TRUE[2]), p), p)
        (g_eager,) = torch.autograd.grad(fn(torch.tensor(Y_TRUE[2]), p), p)
        assert_close(g.numpy(), g_eager.numpy(), what=f"torch.compile {name}")
    da = need("dask.array")
    lazy = M.r2_score(da.from_array(Y_TRUE[2], chunks=3), da.from_array(Y_PRED[2], chunks=3))
    assert isinstance(lazy, da.Array)
    assert_close(lazy.compute(), sklearn_metric("r2_score")(Y_TRUE[2], Y_PRED[2]))


def test_bad_input_raises_clear_errors():
    torch = need("torch")
    y1, y2 = Y_TRUE[1], Y_TRUE[2]
    cases = [
        (lambda: M.mean_squared_error(y1, y1[:5]), ValueError,
         r"mean_squared_error: y_true and y_pred must have the same number of samples, got 7 and 5"),
        (lambda: M.mean_squared_error(y2, y2[:, :2]), ValueError,
         r"mean_squared_error: y_true and y_pred must have the same number of outputs, got 3 and 2"),
        (lambda: M.mean_squared_error(y2[..., None], y2[..., None]), ValueError,
         r"mean_squared_error: y_true must have shape \(n_samples,\) or \(n_samples, n_outputs\), got \(7, 3, 1\)"),
        (lambda: M.mean_absolute_error(y1, y1, sample_weight=np.ones(3)), ValueError,
         r"mean_absolute_error: sample_weight must have shape \(7,\) \(one weight per sample\), got \(3,\)"),
        (lambda: M.mean_absolute_error(y2, y2, multioutput="variance_weighted"), ValueError,
         r"mean_absolute_error: multioutput must be one of 'raw_values', 'uniform_average' or an array"),
        (lambda: M.r2_score(y2, y2, multioutput=[1.0, 2.0]), ValueError,
         r"r2_score: multioutput must hold one weight per output \(3\), got shape \(2,\)"),
        (lambda: M.r2_score(y1, y1, multioutput=[1.0]), ValueError,
         r"r2_score: multioutput weights are useful only with several outputs"),
        (lambda: M.r2_score(y2, y2, multioutput={"a": 1}), TypeError,
         r"r2_score: multioutput must be a string or an array of output weights, got dict"),
        (lambda: M.max_error(y2, y2), ValueError, r"max_error: multioutput targets are not supported"),
        (lambda: M.mean_squared_log_error(np.array([0.0, -1.0]), np.zeros(2)), ValueError,
         r"mean_squared_log_error: y_true must hold values > -1, got -1.0"),
        (lambda: M.root_mean_squared_log_error(np.zeros(2), np.array([0.0, -3.0])), ValueError,
         r"root_mean_squared_log_error: y_pred must hold values > -1, got -3.0"),
        (lambda: M.mean_squared_error(y1, torch.tensor(y1)), TypeError,
         r"mean_squared_error: all arrays must come from one array library, got y_pred from torch, y_true from numpy"),
        (lambda: M.mean_squared_error([1.0, 2.0], y1[:2]), TypeError,
         r"mean_squared_error: y_true must be an array, got list"),
        (lambda: M.r2_score(y1, y1 + 1, sample_weight=np.zeros(N)), ValueError,
         r"r2_score: sample_weight must not sum to 0 \(the weights of a mean\), got \[0.0, 0.0, 0.0, 0.0, 0.0\] ..."),
        (lambda: M.r2_score(y2, y2, multioutput=[1.0, -1.0, 0.0]), ValueError, r"r2_score: multioutput must not sum to 0"),
        (lambda: M.mean_pinball_loss(y1, y1, alpha=1.5), ValueError, r"mean_pinball_loss: alpha must be in \[0.0, 1.0\]"),
        (lambda: M.mean_squared_error(np.array([np.nan, 1.0]), np.ones(2)), ValueError,
         r"mean_squared_error: y_true must hold finite values \(scikit-learn refuses NaN and inf\), got nan"),
        (lambda: M.mean_absolute_error(np.ones(2), np.array([1.0, np.inf])), ValueError,
         r"mean_absolute_error: y_pred must hold finite values"),
        (lambda: M.mean_squared_error(np.ones(0), np.ones(0)), ValueError,
         r"mean_squared_error: y_true and y_pred must hold at least one sample, got 0"),
        (lambda: M.r2_score(y1, y1, force_finite=None), TypeError, r"r2_score: force_finite must be True or False"),
        (lambda: M.mean_tweedie_deviance(y1, y1, power=float("inf")), ValueError,
         r"mean_tweedie_deviance: power must be a finite real number <= 0 or >= 1, got inf"),
    ]
    for call, kind, message in cases:
        with pytest.raises(kind, match=message):
            call()
    assert_close(M.r2_score(y2, Y_PRED[2], multioutput=None), sklearn_metric("r2_score")(y2, Y_PRED[2], multioutput=None))
    assert_close(M.mean_squared_log_error(np.array([-0.5, 1.0]), np.zeros(2)),  # (-1, 0) is allowed, as sklearn
                 sklearn_metric("mean_squared_log_error")(np.array([-0.5, 1.0]), np.zeros(2)))


def test_metrics_import_no_framework():
    import subprocess
    import sys

    code = ("import sys, numpy as np; from agnostic_losses import metrics; "
            "metrics.r2_score(np.ones(3), np.arange(3.0)); "
            "print(sorted(m for m in ('torch', 'jax', 'dask', 'sklearn') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_mape_divides_by_float64s_eps_where_y_true_is_zero(backend):
    y_true, y_pred = np.array([1.0, 0.0, 2.4, 7.0]), np.array([1.2, 0.1, 2.4, 8.0])  # sklearn's docstring example
    out = M.mean_absolute_percentage_error(backend.asarray(y_true, "float64"), backend.asarray(y_pred, "float64"))
    assert_close(backend.to_numpy(out), sklearn_metric("mean_absolute_percentage_error")(y_true, y_pred))
    assert float(backend.to_numpy(out)) > 1e14


TWEEDIE_POWERS = (-1.5, 0, 1, 1.5, 2, 3)


def tweedie_data(power):
    rng = np.random.default_rng(11)
    y, mu = rng.uniform(0.1, 3, N), rng.uniform(0.1, 3, N)
    if power < 0:
        return y - 1.5, mu  # any y
    if power < 2:
        y[2] = 0.0  # y log(y / mu) = 0 at y = 0
    return y, mu


@pytest.mark.parametrize("power", TWEEDIE_POWERS)
@pytest.mark.parametrize("weighted", [False, True])
def test_tweedie_deviances_are_sklearns(backend, power, weighted):
    skm = need("sklearn.metrics")
    y, mu = tweedie_data(power)
    kwargs = {"sample_weight": WEIGHT} if weighted else {}
    given = {k: backend.asarray(v, "float64") for k, v in kwargs.items()}
    calls = [("mean_tweedie_deviance", {"power": power})]
    calls += [("mean_poisson_deviance", {})] if power == 1 else [("mean_gamma_deviance", {})] if power == 2 else []
    for name, options in calls:
        out = getattr(M, name)(backend.asarray(y, "float64"), backend.asarray(mu, "float64"), **given, **options)
        assert tuple(out.shape) == ()
        assert_close(backend.to_numpy(out), getattr(skm, name)(y, mu, **kwargs, **options), what=name)


@pytest.mark.parametrize("power", TWEEDIE_POWERS)
def test_tweedie_gradients_are_finite_differences_of_sklearns(ad_backend, power):
    skm = need("sklearn.metrics")
    y, mu = tweedie_data(power)
    expected = finite_differences(lambda m: skm.mean_tweedie_deviance(y, m, power=power), mu)
    got = ad_backend.evaluate(lambda mu, y: M.mean_tweedie_deviance(y, mu, power=power), {"mu": mu, "y": y}, {},
                              "float64", ("mu",), np.array(1.0))
    for variant, (_, grads, _) in got.items():
        assert np.abs(grads["mu"] - expected).max() < 1e-6 * max(1.0, np.abs(expected).max()), variant


def test_tweedie_domains_and_powers_are_checked():
    y, mu = tweedie_data(1)
    cases = [
        (lambda: M.mean_tweedie_deviance(y, mu, power=0.5), r"mean_tweedie_deviance: power must be a finite real "
                                                          r"number <= 0 or >= 1, got 0.5"),
        (lambda: M.mean_tweedie_deviance(y - 1, mu, power=1), r"mean_tweedie_deviance: y_true must hold values >= 0 "
                                                             r"\(the Tweedie deviance with power=1\), got -"),
        (lambda: M.mean_gamma_deviance(y, mu), r"mean_gamma_deviance: y_true must hold values > 0 \(the Tweedie "
                                               r"deviance with power=2\), got 0.0"),
        (lambda: M.mean_tweedie_deviance(y, -mu, power=-1), r"mean_tweedie_deviance: y_pred must hold values > 0"),
        (lambda: M.mean_poisson_deviance(np.ones((3, 2)), np.ones((3, 2))), r"mean_poisson_deviance: multioutput "
                                                                            r"targets are not supported"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()
    M.mean_tweedie_deviance(y - 5, -mu, power=0)  # the squared error: any values


# --- the torch-style losses of these metrics (agnostic_losses.mape_loss ...) ---------------------------------

LOSSES = {  # loss -> (the metric its 'mean' equals, the metric's options, data)
    "mape_loss": ("mean_absolute_percentage_error", {}, lambda: (Y_PRED[1], Y_TRUE[1])),
    "msle_loss": ("mean_squared_log_error", {}, lambda: (np.abs(Y_PRED[1]), np.abs(Y_TRUE[1]))),
    "rmse_loss": ("root_mean_squared_error", {}, lambda: (Y_PRED[1], Y_TRUE[1])),
    "pinball_loss": ("mean_pinball_loss", {"alpha": 0.8}, lambda: (Y_PRED[1], Y_TRUE[1])),
}


def _loss_options(name, metric_options):
    return {"quantile": metric_options["alpha"]} if "alpha" in metric_options else {}


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("weighted", [False, True])
def test_losses_mean_is_the_sklearn_metric(backend, name, weighted):
    import agnostic_losses as al

    metric, options, data = LOSSES[name]
    x, t = data()
    kwargs = {"sample_weight": WEIGHT} if weighted else {}
    expected = sklearn_metric(metric)(t, x, **kwargs, **options)
    weight = {"weight": backend.asarray(WEIGHT, "float64")} if weighted else {}
    out = getattr(al, name)(backend.asarray(x, "float64"), backend.asarray(t, "float64"), **weight,
                            **_loss_options(name, options))
    assert_close(backend.to_numpy(out), expected, what=name)
    cls = getattr(al, {"mape_loss": "MAPELoss", "msle_loss": "MSLELoss", "rmse_loss": "RMSELoss",
                       "pinball_loss": "PinballLoss"}[name])
    by_class = cls(**_loss_options(name, options))(backend.asarray(x, "float64"), backend.asarray(t, "float64"),
                                                  **weight)
    assert_close(backend.to_numpy(by_class), expected, what=f"{name} class")


@pytest.mark.parametrize("name", LOSSES)
def test_losses_gradients_are_finite_differences_of_the_metric(ad_backend, name):
    import agnostic_losses as al

    metric, options, data = LOSSES[name]
    x, t = data()
    expected = finite_differences(lambda p: sklearn_metric(metric)(t, p, **options), x)
    fn = getattr(al, name)
    got = ad_backend.evaluate(lambda input, target: fn(input, target, **_loss_options(name, options)),
                              {"input": x, "target": t}, {}, "float64", ("input",), np.array(1.0))
    for variant, (_, grads, _) in got.items():
        assert np.abs(grads["input"] - expected).max() < 1e-6 * max(1.0, np.abs(expected).max()), variant


def test_log_cosh_loss_is_optaxs():
    import agnostic_losses as al

    jax, optax = need("jax"), need("optax")
    jnp = jax.numpy
    x = np.concatenate([Y_PRED[1] * 3, [0.0, 400.0, -1000.0]])
    t = np.concatenate([Y_TRUE[1], [0.0, 0.0, 5.0]])
    ref = optax.losses.log_cosh(jnp.asarray(x), jnp.asarray(t))
    ref_grad = jax.grad(lambda p: optax.losses.log_cosh(p, jnp.asarray(t)).sum())(jnp.asarray(x))
    assert_close(np.asarray(al.log_cosh_loss(x, t, reduction="none")), np.asarray(ref))
    assert_close(np.asarray(jax.grad(lambda p: al.log_cosh_loss(p, jnp.asarray(t), reduction="sum"))(jnp.asarray(x))),
                 np.asarray(ref_grad))
    torch = need("torch")
    p = torch.tensor(x, requires_grad=True)
    (g,) = torch.autograd.grad(al.log_cosh_loss(p, torch.tensor(t), reduction="sum"), p)
    assert_close(g.numpy(), np.asarray(ref_grad))


def test_losses_kinks_reductions_and_errors():
    import agnostic_losses as al

    torch = need("torch")
    y = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)
    for name, fn, expected in (("rmse_loss", al.rmse_loss, [0.0, 0.0, 0.0]),
                               ("mape_loss", al.mape_loss, [0.0, 0.0, 0.0]),
                               ("pinball_loss", lambda a, b: al.pinball_loss(a, b, quantile=0.3), [-0.1] * 3)):
        p = y.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(fn(p, y), p)
        assert_close(g.numpy(), np.array(expected), what=name)
    x, t = Y_PRED[1], Y_TRUE[1]
    assert_close(al.rmse_loss(x, t, reduction="none"), np.abs(x - t))
    assert_close(al.rmse_loss(x, t, reduction="sum"), np.sqrt(((x - t) ** 2).sum()))
    assert_close(al.msle_loss(np.abs(x), np.abs(t), reduction="sum"),
                 ((np.log1p(np.abs(x)) - np.log1p(np.abs(t))) ** 2).sum())
    with pytest.raises(ValueError, match=r"msle_loss: target must hold values > -1, got -2.0"):
        al.msle_loss(np.zeros(2), np.array([0.0, -2.0]))
    with pytest.raises(ValueError, match=r"rmse_loss: reduction must be one of 'none', 'mean', 'sum', got 'avg'"):
        al.rmse_loss(x, t, reduction="avg")
    tl = need("agnostic_losses.torch")
    module = tl.PinballLoss(quantile=0.3)
    assert isinstance(module, torch.nn.Module) and repr(module) == "PinballLoss(quantile=0.3, reduction='mean')"
    assert_close(module(torch.tensor(x), torch.tensor(t)).numpy(),
                 sklearn_metric("mean_pinball_loss")(t, x, alpha=0.3))


def test_integer_y_pred_is_computed_in_float32_on_jax_without_x64():
    import subprocess
    import sys

    need("jax")
    code = ("import jax.numpy as jnp; from agnostic_losses import metrics; "
            "out = metrics.mean_absolute_error(jnp.asarray([1, 2]), jnp.asarray([1, 3])); print(out.dtype, float(out))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["float32", "0.5"]
