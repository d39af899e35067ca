"""A fixture over every installed backend, selectable with ``--backend`` (and ``--device``).

The adapters are the conformance suite's (conformance/backends.py): one place
knows how to make a library's arrays and read them back.
"""

from __future__ import annotations

import pytest

from conformance import backends as B


def pytest_addoption(parser):
    parser.addoption("--backend", action="append", default=[],
                     help=f"comma-separated backends to test (default: all of {', '.join(B.BACKENDS)})")
    parser.addoption("--device", default="cpu", help="cpu or cuda (default cpu)")


def selected_backends(config):
    names = [n for opt in config.getoption("backend") for n in opt.split(",") if n]
    for n in names:
        B.make(n)  # an unknown name is an error, not an empty run
    return names or list(B.BACKENDS)


def pytest_generate_tests(metafunc):
    names = selected_backends(metafunc.config)
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", names, indirect=True)
    if "ad_backend" in metafunc.fixturenames:  # the backends with autodiff
        metafunc.parametrize("ad_backend", [n for n in names if B.make(n).differentiates], indirect=True)


def _adapter(request):
    adapter = B.make(request.param, request.config.getoption("device"))
    reason = adapter.unavailable()
    if reason:
        pytest.skip(reason)
    return adapter


@pytest.fixture
def backend(request):
    """A conformance adapter for one backend; skipped, with the reason, where it cannot run."""
    return _adapter(request)


@pytest.fixture
def ad_backend(request):
    """Like ``backend``, for the backends that differentiate (torch, JAX)."""
    return _adapter(request)


@pytest.fixture
def xp(backend):
    """The array-API namespace of ``backend``'s arrays."""
    import numpy as np
    from agnostic_losses._primitives import array_namespace

    return array_namespace(backend.asarray(np.zeros(1), "float64"))


def pytest_configure(config):
    import importlib.util

    if importlib.util.find_spec("jax") is not None:  # float64 arrays on JAX
        import jax

        jax.config.update("jax_enable_x64", True)


# The quick selection, `pytest -m "not slow"`: every test module without the tests parametrised by JAX or named
# for it (JAX compiles each case), the conformance catalogue only on NumPy and torch (native primitives), three
# transforms per loss (JAX's only through jax.grad), and none of the long end-to-end runs.
SLOW_MODULES = {"test_fuzz.py", "test_examples.py", "test_packaging.py", "test_chunks.py"}
QUICK_TRANSFORMS = {"jax.grad", "torch.func.grad", "dask"}


def _slow(item) -> bool:
    module = item.path.name
    if module in SLOW_MODULES:
        return True
    params = getattr(item, "callspec", None)
    params = params.params if params else {}
    if "jax" in item.originalname or any(isinstance(v, str) and v == "jax" for v in params.values()):
        return True
    if module == "test_conformance.py" and item.originalname.startswith("test_catalogue_passes"):
        return item.originalname.endswith("generic_primitives") or params.get("backend") not in ("numpy", "torch")
    if module == "test_transforms.py":
        return params.get("transform", "") not in QUICK_TRANSFORMS
    return False


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _slow(item):
            item.add_marker(pytest.mark.slow)
