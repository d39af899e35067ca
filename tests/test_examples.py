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
