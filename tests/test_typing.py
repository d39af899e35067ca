"""The public API's type annotations: every public function is annotated in full and its annotations resolve
at run time, the classes made from tables are declared for type checkers, and ``mypy --strict`` accepts a
user's typed code (``tests/typing/public_api.py``) and infers its ``assert_type``s."""

from __future__ import annotations

import inspect
import subprocess
import sys
import typing
from pathlib import Path

import pytest

import agnostic_losses as al
import agnostic_losses.metrics
import agnostic_losses.nn
import agnostic_losses.primitives
from helpers import need

ROOT = Path(__file__).resolve().parents[1]


def _public_functions():
    modules = [al, agnostic_losses.metrics, agnostic_losses.primitives]
    seen = {}
    for module in modules:
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                seen[f"{module.__name__}.{name}"] = obj
    return seen


FUNCTIONS = _public_functions()


def test_the_public_functions_are_many():
    assert len(FUNCTIONS) >= 85  # 46 losses, 19 metrics, 20 primitives, loss and the two settings


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_parameter_and_the_return_are_annotated_and_resolve(name):
    fn = inspect.unwrap(FUNCTIONS[name])
    parameters = inspect.signature(fn).parameters
    missing = [p for p in parameters if parameters[p].annotation is inspect.Parameter.empty]
    assert not missing, f"{name}: no annotation on {missing}"
    assert inspect.signature(fn).return_annotation is not inspect.Signature.empty, f"{name}: no return annotation"
    hints = typing.get_type_hints(FUNCTIONS[name])  # a NameError: an annotation its module does not import
    assert set(hints) == {*parameters, "return"}


def test_the_made_classes_are_declared_for_type_checkers():
    nn = agnostic_losses.nn
    assert nn.__all__ == list(nn.TABLE)
    assert [k for k in nn.__annotations__ if k[0].isupper()] == nn.__all__
    need("torch")
    import agnostic_losses.torch as T

    made = {name for name in T.__all__ if name not in ("module", "LinearCrossEntropyLoss")}
    assert {k for k in T.__annotations__ if k[0].isupper()} == made
    for name in made:
        assert issubclass(getattr(T, name), T._Module)


@pytest.mark.slow
def test_mypy_strict_accepts_a_users_typed_code(tmp_path):
    need("mypy")
    for module in ("torch", "jax"):
        need(module)
    command = [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-incremental",
               "--cache-dir", str(tmp_path), "tests/typing/public_api.py"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Success: no issues found in 1 source file" in done.stdout
