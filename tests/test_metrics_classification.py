"""agnostic_losses.metrics' classification metrics (log_loss, brier_score_loss, hinge_loss) against scikit-learn's.

Values against ``sklearn.metrics`` itself (float64) with labels given as arrays
of each backend, as NumPy arrays and as lists (strings too); gradients in the
probabilities or decision values against central finite differences of
scikit-learn's value; scikit-learn's errors, as this library's.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from agnostic_losses import metrics as M
from conformance.runner import finite_differences

from helpers import assert_close, need

RNG = np.random.default_rng(29)
N = 8
WEIGHT = RNG.uniform(0.1, 2.0, N)


def _proba(classes):
    p = RNG.uniform(0.05, 1.0, (N, classes))
    return p / p.sum(axis=1, keepdims=True)


BINARY = np.array([0, 1, 1, 0, 1, 0, 0, 1])
MULTI = np.array([2, 0, 1, 2, 2, 0, 1, 1])
SIGNED = np.array([-1, 1, 1, -1, 1, -1, -1, 1])
P2, P3, P4 = _proba(2), _proba(3), _proba(4)
DECISION_1, DECISION_3, DECISION_4 = RNG.standard_normal(N), RNG.standard_normal((N, 3)), RNG.standard_normal((N, 4))

# (metric, y_true labels, the differentiable prediction, options): each compared with scikit-learn's value
CASES = [
    ("log_loss", BINARY, P2[:, 1], {}),
    ("log_loss", BINARY, P2, {"sample_weight": WEIGHT}),
    ("log_loss", MULTI, P3, {}),
    ("log_loss", MULTI, P3, {"normalize": False, "sample_weight": WEIGHT}),
    ("log_loss", MULTI, P4, {"labels": [0, 1, 2, 3]}),  # a class y_true lacks
    ("log_loss", np.array([5, 7, 7, 5, 9, 9, 5, 7]), P3, {}),
    ("log_loss", np.eye(3)[MULTI], P3, {}),  # one-hot y_true
    ("brier_score_loss", BINARY, P2[:, 1], {}),
    ("brier_score_loss", BINARY, P2[:, 1], {"sample_weight": WEIGHT, "scale_by_half": False}),
    ("brier_score_loss", SIGNED, P2[:, 1:], {}),
    ("brier_score_loss", BINARY * 3 + 2, P2[:, 1], {}),  # {2, 5}: the greater label is positive
    ("brier_score_loss", BINARY * 3 + 2, P2[:, 1], {"pos_label": 2}),
    ("brier_score_loss", MULTI, P3, {}),
    ("brier_score_loss", MULTI, P3, {"sample_weight": WEIGHT, "scale_by_half": True}),
    ("brier_score_loss", BINARY, P2, {}),
    ("brier_score_loss", MULTI, P4, {"labels": [0, 1, 2, 3]}),
    ("hinge_loss", SIGNED, DECISION_1, {}),
    ("hinge_loss", BINARY * 3 + 2, DECISION_1, {"sample_weight": WEIGHT}),
    ("hinge_loss", np.ones(N, dtype=int), DECISION_1, {}),  # one label: all -1, as scikit-learn's LabelBinarizer
    ("hinge_loss", MULTI, DECISION_3, {}),
    ("hinge_loss", MULTI, DECISION_3, {"sample_weight": WEIGHT}),
    ("hinge_loss", MULTI, DECISION_4, {"labels": [0, 1, 2, 3]}),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


def sklearn_metric(name):
    return getattr(need("sklearn.metrics"), name)


def _given(backend, options):
    return {k: backend.asarray(v, "float64") if isinstance(v, np.ndarray) else v for k, v in options.items()}


@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_values_are_sklearns_on_every_backend(backend, case):
    name, y_true, prediction, options = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        expected = sklearn_metric(name)(y_true, prediction, **options)
    given = _given(backend, options)
    if backend.name == "dask" and y_true.ndim == 1:  # lazy labels cannot be read: the classes are passed
        classes = sorted(set(y_true.tolist())) if "labels" not in options else options["labels"]
        if name == "brier_score_loss" and (prediction.ndim == 1 or prediction.shape[1] == 1):
            given.setdefault("pos_label", 1 if classes in ([0, 1], [-1, 1]) else classes[-1])
        else:
            given["labels"] = classes
    labels = backend.asarray(y_true, "int64" if y_true.ndim == 1 else "float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        out = getattr(M, name)(labels, backend.asarray(prediction, "float64"), **given)
    assert type(out) is type(backend.asarray(prediction, "float64")) and tuple(out.shape) == ()
    assert str(out.dtype).endswith("float64")
    assert_close(backend.to_numpy(out), expected, what=f"{name} {options}")


@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_host_labels_with_any_backends_prediction(backend, case):
    """y_true as a NumPy array or a list with a prediction of another library, as scikit-learn users pass it."""
    name, y_true, prediction, options = CASES[case]
    expected = sklearn_metric(name)(y_true, prediction, **options)
    for labels in (y_true, y_true.tolist()):
        out = getattr(M, name)(labels, backend.asarray(prediction, "float64"), **_given(backend, options))
        assert_close(backend.to_numpy(out), expected, what=f"{name} {options} {type(labels).__name__}")


def test_string_labels():
    words = np.array(["spam", "ham", "ham", "spam", "eggs", "ham", "spam", "eggs"])
    torch = need("torch")
    two = np.where(words == "eggs", "ham", words)
    for name, labels, prediction, options in (("log_loss", words, P3, {}), ("brier_score_loss", words, P3, {}),
                                              ("hinge_loss", words, DECISION_3, {}),
                                              ("brier_score_loss", two, P2[:, 1], {"pos_label": "spam"}),
                                              ("log_loss", two, P2, {"labels": ["ham", "spam"]})):
        expected = sklearn_metric(name)(labels, prediction, **options)
        for given in (labels, labels.tolist()):
            assert_close(getattr(M, name)(given, torch.tensor(prediction), **options).numpy(), expected,
                         what=f"{name} {options}")


@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_gradients_are_finite_differences_of_sklearns_value(ad_backend, case):
    name, y_true, prediction, options = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a nudged probability row does not sum to 1
        expected = finite_differences(lambda p: sklearn_metric(name)(y_true, p, **options), prediction)
        labels = ad_backend.asarray(y_true, "int64" if y_true.ndim == 1 else "float64")
        fn, given = getattr(M, name), _given(ad_backend, options)
        got = ad_backend.evaluate(lambda prediction: fn(labels, prediction, **given), {"prediction": prediction}, {},
                                  "float64", ("prediction",), np.array(1.0))
    for variant, (_, grads, _) in got.items():
        err = np.abs(grads["prediction"] - expected).max() / max(np.abs(expected).max(), 1e-3)
        assert err < 1e-5, f"{variant} {name} {options}: {err:.2g}\n{grads['prediction']}\n{expected}"


def test_gradients_at_the_kinks_and_the_clip():
    torch = need("torch")
    d = torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(M.hinge_loss(np.array([1, 0, 1]), d), d)  # margins 1, 1 (the hinge), 0.5
    assert_close(g.numpy(), np.array([0.0, 0.0, -1 / 3]))
    d = torch.tensor([[2.0, 1.0, 1.0]], dtype=torch.float64, requires_grad=True)  # a tie for the greatest other
    (g,) = torch.autograd.grad(M.hinge_loss(np.array([0]), d, labels=[0, 1, 2]), d)
    assert_close(g.numpy(), np.zeros((1, 3)))  # margin 1: on the hinge
    d = torch.tensor([[0.5, 1.0, 1.0]], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(M.hinge_loss(np.array([0]), d, labels=[0, 1, 2]), d)
    assert_close(g.numpy(), np.array([[-1.0, 0.5, 0.5]]))  # the tie shares the gradient
    p = torch.tensor([[1.0, 0.0], [0.3, 0.7]], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(M.log_loss(np.array([0, 1]), p), p)  # 1 and 0 are clipped: no gradient there
    assert_close(g.numpy(), np.array([[0.0, 0.0], [0.0, -1 / (2 * 0.7)]]))


def test_lazy_and_traced_labels():
    jax = need("jax")
    jnp = jax.numpy
    y, p = jnp.asarray(MULTI), jnp.asarray(P4)
    expected = sklearn_metric("log_loss")(MULTI, P4, labels=[0, 1, 2, 3])
    jitted = jax.jit(lambda y, p: M.log_loss(y, p, labels=[0, 1, 2, 3]))
    assert_close(np.asarray(jitted(y, p)), expected, "float32")
    with pytest.raises(ValueError, match=r"log_loss: labels must be given where y_true cannot be read \(traced"):
        jax.jit(M.log_loss)(y, p)
    rows = jax.vmap(lambda y, p: M.brier_score_loss(y, p, labels=[0, 1, 2, 3]))(y[None], p[None])
    assert_close(np.asarray(rows[0]), sklearn_metric("brier_score_loss")(MULTI, P4, labels=[0, 1, 2, 3]), "float32")
    with pytest.raises(ValueError, match=r"brier_score_loss: pos_label must be given where y_true cannot be read"):
        jax.jit(M.brier_score_loss)(jnp.asarray(BINARY), jnp.asarray(P2[:, 1]))
    hinge = jax.jit(lambda y, d: M.hinge_loss(y, d, labels=[0, 1]))(jnp.asarray(BINARY), jnp.asarray(DECISION_1))
    assert_close(np.asarray(hinge), sklearn_metric("hinge_loss")(BINARY, DECISION_1), "float32")
    torch = need("torch")
    d = torch.tensor(DECISION_3, requires_grad=True)
    compiled = torch.compile(lambda y, d: M.hinge_loss(y, d, labels=[0, 1, 2]), fullgraph=True, backend="aot_eager")
    (g,) = torch.autograd.grad(compiled(torch.tensor(MULTI), d), d)
    (g_eager,) = torch.autograd.grad(M.hinge_loss(torch.tensor(MULTI), d), d)
    assert_close(g.numpy(), g_eager.numpy())
    da = need("dask.array")
    lazy = M.log_loss(da.from_array(MULTI, chunks=4), da.from_array(P3, chunks=4), labels=[0, 1, 2])
    assert isinstance(lazy, da.Array)
    assert_close(lazy.compute(), sklearn_metric("log_loss")(MULTI, P3))


def test_dtype_follows_the_prediction(backend):
    out = M.log_loss(backend.asarray(MULTI, "int64"), backend.asarray(P3, "float32"), labels=[0, 1, 2])
    assert str(out.dtype).endswith("float32")
    p32 = P3.astype(np.float32)
    assert_close(backend.to_numpy(out), sklearn_metric("log_loss")(MULTI, p32), "float32")


def test_bad_input_raises_sklearns_errors_clearly():
    cases = [
        (lambda: M.log_loss(BINARY, P2[:, 1] + 0.5), ValueError, r"log_loss: y_proba must hold probabilities in "
                                                                 r"\[0, 1\], got 1\.\d+"),
        (lambda: M.log_loss(BINARY[:5], P2), ValueError, r"log_loss: y_true and y_proba must have the same number "
                                                         r"of samples, got 5 and 8"),
        (lambda: M.log_loss(np.ones(N), P2), ValueError, r"log_loss: y_true contains only one label \(1.0\); pass "
                                                         r"all the expected classes as labels"),
        (lambda: M.log_loss(MULTI, P2), ValueError, r"log_loss: y_true and y_proba hold different numbers of "
                                                    r"classes: 3 \(\[0, 1, 2\]\) and 2; pass the classes as labels"),
        (lambda: M.log_loss(MULTI, P4, labels=[0, 1, 3, 4]), ValueError,
         r"log_loss: y_true contains values \[2\] not belonging to the passed labels \[0, 1, 3, 4\]"),
        (lambda: M.log_loss(MULTI, P3, labels=[0, 1, 2, 3]), ValueError,
         r"log_loss: labels hold 4 classes and y_proba 3"),
        (lambda: M.log_loss(MULTI, P3, y_pred=P3), ValueError, r"log_loss: pass y_proba only"),
        (lambda: M.log_loss(MULTI, P3, normalize="yes"), TypeError, r"log_loss: normalize must be True or False"),
        (lambda: M.log_loss(MULTI, P3, sample_weight=np.ones(3)), ValueError,
         r"log_loss: sample_weight must have shape \(8,\) \(one weight per sample\), got \(3,\)"),
        (lambda: M.log_loss(MULTI, P3[:, :, None]), ValueError, r"log_loss: y_proba must have shape \(n_samples,\) "
                                                                r"or \(n_samples, n_classes\), got \(8, 3, 1\)"),
        (lambda: M.log_loss(3, P3), TypeError, r"log_loss: y_true must be an array or a sequence of labels, got int"),
        (lambda: M.brier_score_loss(MULTI, P3[:, 0]), ValueError, r"brier_score_loss: y_true must hold at most two "
                                                                  r"labels \(binary\) with a 1-D y_proba"),
        (lambda: M.brier_score_loss(BINARY * 0.5, P2[:, 0]), ValueError, r"brier_score_loss: y_true must hold "
                                                                         r"class labels"),
        (lambda: M.brier_score_loss(np.where(BINARY == 1, "a", "b"), P2[:, 0]), ValueError,
         r"brier_score_loss: y_true takes values in \['a', 'b'\] and pos_label is not given"),
        (lambda: M.brier_score_loss(BINARY, P2[:, 0], scale_by_half="half"), TypeError,
         r"brier_score_loss: scale_by_half must be True or False"),
        (lambda: M.hinge_loss(MULTI, DECISION_1), ValueError, r"hinge_loss: with 3 classes pred_decision must have "
                                                              r"shape \(n_samples, 3\), got \(8,\); pass all the labels"),
        (lambda: M.hinge_loss(MULTI, DECISION_4), ValueError, r"hinge_loss: with 3 classes pred_decision must have "
                                                              r"shape \(n_samples, 3\), got \(8, 4\)"),
        (lambda: M.hinge_loss(MULTI, DECISION_3, labels=[0, 1, 3]), ValueError,
         r"hinge_loss: y_true contains values \[2\] not belonging to the passed labels \[0, 1, 3\]"),
        (lambda: M.hinge_loss(BINARY, DECISION_3[:, :2]), ValueError, r"hinge_loss: with two classes pred_decision "
                                                                      r"must have shape \(n_samples,\)"),
        (lambda: M.hinge_loss(BINARY, np.full(N, np.nan)), ValueError, r"hinge_loss: pred_decision must hold finite "
                                                                      r"values"),
    ]
    for call, kind, message in cases:
        with pytest.raises(kind, match=message):
            call()
        with pytest.raises(kind), warnings.catch_warnings():  # scikit-learn refuses it too
            warnings.simplefilter("ignore")
            _sklearn_twin(call)()


def _sklearn_twin(call):
    """The same call with ``M`` replaced by ``sklearn.metrics``."""
    globals_ = dict(call.__globals__, M=need("sklearn.metrics"))
    return type(call)(call.__code__, globals_, None, None, call.__closure__)


def test_labels_as_scikit_learn_reads_them():
    """A column of labels is flattened (column_or_1d); continuous labels are refused; bool labels work traced."""
    column = BINARY[:, None]
    for name, prediction, options in (("log_loss", P2[:, 1], {}), ("log_loss", P2[:, 1], {"labels": [0, 1]}),
                                      ("brier_score_loss", P2, {"labels": [0, 1]}), ("brier_score_loss", P2[:, 1], {}),
                                      ("hinge_loss", DECISION_1, {})):
        expected = sklearn_metric(name)(column, prediction, **options)
        assert_close(getattr(M, name)(column, prediction, **options), expected, what=f"{name} {options}")
        assert_close(getattr(M, name)(column.tolist(), prediction, **options), expected, what=f"{name} list")
    for name, labels, prediction in (("log_loss", np.where(BINARY == 1, 0.5, 0.0), P2[:, 1]),
                                     ("hinge_loss", np.where(BINARY == 1, 0.5, 0.0), DECISION_1),
                                     ("brier_score_loss", MULTI * 0.5, P3)):
        with pytest.raises(ValueError, match=rf"{name}: y_true must hold class labels \(integers, strings or "
                                             r"booleans\), got the continuous value 0.5"):
            getattr(M, name)(labels, prediction)
        with pytest.raises(ValueError):  # scikit-learn's "Unknown label type"
            sklearn_metric(name)(labels, prediction)
    with pytest.raises(ValueError, match=r"log_loss: labels hold 4 classes and the one-hot y_true 3 columns"):
        M.log_loss(np.eye(3)[MULTI], P4, labels=[0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"log_loss: labels must be distinct, got \[0, 1, 1\]"):
        M.log_loss(MULTI, P3, labels=[0, 1, 1])
    assert_close(M.log_loss(MULTI, P3, labels=range(3)), sklearn_metric("log_loss")(MULTI, P3))
    jax, da = need("jax"), need("dask.array")
    flags = BINARY.astype(bool)
    expected = sklearn_metric("log_loss")(flags, P2[:, 1])
    jitted = jax.jit(lambda y, p: M.log_loss(y, p, labels=[False, True]))(jax.numpy.asarray(flags),
                                                                          jax.numpy.asarray(P2[:, 1]))
    assert_close(np.asarray(jitted), expected, "float32")
    lazy = M.brier_score_loss(da.from_array(flags), da.from_array(P2[:, 1]), pos_label=True)
    assert_close(lazy.compute(), sklearn_metric("brier_score_loss")(flags, P2[:, 1], pos_label=True))
    with pytest.raises(ValueError, match=r"log_loss: y_true must be an array of numpy, like the prediction, where "
                                         r"it cannot be read \(traced or lazy\), got Array"):
        M.log_loss(da.from_array(BINARY), P2[:, 1], labels=[0, 1])


def test_log_loss_clips_float16_with_float16s_eps():
    p = np.array([0.0, 0.0, 1.0, 1.0], dtype=np.float16)
    out = M.log_loss(np.array([0, 1, 1, 0]), p)
    assert out.dtype == np.float16
    assert_close(out, sklearn_metric("log_loss")(np.array([0, 1, 1, 0]), p), "float16")


def test_warnings_as_sklearns():
    with pytest.warns(UserWarning, match=r"log_loss: the rows of y_proba do not sum to one"):
        M.log_loss(MULTI, P3 * 0.9)
    with pytest.warns(UserWarning, match=r"log_loss: labels passed were \[2, 1, 0\], but the columns of y_proba are "
                                         r"taken to be the sorted labels \[0, 1, 2\]"):
        M.log_loss(MULTI, P3, labels=[2, 1, 0])
    with pytest.warns(FutureWarning, match=r"log_loss: y_pred was renamed to y_proba"):
        assert_close(M.log_loss(MULTI, y_pred=P3), sklearn_metric("log_loss")(MULTI, P3))
