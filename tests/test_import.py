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
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in {FRAMEWORKS!r})
        assert not loaded, loaded
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
