"""Every loss under every transform (conformance/transforms.py), across devices, and the
arrays-on-two-devices error.

A transform that does not apply is skipped with its reason: torch has no
double backward for the loss, the library is not installed, no GPU.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import transforms as T

from helpers import need

CASES = T.representative_cases()


@pytest.mark.parametrize("transform", list(T.TRANSFORMS))
@pytest.mark.parametrize("name", list(CASES))
def test_loss_under_transform(name, transform):
    status, detail = T.check(transform, CASES[name])
    if status == "n/a":
        pytest.skip(detail)
    assert status == "pass", detail


def test_every_loss_sharded_over_eight_jax_devices():
    """jax.jit on batch-sharded inputs over 8 host CPU devices gives the one-device result."""
    need("jax")
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8", "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "conformance.sharding"], env=env, cwd=root,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "8 devices; 0 failed" in done.stdout
    assert done.stdout.count("ok ") >= len(CASES)


def test_arrays_on_two_devices_are_refused_clearly():
    torch = need("torch")
    import agnostic_losses as al

    with pytest.raises(ValueError, match="mse_loss: all arrays must be on one device, got input on cpu, target on meta"):
        al.mse_loss(torch.ones(3), torch.ones(3, device="meta"))
    if torch.cuda.is_available():
        with pytest.raises(ValueError, match="cross_entropy: all arrays must be on one device"):
            al.cross_entropy(torch.ones(2, 3, device="cuda"), torch.zeros(2, dtype=torch.long))


def test_outputs_stay_on_the_inputs_device():
    torch = need("torch")
    import agnostic_losses as al

    devices = ["meta"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        x = torch.ones(4, 5, device=device)
        assert al.cross_entropy(x, torch.zeros(4, dtype=torch.long, device=device)).device.type == device
        assert al.ctc_loss(x[:, None].log_softmax(-1), torch.ones(1, 2, dtype=torch.long, device=device),
                           (4,), (2,)).device.type == device
