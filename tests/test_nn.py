"""The loss classes: agnostic_losses' plain callables and agnostic_losses.torch's torch.nn.Modules.

Both are made from one table (agnostic_losses.nn.TABLE); these tests pin that
every class equals its functional form and torch.nn's class, has torch.nn's
constructor signature and checks, and (the Modules) keeps its array options
as buffers: ``.to()``, ``state_dict()`` and containers as torch.nn's losses.
"""

from __future__ import annotations

import ast
import copy
import importlib
import inspect
import pathlib
import pickle
import pydoc
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import agnostic_losses as al
from agnostic_losses import nn

from helpers import assert_close, need, parameters

RNG = np.random.default_rng(7)
X, T = RNG.standard_normal((2, 4, 5))
LOGITS = RNG.standard_normal((4, 5))
LABELS = np.array([0, 4, 2, 2])
P = RNG.uniform(0.05, 0.95, (4, 5))
T01 = RNG.uniform(0, 1, (4, 5))
A, B, N = RNG.standard_normal((3, 4, 6))
SIGNS = np.array([1.0, -1.0, -1.0, 1.0])
W5, W6 = RNG.uniform(0.5, 2.0, 5), RNG.uniform(0.5, 2.0, 6)
CTC_LOGITS = RNG.standard_normal((8, 3, 5))
LOG_PROBS = CTC_LOGITS - np.log(np.exp(CTC_LOGITS).sum(-1, keepdims=True))
CTC_TARGETS = np.array([[1, 1, 3], [3, 4, 0], [4, 4, 1]])

# name: (constructor options, call arrays); LinearCrossEntropyLoss has tests of its own below
CASES = {
    "L1Loss": ({}, (X, T)),
    "MSELoss": ({"reduction": "sum"}, (X, T)),
    "HuberLoss": ({"reduction": "none", "delta": 0.5}, (X, T)),
    "SmoothL1Loss": ({"beta": 2.0}, (X, T)),
    "CrossEntropyLoss": ({"weight": W5, "label_smoothing": 0.1}, (LOGITS, LABELS)),
    "NLLLoss": ({"weight": W5, "ignore_index": 2}, (np.log(P / P.sum(1, keepdims=True)), LABELS)),
    "BCELoss": ({"weight": W5, "reduction": "sum"}, (P, T01)),
    "BCEWithLogitsLoss": ({"weight": W5, "pos_weight": W5[::-1].copy(), "reduction": "none"}, (LOGITS, T01)),
    "MultiLabelSoftMarginLoss": ({"weight": W5}, (LOGITS, (T01 > 0.5).astype(np.float64))),
    "SoftMarginLoss": ({}, (LOGITS, np.sign(T01 - 0.5))),
    "KLDivLoss": ({"reduction": "batchmean"}, (np.log(P), T01)),
    "PoissonNLLLoss": ({"full": True}, (LOGITS, np.round(T01 * 4))),
    "GaussianNLLLoss": ({"full": True}, (LOGITS, P, T01 + 0.1)),
    "MarginRankingLoss": ({"margin": 0.3}, (A[:, 0], B[:, 0], SIGNS)),
    "HingeEmbeddingLoss": ({"margin": 0.5}, (A, np.sign(B))),
    "MultiMarginLoss": ({"p": 2, "margin": 0.7, "weight": W6}, (A, np.array([0, 5, 2, 1]))),
    "MultiLabelMarginLoss": ({}, (A, np.array([[0, 3, -1, 0, 0, 0], [5, -1, 1, 1, 1, 1], [1, 2, 3, 4, 5, 0],
                                              [-1, 2, 2, 2, 2, 2]]))),
    "CosineEmbeddingLoss": ({"margin": 0.2}, (A, B, SIGNS)),
    "TripletMarginLoss": ({"swap": True, "p": 1.0}, (A, B, N)),
    "TripletMarginWithDistanceLoss": ({"margin": 2.0}, (A, B, N)),
    "CTCLoss": ({"blank": 2, "reduction": "sum", "zero_infinity": True},
                (LOG_PROBS, CTC_TARGETS, np.array([8, 6, 7]), np.array([3, 2, 3]))),
}
WEIGHTED = [name for name, (options, _) in CASES.items() if "weight" in options]
PUBLIC = """
    l1_loss mse_loss huber_loss smooth_l1_loss cross_entropy linear_cross_entropy nll_loss binary_cross_entropy
    binary_cross_entropy_with_logits multilabel_soft_margin_loss soft_margin_loss kl_div poisson_nll_loss
    gaussian_nll_loss margin_ranking_loss hinge_embedding_loss multi_margin_loss multilabel_margin_loss
    cosine_embedding_loss triplet_margin_loss triplet_margin_with_distance_loss pairwise_distance ctc_loss
    L1Loss MSELoss HuberLoss SmoothL1Loss CrossEntropyLoss LinearCrossEntropyLoss NLLLoss BCELoss BCEWithLogitsLoss
    MultiLabelSoftMarginLoss SoftMarginLoss KLDivLoss PoissonNLLLoss GaussianNLLLoss MarginRankingLoss
    HingeEmbeddingLoss MultiMarginLoss MultiLabelMarginLoss CosineEmbeddingLoss TripletMarginLoss
    TripletMarginWithDistanceLoss CTCLoss generic_primitives value_checks loss
    mape_loss msle_loss rmse_loss log_cosh_loss pinball_loss MAPELoss MSLELoss RMSELoss LogCoshLoss PinballLoss
    sigmoid_focal_loss focal_loss generalized_box_iou_loss distance_box_iou_loss complete_box_iou_loss
    jensen_shannon_divergence hinge_loss perceptron_loss sparsemax_loss multiclass_hinge_loss
    multiclass_perceptron_loss multiclass_sparsemax_loss cosine_distance ntxent poly_loss_cross_entropy
    dice_loss generalized_dice_loss tversky_loss DiceLoss GeneralizedDiceLoss TverskyLoss FocalLoss
""".split()  # agnostic_losses.__all__ (the classes in their order)
BEYOND_TORCH = ("MAPELoss", "MSLELoss", "RMSELoss", "LogCoshLoss", "PinballLoss",  # classes torch.nn lacks
                "FocalLoss", "DiceLoss", "GeneralizedDiceLoss", "TverskyLoss")


@pytest.fixture
def torch():
    return need("torch")


@pytest.fixture
def tl(torch):
    """agnostic_losses.torch, the torch.nn.Module classes."""
    return importlib.import_module("agnostic_losses.torch")


def classes(kind: str):
    """The module of one kind of classes: 'generic' (agnostic_losses) or 'torch' (agnostic_losses.torch)."""
    if kind == "generic":
        return al
    need("torch")
    return importlib.import_module("agnostic_losses.torch")


def tensors(torch, values, dtype=None):
    """``values`` (a tuple or a dict of options) with their NumPy arrays as torch tensors."""
    t = lambda v: torch.tensor(v, dtype=dtype if v.dtype.kind == "f" else None) if isinstance(v, np.ndarray) else v
    return {k: t(v) for k, v in values.items()} if isinstance(values, dict) else tuple(map(t, values))


# --- one list of names -------------------------------------------------------------------------

def test_public_names_are_the_functions_and_the_classes_once():
    assert nn.__all__ == list(nn.TABLE) == [name for name in PUBLIC if name[0].isupper() and name not in BEYOND_TORCH]
    assert sorted(al.__all__) == sorted(PUBLIC) and len(set(al.__all__)) == len(al.__all__)
    assert all(getattr(al, name) is getattr(nn, name) for name in nn.__all__)


def test_torch_module_has_the_same_names_and_only_public_imports(tl, torch):
    assert tl.__all__ == [*nn.__all__, *BEYOND_TORCH, "module"]  # module: the Module class of a user's loss
    assert all(issubclass(getattr(tl, name), torch.nn.Module) for name in BEYOND_TORCH)
    assert all(issubclass(getattr(tl, name), torch.nn.Module) and hasattr(torch.nn, name) for name in nn.__all__)
    tree = ast.parse(pathlib.Path(tl.__file__).read_text())
    relative = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level]
    assert relative and not any(m.startswith("_") for m in relative), relative


def test_import_agnostic_losses_imports_neither_torch_nor_agnostic_losses_torch():
    code = textwrap.dedent("""
        import sys
        import agnostic_losses, agnostic_losses.nn
        assert agnostic_losses.HuberLoss is agnostic_losses.nn.HuberLoss
        loaded = sorted(m for m in sys.modules if m.split(".")[0] == "torch" or m == "agnostic_losses.torch")
        assert not loaded, loaded
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


# --- values and gradients ----------------------------------------------------------------------

@pytest.mark.parametrize("name", CASES)
def test_generic_class_equals_its_function_and_torch_nn(torch, name):
    options, arrays = CASES[name]
    ours = getattr(al, name)(**options)
    value = ours(*arrays)
    assert isinstance(value, np.ndarray)
    assert_close(value, nn.TABLE[name][0](*arrays, **options), what="function")
    assert_close(ours.forward(*arrays), value, what="forward")
    theirs = getattr(torch.nn, name)(**tensors(torch, options))(*tensors(torch, arrays))
    assert_close(value, theirs.numpy(), what="torch.nn")
    assert repr(ours).startswith(name + "(") and "weight=array" not in repr(ours)


@pytest.mark.parametrize("name", CASES)
def test_torch_module_equals_its_function_and_torch_nn(torch, tl, name):
    options, arrays = tensors(torch, CASES[name][0]), tensors(torch, CASES[name][1])
    ours = getattr(tl, name)(**options)
    assert isinstance(ours, torch.nn.Module)
    value = ours(*arrays)
    assert isinstance(value, torch.Tensor)
    assert_close(value.numpy(), nn.TABLE[name][0](*arrays, **options).numpy(), what="function")
    assert_close(value.numpy(), getattr(torch.nn, name)(**options)(*arrays).numpy(), what="torch.nn")
    assert repr(ours).startswith(name + "(")


@pytest.mark.parametrize("name", ["HuberLoss", "CrossEntropyLoss", "BCEWithLogitsLoss", "TripletMarginLoss"])
def test_gradients_equal_torch_nn(torch, tl, name):
    options, arrays = tensors(torch, CASES[name][0]), tensors(torch, CASES[name][1])
    grads = []
    for cls in (getattr(tl, name), getattr(al, name), getattr(torch.nn, name)):
        x = arrays[0].clone().requires_grad_()
        (g,) = torch.autograd.grad(cls(**options)(x, *arrays[1:]).sum(), x)
        grads.append(g.numpy())
    assert_close(grads[0], grads[2], what="agnostic_losses.torch")
    assert_close(grads[1], grads[2], what="agnostic_losses")


def test_options_are_attributes_read_at_each_call(torch, tl):
    for module, x, t in ((al, X, T), (tl, torch.tensor(X), torch.tensor(T))):
        loss = module.HuberLoss(delta=0.5)
        assert (loss.reduction, loss.delta) == ("mean", 0.5)
        loss.reduction = "sum"
        assert_close(np.asarray(loss(x, t)), np.asarray(al.huber_loss(x, t, reduction="sum", delta=0.5)))


# --- signatures and constructor checks ---------------------------------------------------------

@pytest.mark.parametrize("name", nn.TABLE)
def test_signatures_are_torch_nns(torch, tl, name):
    theirs = parameters(getattr(torch.nn, name))
    chunk_size = [("chunk_size", inspect.Parameter.KEYWORD_ONLY, None)]
    if name == "LinearCrossEntropyLoss":  # chunk_size is ours; the generic class makes no parameters
        assert parameters(getattr(tl, name)) == theirs + chunk_size
        assert parameters(getattr(al, name)) == [p for p in theirs if p[0] not in ("device", "dtype")] + chunk_size
    else:
        assert parameters(getattr(tl, name)) == parameters(getattr(al, name)) == theirs
    expected = f"{name}{inspect.signature(getattr(al, name))}"
    assert expected in pydoc.render_doc(getattr(al, name), renderer=pydoc.plaintext)
    assert getattr(al, name).__doc__ and getattr(tl, name).__doc__


@pytest.mark.parametrize("kind", ["generic", "torch"])
def test_constructor_checks(kind):
    m = classes(kind)
    with pytest.raises(TypeError, match=r"HuberLoss: delta must be a float or int, got str"):
        m.HuberLoss(delta="1")
    with pytest.raises(ValueError, match=r"HuberLoss: delta must be > 0, got 0"):
        m.HuberLoss(delta=0)
    with pytest.raises(ValueError, match=r"SmoothL1Loss: beta must be >= 0, got -1"):
        m.SmoothL1Loss(beta=-1)
    with pytest.raises(ValueError, match=r"MultiMarginLoss: p must be 1 or 2, got 3"):
        m.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match=r"TripletMarginLoss: margin must be > 0, got -1"):
        m.TripletMarginLoss(margin=-1)
    with pytest.raises(ValueError, match=r"TripletMarginWithDistanceLoss: margin must be > 0, got 0"):
        m.TripletMarginWithDistanceLoss(margin=0)
    with pytest.raises(ValueError, match=r"LinearCrossEntropyLoss: label_smoothing must be in \[0.0, 1.0\], got 2"):
        m.LinearCrossEntropyLoss(4, 5, label_smoothing=2)
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'delt'"):
        m.HuberLoss(delt=1.0)
    with pytest.raises(TypeError, match=r"too many positional arguments"):
        m.GaussianNLLLoss(True)  # keyword-only, as torch's
    assert m.SmoothL1Loss(beta=0).beta == 0


@pytest.mark.parametrize("legacy,reduction", [({"size_average": False}, "sum"), ({"reduce": False}, "none"),
                                              ({"size_average": True, "reduce": False}, "none"),
                                              ({"size_average": True, "reduce": True}, "mean")])
@pytest.mark.parametrize("kind", ["generic", "torch"])
def test_size_average_and_reduce_become_reduction_with_torchs_warning(kind, legacy, reduction):
    for name in ("L1Loss", "MSELoss", "SmoothL1Loss", "NLLLoss"):
        with pytest.warns(UserWarning, match=f"please use reduction='{reduction}' instead"):
            loss = getattr(classes(kind), name)(**legacy)
        assert loss.reduction == reduction and not hasattr(loss, "size_average") and not hasattr(loss, "reduce")


@pytest.mark.parametrize("kind", ["generic", "torch"])
def test_instances_pickle_and_copy(kind):
    loss = classes(kind).HuberLoss(reduction="sum", delta=0.5)
    x, t = (X, T) if kind == "generic" else tensors(need("torch"), (X, T))
    for other in (pickle.loads(pickle.dumps(loss)), copy.deepcopy(loss)):
        assert type(other) is type(loss) and repr(other) == repr(loss)
        assert_close(np.asarray(other(x, t)), al.huber_loss(X, T, reduction="sum", delta=0.5))


# --- torch.nn.Module behaviour: buffers, dtype, device, state_dict, containers -----------------

@pytest.mark.parametrize("name", WEIGHTED)
def test_to_float64_moves_the_weight_buffers(torch, tl, name):
    options, arrays = CASES[name]
    ours = getattr(tl, name)(**tensors(torch, options, torch.float32))
    assert ours.to(torch.float64) is ours
    assert ours.weight.dtype == torch.float64 and set(ours._buffers) >= {"weight"}
    if name == "BCEWithLogitsLoss":
        assert ours.pos_weight.dtype == torch.float64
    theirs = getattr(torch.nn, name)(**tensors(torch, options, torch.float32)).to(torch.float64)
    assert_close(ours(*tensors(torch, arrays)).numpy(), theirs(*tensors(torch, arrays)).numpy())


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("with_options", [False, True])
def test_state_dict_keys_are_torch_nns(torch, tl, name, with_options):
    options = tensors(torch, CASES[name][0]) if with_options else {}
    ours, theirs = getattr(tl, name)(**options), getattr(torch.nn, name)(**options)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert list(ours._buffers) == list(theirs._buffers)  # a None weight is a None buffer, as torch's
    ours.load_state_dict(theirs.state_dict())


def test_load_state_dict_replaces_the_weight(torch, tl):
    ours = tl.CrossEntropyLoss(weight=torch.ones(5, dtype=torch.float64))
    ours.load_state_dict(torch.nn.CrossEntropyLoss(weight=torch.tensor(W5)).state_dict())
    assert_close(ours(*tensors(torch, (LOGITS, LABELS))).numpy(), al.cross_entropy(LOGITS, LABELS, weight=W5))


def test_placement_in_sequential_as_torch_nns(torch, tl):
    """A loss inside a container: moved, converted and saved with it, as torch.nn's."""
    made = {}
    for module in (tl, torch.nn):
        torch.manual_seed(0)
        made[module] = torch.nn.Sequential(torch.nn.Linear(3, 5),
                                           module.CrossEntropyLoss(weight=torch.tensor(W5, dtype=torch.float32)))
        made[module].to(torch.float64)
    ours, theirs = made[tl], made[torch.nn]
    assert ours[1].weight.dtype == torch.float64
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0.weight", "0.bias", "1.weight"]
    x, y = torch.tensor(X[:, :3]), torch.tensor(LABELS)
    assert_close(ours[1](ours[0](x), y).detach().numpy(), theirs[1](theirs[0](x), y).detach().numpy())
    ours.load_state_dict(theirs.state_dict())


def test_to_cuda_moves_the_buffers_and_computes_there(torch, tl):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    options, arrays = CASES["BCEWithLogitsLoss"]
    ours = getattr(tl, "BCEWithLogitsLoss")(**tensors(torch, options)).to("cuda")
    assert ours.weight.is_cuda and ours.pos_weight.is_cuda
    value = ours(*(a.cuda() for a in tensors(torch, arrays)))
    assert value.is_cuda
    theirs = torch.nn.BCEWithLogitsLoss(**tensors(torch, options))(*tensors(torch, arrays))
    assert_close(value.cpu().numpy(), theirs.numpy())


# --- LinearCrossEntropyLoss: the linear layer at call (generic) or owned (torch.nn.Module) ------

H, C = 4, 5
LX = RNG.standard_normal((8, H))
LW, LB = RNG.standard_normal((C, H)), RNG.standard_normal(C)
Y, Y_K = RNG.integers(0, C, 8), RNG.integers(0, C, (8, 2))


def test_generic_linear_cross_entropy_takes_the_linear_layer_at_call_and_matches_torchs(torch):
    torch.manual_seed(0)
    options = {"out_features": (2,), "bias": True, "weight": W5, "label_smoothing": 0.1, "ignore_index": 3}
    theirs = torch.nn.LinearCrossEntropyLoss(H, C, **tensors(torch, options), dtype=torch.float64)
    ours = al.LinearCrossEntropyLoss(H, C, **tensors(torch, options), chunk_size=3)
    x, y = torch.tensor(LX), torch.tensor(Y_K)
    expected = theirs(x, y)
    lin = theirs.linear  # torch's flat storage (C * 2, H) and (C * 2,)
    assert_close(ours(x, y, lin.weight, lin.bias).detach().numpy(), expected.detach().numpy(), what="flat")
    shaped = lin.weight.reshape(C, 2, H), lin.bias.reshape(C, 2)
    on_numpy = al.LinearCrossEntropyLoss(H, C, **options)
    assert_close(on_numpy(LX, Y_K, *(a.detach().numpy() for a in shaped)), expected.detach().numpy(), what="numpy")
    (g_ours,) = torch.autograd.grad(ours.forward(x, y, *shaped), lin.weight)
    (g_theirs,) = torch.autograd.grad(expected, lin.weight)
    assert_close(g_ours.numpy(), g_theirs.numpy(), what="gradient")
    assert "chunk_size=3" in repr(ours) and "in_features=4" in repr(ours)
    assert al.LinearCrossEntropyLoss(H, C, out_features=[2]).out_features == (2,)


def test_generic_linear_cross_entropy_errors():
    with pytest.raises(ValueError, match=r"LinearCrossEntropyLoss: made with bias=True, so linear_bias must be "
                                         r"an array, got NoneType"):
        al.LinearCrossEntropyLoss(H, C, bias=True)(LX, Y, LW)
    with pytest.raises(ValueError, match=r"LinearCrossEntropyLoss: made with bias=False, so linear_bias must be None"):
        al.LinearCrossEntropyLoss(H, C)(LX, Y, LW, LB)
    with pytest.raises(ValueError, match=r"LinearCrossEntropyLoss: linear_weight must have shape \(5, 2, 4\) or "
                                         r"\(10, 4\), got \(5, 4\)"):
        al.LinearCrossEntropyLoss(H, C, out_features=(2,))(LX, Y_K, LW)
    with pytest.raises(TypeError, match=r"LinearCrossEntropyLoss: linear_weight must be an array, got list"):
        al.LinearCrossEntropyLoss(H, C)(LX, Y, LW.tolist())


@pytest.mark.parametrize("out_features,target", [((), Y), ((2,), Y_K)])
def test_torch_linear_cross_entropy_owns_torchs_linear_and_matches_it(torch, tl, out_features, target):
    options = {"out_features": out_features, "bias": True, "weight": torch.tensor(W5), "label_smoothing": 0.1,
               "ignore_index": 3, "dtype": torch.float64}
    torch.manual_seed(0)
    theirs = torch.nn.LinearCrossEntropyLoss(H, C, **options)
    torch.manual_seed(0)
    ours = tl.LinearCrossEntropyLoss(H, C, **options, chunk_size=3)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "linear.weight", "linear.bias"]
    for key, value in theirs.state_dict().items():  # the same seed makes the same parameters
        assert torch.equal(ours.state_dict()[key], value), key
    x, y = torch.tensor(LX, requires_grad=True), torch.tensor(target)
    value, expected = ours(x, y), theirs(x, y)
    assert_close(value.detach().numpy(), expected.detach().numpy())
    mine = torch.autograd.grad(value, (x, ours.linear.weight, ours.linear.bias))
    reference = torch.autograd.grad(expected, (x, theirs.linear.weight, theirs.linear.bias))
    for what, g, r in zip(("input", "linear.weight", "linear.bias"), mine, reference):
        assert_close(g.numpy(), r.numpy(), what=what)
    assert "chunk_size=3" in repr(ours) and "(linear): Linear(in_features=4" in repr(ours)


def test_torch_linear_cross_entropy_state_dict_dtype_and_options(torch, tl, monkeypatch):
    torch.manual_seed(1)
    theirs = torch.nn.LinearCrossEntropyLoss(H, C)
    ours = tl.LinearCrossEntropyLoss(H, C)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["linear.weight"]
    assert ours.weight is None and "weight" in ours._buffers
    ours.load_state_dict(theirs.state_dict())
    ours.to(torch.float64), theirs.to(torch.float64)
    assert ours.linear.weight.dtype == torch.float64
    x, y = torch.tensor(LX), torch.tensor(Y)
    assert_close(ours(x, y).detach().numpy(), theirs(x, y).detach().numpy())
    seen = []  # torch's options and our chunk_size go to the function (which maps them: test_linear.py)
    monkeypatch.setattr(tl, "linear_cross_entropy", lambda *a, options, chunk_size, **k: seen.append((options,
                                                                                                     chunk_size)))
    chunked = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=2, chunking_method=None)
    tl.LinearCrossEntropyLoss(H, C, options=chunked)(x.float(), y)
    tl.LinearCrossEntropyLoss(H, C, chunk_size=5)(x.float(), y)
    assert seen == [(chunked, None), (None, 5)]


@pytest.mark.parametrize("kind", ["generic", "torch"])
def test_linear_cross_entropy_classes_take_torchs_options(torch, tl, kind):
    """From issue 25: torch.nn.LinearCrossEntropyLoss(..., options=LinearCrossEntropyOptions(...)) runs unchanged,
    with torch's value and gradients; the generic class takes a dict of the fields too; bad options are refused
    at construction, as torch's options class refuses them."""
    options = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=3)
    torch.manual_seed(0)
    theirs = torch.nn.LinearCrossEntropyLoss(H, C, bias=True, options=options, dtype=torch.float64)
    x, y = torch.tensor(LX, requires_grad=True), torch.tensor(Y)
    expected = theirs(x, y)
    lin = theirs.linear
    if kind == "torch":
        torch.manual_seed(0)
        ours = tl.LinearCrossEntropyLoss(H, C, bias=True, options=options, dtype=torch.float64)
        value, params = ours(x, y), (ours.linear.weight, ours.linear.bias)
    else:
        ours = al.LinearCrossEntropyLoss(H, C, bias=True, options=options)
        value, params = ours(x, y, lin.weight, lin.bias), (lin.weight, lin.bias)
        on_numpy = al.LinearCrossEntropyLoss(H, C, bias=True, options={"batch_chunk_size": 3})
        assert_close(on_numpy(LX, Y, *(a.detach().numpy() for a in params)), expected.detach().numpy(), what="numpy")
    assert_close(value.detach().numpy(), expected.detach().numpy())
    mine = torch.autograd.grad(value, (x, *params))
    reference = torch.autograd.grad(expected, (x, lin.weight, lin.bias))
    for what, g, r in zip(("input", "linear.weight", "linear.bias"), mine, reference):
        assert_close(g.numpy(), r.numpy(), what=what)
    m = classes(kind)
    with pytest.raises(ValueError, match=r"LinearCrossEntropyLoss: options has no field 'chunk'"):
        m.LinearCrossEntropyLoss(H, C, options={"chunk": 3})
    with pytest.raises(ValueError, match=r"LinearCrossEntropyLoss: options.acc_policy must be one of"):
        m.LinearCrossEntropyLoss(H, C, options={"acc_policy": "fast"})
