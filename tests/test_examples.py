"""The examples run as a user runs them, and say what they claim."""

from __future__ import annotations

import pathlib
import subprocess
import sys

from helpers import need

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def test_custom_loss_example_checks_its_losses_on_every_installed_backend():
    need("torch")
    done = subprocess.run([sys.executable, str(EXAMPLES / "custom_loss.py")], capture_output=True, text=True,
                          cwd=EXAMPLES.parent, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    torch_line = next(line for line in lines if line.startswith("torch "))
    jax_line = next((line for line in lines if line.startswith("JAX ")), None)
    if jax_line is not None:  # the same loss and gradient on both sides
        assert torch_line.split(None, 1)[1] == jax_line.split(None, 1)[1]
    for name in ("mape", "pinball"):
        report = next(line for line in lines if line.startswith(f"{name}: "))
        passed, total = report.split(" cases passed")[0].split(": ")[1].split(" of ")
        assert passed == total and int(total) > 0, report


def _run(script, *args):
    done = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True,
                          cwd=EXAMPLES.parent, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_mixed_jax_torch_example_trains_one_step_identically_on_both_sides():
    need("torch")
    need("jax")
    out = _run("mixed_jax_torch.py")
    assert "identical to float64 rounding" in out, out


def test_numpy_metrics_example_imports_no_framework_and_equals_scikit_learn():
    need("sklearn")
    out = _run("numpy_metrics.py")
    assert "frameworks imported by `import agnostic_losses`: none" in out, out
    assert "largest relative difference from scikit-learn" in out and out.rstrip().splitlines()[-1].startswith("ok"), out


def test_own_backend_example_passes_the_catalogue_on_a_second_device():
    need("torch")
    need("array_api_strict")
    out = _run("own_backend.py")
    assert "cases passed on strict-device1" in out and "FAILED" not in out, out
