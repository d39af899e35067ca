"""``import agnostic_losses`` needs only NumPy and array-api-compat, and imports no framework; only the
backend modules import an array library, and the package's modules import each other without a cycle."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

FRAMEWORKS = ("torch", "jax", "jaxlib", "cupy", "dask", "array_api_strict")


def test_import_with_frameworks_absent_imports_none():
    code = textwrap.dedent(f"""
        import sys

        class Absent:  # as if the frameworks were not installed
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {FRAMEWORKS!r}:
                    raise ModuleNotFoundError(f"No module named {{name!r}}")

        sys.meta_path.insert(0, Absent())
        import numpy as np
        import agnostic_losses as al

        out = al.huber_loss(np.array([0.0, 3.0]), np.zeros(2), reduction="sum")
        assert isinstance(out, np.ndarray) and out.shape == () and float(out) == 2.5, out
        x = np.array([[0.2, 0.7], [0.4, 0.9]])
        for out in (al.l1_loss(x, x / 2), al.mse_loss(x, x / 2, weight=x), al.binary_cross_entropy(x, x / 2),
                    al.gaussian_nll_loss(x, x / 2, x), al.kl_div(x, x / 2, reduction="batchmean"),
                    al.multilabel_soft_margin_loss(x, x / 2), al.binary_cross_entropy_with_logits(x, x / 2)):
            assert isinstance(out, np.ndarray) and out.shape == (), type(out)  # a 0-d array, not a NumPy scalar
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in {FRAMEWORKS!r})
        assert not loaded, loaded
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


PACKAGE = Path(__file__).resolve().parent.parent / "agnostic_losses"
# the modules allowed to import an array library: the backend modules, and the public torch.nn.Module classes
BACKENDS = {
    "agnostic_losses._primitives._torch": {"torch", "array_api_compat"},
    "agnostic_losses._primitives._torch_functions": {"torch"},
    "agnostic_losses._primitives._torch_chunks": {"torch"},
    "agnostic_losses._primitives._jax": {"jax"},
    "agnostic_losses._primitives._numpy": {"numpy"},
    "agnostic_losses._primitives._dask": {"dask"},
    "agnostic_losses._primitives._cupy": {"cupy"},
    "agnostic_losses.torch": {"torch"},
}
LIBRARIES = {"torch", "jax", "jaxlib", "numpy", "cupy", "dask", "array_api_strict"}


def _imports():
    """Each module of the package: the top-level libraries and the package's modules it imports, at module
    level or inside a function (a lazy import is still a dependency)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = name if parts[-1] == "__init__" else name.rpartition(".")[0]
        libraries, modules = set(), set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                libraries |= {alias.name.split(".")[0] for alias in node.names}
                modules |= {alias.name for alias in node.names if alias.name.startswith("agnostic_losses")}
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: from the package, its parent, ...
                    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    target = f"{base}.{node.module}" if node.module else base
                    # "from . import x" names modules; "from .m import f" names m
                    modules |= {f"{target}.{a.name}" for a in node.names} if not node.module else {target}
                else:
                    libraries.add(node.module.split(".")[0])
        found[name] = (libraries, modules)
    return found


def test_only_backend_modules_import_an_array_library():
    wrong = {name: sorted((libraries & LIBRARIES) - BACKENDS.get(name, set()))
             for name, (libraries, _) in _imports().items()}
    assert not {k: v for k, v in wrong.items() if v}, wrong


def test_no_import_cycle():
    """The package's modules import each other as a DAG, counting imports inside functions."""
    found = _imports()
    graph = {name: {m for m in modules if m in found and m != name} for name, (_, modules) in found.items()}
    done, path = set(), []

    def visit(name):
        if name in path:
            raise AssertionError("import cycle: " + " -> ".join(path[path.index(name):] + [name]))
        if name in done:
            return
        path.append(name)
        for other in sorted(graph[name]):
            visit(other)
        path.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)
    assert "agnostic_losses._primitives._dispatch" in graph and graph["agnostic_losses._primitives._dispatch"]


def test_backend_modules_import_only_the_leaves():
    """_dispatch finds the backend modules at run time (importlib), so no import statement shows that edge:
    a backend importing anything but the leaves would close a cycle this way."""
    found = _imports()
    leaves = {f"agnostic_losses._primitives.{m}" for m in ("_settings", "_pieces", "_torch_functions", "_torch_chunks")}
    for name in BACKENDS:
        if name.startswith("agnostic_losses._primitives."):
            assert found[name][1] <= leaves, (name, sorted(found[name][1] - leaves))
