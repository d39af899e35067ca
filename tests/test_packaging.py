"""The package a user installs: the wheel and sdist build and pass ``twine check``, the wheel holds the
library, its ``py.typed`` and the suite as ``agnostic_losses.conformance`` (no top-level ``conformance``),
and installed into a fresh virtual environment with only NumPy it imports and runs a loss and the
framework-neutral metrics example."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from helpers import need

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run(args, cwd, timeout=900):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, args))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    need("build")
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", out, ROOT], cwd=out)  # the sdist, then the wheel from it
    return out


def test_wheel_and_sdist_pass_twine_check(dist):
    need("twine")
    files = sorted(dist.iterdir())
    assert sorted(f.suffix for f in files) == [".gz", ".whl"], files
    out = _run([sys.executable, "-m", "twine", "check", "--strict", *files], cwd=dist)
    assert out.count("PASSED") == 2, out


def test_wheel_installs_the_suite_under_the_library(dist):
    (wheel,) = dist.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"agnostic_losses", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}, tops
    for required in ("agnostic_losses/py.typed", "agnostic_losses/conformance/__main__.py",
                     "agnostic_losses/conformance/catalogue.py", "agnostic_losses/_primitives/_torch.py"):
        assert required in names, required
    assert any(n.endswith("licenses/LICENSE") for n in names), names


def test_wheel_in_a_fresh_venv_with_only_numpy(dist, tmp_path):
    (wheel,) = dist.glob("*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=tmp_path)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    _run([python, "-m", "pip", "install", "-q", wheel], cwd=tmp_path)
    installed = _run([python, "-m", "pip", "list", "--format=freeze"], cwd=tmp_path)
    assert {line.split("==")[0].lower() for line in installed.split()} <= {
        "agnostic-losses", "array-api-compat", "numpy", "pip", "setuptools"}, installed
    out = _run([python, "-c", "import sys, numpy as np, agnostic_losses as al; "
                "print(float(al.huber_loss(np.array([0.5, 2.0, -1.0]), np.zeros(3))), al.__file__, "
                "sorted(m for m in ('torch', 'jax', 'conformance') if m in sys.modules))"], cwd=tmp_path)
    value, path, imported = out.split(None, 2)
    assert abs(float(value) - 0.7083333333333334) <= 1e-15 and str(venv) in path and imported.strip() == "[]", out
    assert "ok (agnostic_losses" in _run([python, ROOT / "examples" / "numpy_metrics.py"], cwd=tmp_path)
    usage = subprocess.run([python, "-m", "agnostic_losses.conformance", "--backend", "numpy"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)
    assert usage.returncode == 2 and "python -m agnostic_losses.conformance: error: torch is the reference" in usage.stderr, (
        usage.stderr)
