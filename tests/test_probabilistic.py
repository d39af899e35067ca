"""The probabilistic losses (agnostic_losses/probabilistic.py: kl_div, poisson_nll_loss,
gaussian_nll_loss): contract, semantics, errors; against torch.nn.

Every option, shape and dtype is in the conformance catalogue; these tests pin
what a user relies on beyond it: signatures, kl_div's 'mean' warning and
'batchmean', the forms of gaussian_nll_loss's var, finite target gradients where
torch's are NaN, the value checks and their switch, and clear errors.
"""

from __future__ import annotations

import numpy as np
import pytest

import agnostic_losses as al

from helpers import (assert_close, assert_common_errors, assert_compiled_gradients_are_eager, assert_value_checks,
                     installed, need, parameters)

torch = need("torch")
F = torch.nn.functional

LOSSES = ("kl_div", "poisson_nll_loss", "gaussian_nll_loss")
RNG = np.random.default_rng(11)
LOGITS = RNG.standard_normal((4, 5))
P = RNG.uniform(0.05, 0.95, (4, 5))
T01 = RNG.uniform(0, 1, (4, 5))


@pytest.mark.parametrize("name", LOSSES)
def test_signature_is_torchs(name):
    assert parameters(getattr(al, name)) == parameters(getattr(F, name))


def test_kl_div_mean_warns_as_torch_and_batchmean_divides_by_batch():
    x, target = np.log(P), T01
    with pytest.warns(UserWarning, match="batchmean"):
        al.kl_div(x, target)
    assert_close(al.kl_div(x, target, reduction="batchmean"), np.sum(T01 * np.log(T01) - T01 * x) / 4)


def test_gaussian_nll_var_forms_match_torch():
    t = torch.tensor
    x, y = LOGITS, P
    for var in (T01 + 0.1, (T01 + 0.1)[:, 0], (T01 + 0.1)[:, :1], 0.7):
        v = t(var) if isinstance(var, np.ndarray) else var
        assert_close(al.gaussian_nll_loss(x, y, var, reduction="none"),
                     F.gaussian_nll_loss(t(x), t(y), v, reduction="none").numpy(), what=str(np.shape(var)))


def test_deviations_from_torch_are_finite_where_torch_is_nan():
    """Documented: where torch's target gradient is NaN (a zero target), ours is finite (docs/deviations.md)."""
    jax = need("jax")
    jnp = jax.numpy
    zero = jnp.zeros(3)
    g = jax.grad(lambda t: al.kl_div(jnp.log(jnp.asarray([0.2, 0.3, 0.5])), t, reduction="sum"))(zero)
    assert jnp.isfinite(g).all()
    g = jax.grad(lambda t: al.poisson_nll_loss(jnp.ones(3), t, full=True, reduction="sum"))(zero)
    assert jnp.isfinite(g).all()


def test_value_checks_run_on_host_data_and_can_be_switched(backend):
    """A negative var: a clear error on concrete data."""
    x = backend.asarray(LOGITS, "float32")
    p = backend.asarray(P, "float32")
    assert_value_checks(backend, [
        (lambda: al.gaussian_nll_loss(x, x, -p), r"gaussian_nll_loss: var must hold non-negative variances"),
    ])


@pytest.mark.parametrize("name", LOSSES)
def test_bad_input_raises_clear_errors(name):
    fn = getattr(al, name)
    x = LOGITS.astype(np.float32)
    if name == "gaussian_nll_loss":
        with pytest.raises(ValueError, match=r"gaussian_nll_loss: var must have input's shape \(4, 5\)"):
            fn(x, x, np.ones((4, 2), np.float32))
        for shape in ((0, 1), (1, 0)):  # two mismatched axes, one of them 1 (torch's check passes, its kernel fails)
            with pytest.raises(ValueError, match=rf"gaussian_nll_loss: var must have .* got \({shape[0]}, {shape[1]}\)"):
                fn(x, x, np.ones(shape, np.float32))
        with pytest.raises(ValueError, match=r"gaussian_nll_loss: var must be >= 0, got -1.0"):
            fn(x, x, -1.0)
    if name == "poisson_nll_loss":
        with pytest.raises(ValueError, match=r"poisson_nll_loss: eps must be >= 0, got -1.0"):
            fn(x, x, eps=-1.0)
    allowed = "'none', 'mean', 'sum', 'batchmean'" if name == "kl_div" else "'none', 'mean', 'sum'"
    args = (np.abs(x) / 10, np.abs(x) / 10) + ((np.ones_like(x),) if name == "gaussian_nll_loss" else ())
    assert_common_errors(name, args, allowed)


def test_compiles_without_graph_breaks_under_torch_compile():
    x = torch.tensor(LOGITS, requires_grad=True)
    assert_compiled_gradients_are_eager({
        "gaussian_nll_loss": lambda x: al.gaussian_nll_loss(x, torch.tensor(P), torch.tensor(T01)),
        "kl_div": lambda x: al.kl_div(x, torch.tensor(T01), reduction="batchmean"),
        "poisson_nll_loss": lambda x: al.poisson_nll_loss(x, torch.tensor(np.round(T01 * 4)), full=True),
    }, x)


# --- jensen_shannon_divergence, against torchmetrics -------------------------------------------------------

def torchmetrics_jensen_shannon():
    if not installed("torchmetrics"):  # not imported here: it imports torchvision, which conformance.oracles mends
        pytest.skip("torchmetrics is not installed")
    from conformance.oracles import _torchmetrics_jensen_shannon

    return _torchmetrics_jensen_shannon()


def test_jensen_shannon_signature_is_torchmetrics():
    import inspect

    torchmetrics_jensen_shannon()
    from torchmetrics.functional.regression import jensen_shannon_divergence

    ours = [(p.name, p.default) for p in inspect.signature(al.jensen_shannon_divergence).parameters.values()]
    theirs = [(p.name, p.default) for p in inspect.signature(jensen_shannon_divergence).parameters.values()]
    assert ours == theirs


def test_jensen_shannon_log_2_is_of_the_inputs_dtype():
    """torchmetrics' ``log 2`` is a float32 constant: about 2e-9 off in float64 (a deliberate difference); run
    with float64 as torch's default dtype it is exact, and equals ours."""
    torch = need("torch")
    rng = np.random.default_rng(7)
    p, q = (np.log(rng.dirichlet(np.ones(4), 3)) for _ in range(2))
    ours = al.jensen_shannon_divergence(p, q, log_prob=True, reduction="none")
    exact = torchmetrics_jensen_shannon()(p=torch.tensor(p), q=torch.tensor(q), log_prob=True, reduction="none")
    assert_close(ours, exact.numpy())
    from torchmetrics.functional.regression import jensen_shannon_divergence

    float32_log_2 = jensen_shannon_divergence(torch.tensor(p), torch.tensor(q), True, "none").numpy()
    assert 1e-9 < np.max(np.abs(float32_log_2 - ours)) < 1e-8


def test_jensen_shannon_gradient_is_finite_where_a_probability_is_0():
    """0 log 0 = 0 with its derivative (torchmetrics': NaN, through an in-place mask): equal to central finite
    differences of torchmetrics' value."""
    torch = need("torch")
    p = np.array([[0.0, 0.3, 0.7], [0.2, 0.3, 0.5]])
    q = np.array([[0.25, 0.25, 0.5], [0.0, 0.5, 0.5]])
    tp, tq = torch.tensor(p, requires_grad=True), torch.tensor(q, requires_grad=True)
    gp, gq = torch.autograd.grad(al.jensen_shannon_divergence(tp, tq, reduction="sum"), (tp, tq))
    assert torch.isfinite(gp).all() and torch.isfinite(gq).all()
    from conformance.runner import finite_differences

    oracle = torchmetrics_jensen_shannon()
    fd = finite_differences(lambda a: float(oracle(p=torch.tensor(a), q=torch.tensor(q), reduction="sum")), p)
    inside = p > 0  # a central difference at 0 would leave the orthant of probabilities
    np.testing.assert_allclose(gp.numpy()[inside], fd[inside], rtol=1e-6, atol=1e-9)


def test_jensen_shannon_errors():
    p = np.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"jensen_shannon_divergence: q must have the shape of p, \(2, 3\), "
                                         r"got \(3,\)"):
        al.jensen_shannon_divergence(p, p[0])
    with pytest.raises(ValueError, match=r"jensen_shannon_divergence: p and q must hold distributions \(N, d\), "
                                         r"2-D, got shape \(3,\)"):
        al.jensen_shannon_divergence(p[0], p[0])
    assert al.jensen_shannon_divergence(p, p, reduction=None).shape == (2,)
