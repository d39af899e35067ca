"""``import agnostic_losses`` needs only NumPy and array-api-compat, and imports no framework."""

from __future__ import annotations

import subprocess
import sys
import textwrap

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
