"""setup() (agnostic_losses/_setup.py), the one path every loss takes through its arguments, on NumPy
and torch arrays; where the package's warnings point (``_checks.warn_user``), and that the reductions
warn nowhere torch does not.

The expectations are written out here (dtypes, messages, torch's legacy mapping), never read back
from setup itself.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import agnostic_losses as al
from agnostic_losses._setup import setup

from helpers import need


class Library:
    """Arrays and dtypes of NumPy or torch, by dtype name."""

    def __init__(self, name):
        self.name, self.xp = name, np if name == "numpy" else need("torch")

    def dtype(self, name):
        if self.name == "numpy" and name == "bfloat16":
            pytest.skip("NumPy has no bfloat16")
        return np.dtype(name) if self.name == "numpy" else getattr(self.xp, name)

    def array(self, dtype, values=(0.5, 1.5, 3.0)):
        return self.xp.asarray(np.asarray(values), dtype=self.dtype(dtype))


@pytest.fixture(params=["numpy", "torch"])
def lib(request):
    return Library(request.param)


def dtypes(s):
    return [None if a is None else a.dtype for a in s.arrays]


def test_result_dtype_is_the_promotion_of_the_result_arrays(lib):
    f32, f64, i64 = lib.array("float32"), lib.array("float64"), lib.array("int64", (0, 1, 2))
    assert setup("my_loss", "mean", {"input": f32, "target": f64}).dtype == lib.dtype("float64")
    assert setup("my_loss", "mean", {"input": f32, "target": f64}, result=("input",)).dtype == lib.dtype("float32")
    assert setup("my_loss", "mean", {"input": f32, "target": i64}, indices=("target",)).dtype == lib.dtype("float32")
    s = setup("my_loss", "mean", {"input": f32, "weight": None})
    assert s.dtype == lib.dtype("float32") and s.arrays[1] is None


@pytest.mark.parametrize("half", ["float16", "bfloat16"])
def test_half_precision_works_in_float32_and_finishes_in_its_dtype(lib, half):
    x, t = lib.array(half), lib.array(half)
    s = setup("my_loss", "mean", {"input": x, "target": t})
    assert dtypes(s) == [lib.dtype("float32")] * 2 and s.dtype == lib.dtype(half)
    out = s.finish(s.xp.sum(s.arrays[0]))
    assert out.dtype == lib.dtype(half) and out.shape == () and float(out) == 5.0
    assert isinstance(out, type(x))  # NumPy's sum is a scalar; the result is a 0-d array
    s = setup("my_loss", "mean", {"input": x, "target": t}, working=False)
    assert s.arrays[0] is x and s.arrays[1] is t


@pytest.mark.parametrize("first", ["float64", "float32", "float16"])
def test_integer_targets_take_the_first_floating_arrays_dtype(lib, first):
    labels = lib.array("int32", (3, 0, 1))
    s = setup("my_loss", "mean", {"index": lib.array("int64", (0, 1, 2)), "input": lib.array(first),
                                  "other": lib.array("float64"), "target": labels},
              targets=("target",), indices=("index",), result=("input", "target"))
    assert s.dtype == lib.dtype(first)  # the target counts in that dtype, not as an integer
    assert s.arrays[3].dtype == lib.dtype("float64")  # then computed in the floating arrays' promotion
    assert np.asarray(s.arrays[3]).tolist() == [3.0, 0.0, 1.0] and labels.dtype == lib.dtype("int32")
    big = lib.array("int64", (2**62,))  # rounded through the first floating dtype (inf in float16) first
    s = setup("my_loss", "mean", {"input": lib.array(first), "other": lib.array("float64"), "target": big},
              targets=("target",))
    assert np.asarray(s.arrays[2]).tolist() == [float(np.asarray(np.float64(2**62)).astype(first))]
    floats = lib.array("float64")  # a floating target stays as it is
    s = setup("my_loss", "mean", {"input": lib.array("float32"), "target": floats}, targets=("target",))
    assert s.arrays[1] is floats


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_indices_are_passed_through_untouched(lib, dtype):
    index = lib.array(dtype, (2, 0, 1))
    s = setup("my_loss", "mean", {"input": lib.array("float16"), "target": index}, indices=("target",))
    assert s.arrays[1] is index and s.dtype == lib.dtype("float16")


def test_floating_arrays_of_several_dtypes_are_computed_in_their_promotion(lib):
    """torch would compute a float32 tensor with a float64 0-d one in float32 (its 0-d rule): cast first."""
    x, t, var = lib.array("float32"), lib.array("float64"), lib.array("float32")
    s = setup("my_loss", "mean", {"input": x, "target": t, "var": var})
    assert dtypes(s) == [lib.dtype("float64")] * 3 and s.arrays[1] is t
    s = setup("my_loss", "mean", {"input": x, "var": var})  # one dtype: nothing cast
    assert s.arrays[0] is x and s.arrays[1] is var
    s = setup("my_loss", "mean", {"input": lib.array("float16"), "target": x})
    assert dtypes(s) == [lib.dtype("float32")] * 2 and s.arrays[1] is x and s.dtype == lib.dtype("float32")


def test_a_signature_seen_before_is_cast_and_checked_as_the_first_time(lib):
    """``setup`` keeps what the checks of a signature (types, dtypes, options) found; a call seen before gets the
    same casts (an integer target through the input's float16, as torch takes it, then float32) and the same
    errors, also for what the signature does not hold (a device)."""
    x, labels = lib.array("float16"), lib.array("int64", (2049, 0, 1))
    for _ in range(2):
        s = setup("cached_loss", "sum", {"input": x, "target": labels}, targets=("target",))
        assert dtypes(s) == [lib.dtype("float32")] * 2 and np.asarray(s.arrays[1]).tolist() == [2048.0, 0.0, 1.0]
        with pytest.raises(ValueError, match="cached_loss: reduction must be one of"):
            setup("cached_loss", "average", {"input": x, "target": labels}, targets=("target",))
        with pytest.raises(TypeError, match="cached_loss: target must be an array, got list"):
            setup("cached_loss", "sum", {"input": x, "target": [1.0, 2.0, 3.0]}, targets=("target",))
    if lib.name == "torch":  # arrays on two devices, after the same signature on one
        elsewhere = lib.xp.zeros(3, dtype=lib.xp.int64, device="meta")
        for _ in range(2):
            with pytest.raises(ValueError, match="cached_loss: all arrays must be on one device, got input on cpu, "
                                                 "target on meta"):
                setup("cached_loss", "sum", {"input": x, "target": elsewhere}, targets=("target",))


LEGACY = [((True, None), "mean"), ((None, True), "mean"), ((True, True), "mean"), ((False, None), "sum"),
          ((False, True), "sum"), ((None, False), "none"), ((True, False), "none"), ((False, False), "none")]


@pytest.mark.parametrize("legacy,reduction", LEGACY)
def test_legacy_size_average_and_reduce_map_as_torchs_with_its_warning(legacy, reduction):
    message = f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead."
    arrays = {"input": np.ones(3), "target": np.ones(3)}
    with pytest.warns(UserWarning, match=re.escape(message)) as record:
        s = setup("my_loss", "mean", arrays, legacy=legacy)
    assert s.reduction == reduction and len(record) == 1
    assert record[0].filename == __file__  # the caller's line, not the package's


@pytest.mark.parametrize("legacy,reduction", LEGACY)
def test_legacy_warning_is_torchs(legacy, reduction):
    torch = need("torch")
    with pytest.warns(UserWarning) as theirs:
        torch.nn.functional.l1_loss(torch.ones(3), torch.ones(3), size_average=legacy[0], reduce=legacy[1])
    with pytest.warns(UserWarning) as ours:
        assert setup("my_loss", "mean", {"input": np.ones(3)}, legacy=legacy).reduction == reduction
    assert str(ours[0].message) == str(theirs[0].message)


def test_no_legacy_pair_keeps_the_reduction_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert setup("my_loss", "sum", {"input": np.ones(3)}).reduction == "sum"


def test_bad_reduction_is_a_value_error_listing_the_allowed():
    x = np.ones(3)
    with pytest.raises(ValueError, match=re.escape("my_loss: reduction must be one of 'none', 'mean', 'sum', "
                                                   "got 'avg'")):
        setup("my_loss", "avg", {"input": x})
    with pytest.raises(ValueError, match=re.escape("my_loss: reduction must be one of 'sum', 'batchmean', "
                                                   "got None")):
        setup("my_loss", None, {"input": x}, reductions=("sum", "batchmean"))


def test_mixed_libraries_are_a_type_error_naming_the_arrays_in_order():
    torch = need("torch")
    for arrays, found in (({"input": np.ones(3), "target": torch.ones(3)}, "input from numpy, target from torch"),
                          ({"target": torch.ones(3), "weight": None, "input": np.ones(3)},
                           "target from torch, input from numpy")):
        with pytest.raises(TypeError, match=re.escape(f"my_loss: all arrays must come from one array library, "
                                                      f"got {found}")):
            setup("my_loss", "mean", arrays)


def test_a_non_floating_array_is_a_type_error(lib):
    x, flags = lib.array("float32"), lib.array("bool")
    with pytest.raises(TypeError, match=r"my_loss: input must have a real floating dtype, got (torch\.)?int64$"):
        setup("my_loss", "mean", {"input": lib.array("int64")})
    with pytest.raises(TypeError, match=r"my_loss: target must have a real floating dtype, got (torch\.)?bool$"):
        setup("my_loss", "mean", {"input": x, "target": flags})
    s = setup("my_loss", "mean", {"input": x, "target": flags}, targets=("target",))  # labels: 0 and 1
    assert s.arrays[1].dtype == x.dtype


def test_inputs_are_neither_mutated_nor_replaced_where_no_cast_is_needed(lib):
    x, t, w = lib.array("float32"), lib.array("float32", (1.0, -2.0, 0.0)), lib.array("float32")
    s = setup("my_loss", "mean", {"input": x, "target": t, "weight": w}, targets=("target",))
    assert all(a is b for a, b in zip(s.arrays, (x, t, w)))
    half, labels = lib.array("float16"), lib.array("int64", (3, 0, 1))
    setup("my_loss", "mean", {"input": half, "target": labels}, targets=("target",))
    assert half.dtype == lib.dtype("float16") and np.asarray(half).tolist() == [0.5, 1.5, 3.0]
    assert labels.dtype == lib.dtype("int64") and np.asarray(labels).tolist() == [3, 0, 1]


def test_warnings_point_at_the_first_frame_outside_the_package():
    x = np.ones((4, 3))
    with pytest.warns(UserWarning, match="target shape") as record:
        al.mse_loss(x, x[:1])
    assert record[0].filename == __file__


E, E2, NO_INDICES = np.zeros(0), np.zeros((0, 3)), np.zeros(0, np.int64)
# every loss of an empty batch, (name, arrays, options): where torch's 'mean' is NaN without a warning
EMPTY_BATCHES = [
    ("l1_loss", (E, E), {}), ("l1_loss", (E, E), {"weight": E}), ("mse_loss", (E, E), {}),
    ("mse_loss", (E, E), {"weight": E}), ("huber_loss", (E, E), {}), ("huber_loss", (E, E), {"weight": E}),
    ("smooth_l1_loss", (E, E), {}), ("soft_margin_loss", (E, E), {}), ("binary_cross_entropy", (E, E), {}),
    ("binary_cross_entropy", (E, E), {"weight": E}), ("binary_cross_entropy_with_logits", (E, E), {}),
    ("binary_cross_entropy_with_logits", (E2, E2), {"weight": E2, "pos_weight": np.ones(3)}),
    ("poisson_nll_loss", (E, E), {}), ("poisson_nll_loss", (E, E), {"log_input": False, "full": True}),
    ("gaussian_nll_loss", (E, E, E), {}), ("gaussian_nll_loss", (E2, E2, np.zeros(0)), {"full": True}),
    ("kl_div", (E2, E2), {}), ("kl_div", (E2, E2), {"reduction": "batchmean"}),
    ("kl_div", (E2, E2), {"reduction": "batchmean", "log_target": True}),
    ("cross_entropy", (E2, NO_INDICES), {}), ("cross_entropy", (E2, NO_INDICES), {"weight": np.ones(3)}),
    ("cross_entropy", (E2, NO_INDICES), {"label_smoothing": 0.1}), ("cross_entropy", (E2, E2), {}),
    ("cross_entropy", (E2, E2), {"label_smoothing": 0.1}),
    ("cross_entropy", (np.zeros((0, 3, 2)), np.zeros((0, 2), np.int64)), {}),
    ("nll_loss", (E2, NO_INDICES), {}), ("nll_loss", (E2, NO_INDICES), {"weight": np.ones(3)}),
    ("multilabel_soft_margin_loss", (E2, E2), {}), ("multilabel_soft_margin_loss", (E2, E2), {"weight": np.ones(3)}),
    ("linear_cross_entropy", (E2, np.ones((4, 3)), NO_INDICES), {}),
    ("margin_ranking_loss", (E, E, E), {}), ("hinge_embedding_loss", (E, E), {}),
    ("cosine_embedding_loss", (E2, E2, E), {}), ("triplet_margin_loss", (E2, E2, E2), {}),
    ("triplet_margin_with_distance_loss", (E2, E2, E2), {}),
    ("multi_margin_loss", (E2, NO_INDICES), {}), ("multilabel_margin_loss", (E2, np.zeros((0, 3), np.int64)), {}),
]
UNINITIALISED = ("multi_margin_loss", "multilabel_margin_loss")  # torch's mean of an empty batch: garbage, not NaN


@pytest.mark.parametrize("generic", [False, True], ids=["native", "generic"])
@pytest.mark.parametrize("library", ["numpy", "array_api_strict"])
@pytest.mark.parametrize("name,arrays,options", EMPTY_BATCHES,
                         ids=[f"{name}-{'-'.join(options) or 'plain'}" for name, _, options in EMPTY_BATCHES])
def test_an_empty_batch_gives_torchs_nan_without_a_warning(library, name, arrays, options, generic):
    """From issue 25: the mean of an empty batch is NaN, with no warning where torch gives none (NumPy's 0 / 0
    warned); torch's warning about kl_div's 'mean' is given by both."""
    from conformance import backends as B

    torch = need("torch")
    backend = B.make(library)
    if backend.unavailable():
        pytest.skip(backend.unavailable())
    options = {"reduction": "mean", **options}
    theirs = {k: torch.tensor(v) for k, v in options.items() if isinstance(v, np.ndarray)}
    ours = {k: backend.asarray(v, "float64") for k, v in options.items() if isinstance(v, np.ndarray)}
    as_ours = [backend.asarray(a, "float64" if a.dtype.kind == "f" else "int64") for a in arrays]
    for reduction in (options["reduction"], "sum"):
        given = {**options, "reduction": reduction}
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            warnings.filterwarnings("ignore", "reduction: 'mean' divides the total loss", UserWarning)
            warnings.filterwarnings("ignore", "kl_div: reduction='mean' divides the total loss", UserWarning)
            ref = getattr(torch.nn.functional, name)(*map(torch.tensor, arrays), **{**given, **theirs}).numpy()
            with al.generic_primitives(generic):
                value = backend.to_numpy(getattr(al, name)(*as_ours, **{**given, **ours}))
        assert value.shape == () and value.dtype == np.float64, (reduction, value)
        if reduction == "sum":
            assert value == 0 and (name in UNINITIALISED or ref == 0), (reduction, value, ref)
        else:
            assert np.isnan(value) and (name in UNINITIALISED or np.isnan(ref)), (reduction, value, ref)


@pytest.mark.parametrize("library", ["numpy", "array_api_strict"])
def test_a_mean_over_no_classes_gives_torchs_nan_without_a_warning(library):
    """multilabel_soft_margin_loss's per-sample mean over an empty class axis ('none'): NaN, as torch's, silently."""
    from conformance import backends as B

    torch = need("torch")
    backend = B.make(library)
    if backend.unavailable():
        pytest.skip(backend.unavailable())
    x = np.zeros((2, 0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref = torch.nn.functional.multilabel_soft_margin_loss(torch.tensor(x), torch.tensor(x), reduction="none")
        ours = al.multilabel_soft_margin_loss(backend.asarray(x, "float64"), backend.asarray(x, "float64"),
                                              reduction="none")
    assert np.isnan(ref.numpy()).all() and ref.shape == (2,)
    value = backend.to_numpy(ours)
    assert value.shape == (2,) and np.isnan(value).all()
