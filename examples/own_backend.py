"""The conformance suite on a backend and device of your own.

    python examples/own_backend.py [loss ...]

The suite ships adapters for NumPy, array-api-strict, torch, JAX, Dask and
CuPy (``python -m agnostic_losses.conformance --backend torch --device cuda``).
For any other array library or device, write an adapter: a subclass of
``backends.Backend`` that turns the case's NumPy arrays into the library's
arrays on the device, and back.  The runner then judges every catalogue case
against torch.nn (or the loss's own reference library), as it does for the
shipped backends.

The stand-in here is array-api-strict's second device, ``device1``: a
library that refuses to mix devices, so the run also proves that no loss
creates an array on the default device behind the caller's back.  A library
with automatic differentiation sets ``differentiates = True`` and returns
gradients from ``evaluate`` (see the ``Torch`` and ``Jax`` adapters).
"""

from __future__ import annotations

import sys
from collections import Counter

import numpy as np

from agnostic_losses.conformance import backends, catalogue, runner


class StrictDevice1(backends.Backend):
    name = "strict-device1"
    module = "array_api_strict"  # what must be importable
    dtypes = ("float64", "float32")

    def __init__(self, device="device1"):
        super().__init__(device)

    def device_missing(self):
        return None  # array-api-strict always has device1

    @property
    def torch_device(self):
        return "cpu"  # torch's float32 result on its CPU sets the rounding a float32 case may have

    def asarray(self, a, dtype):
        import array_api_strict as xp

        return xp.asarray(a, dtype=getattr(xp, dtype), device=xp.Device(self.device))

    def to_numpy(self, x):
        import array_api_strict as xp

        if x.device != xp.Device(self.device):
            raise AssertionError(f"the output is on {x.device}, not on {self.device}")
        return np.from_dlpack(x.to_device(xp.Device("CPU_DEVICE")))


LOSSES = ["mse_loss", "cross_entropy", "binary_cross_entropy_with_logits", "ctc_loss", "dice_loss",
          "metrics.r2_score", "metrics.log_loss"]  # a sample; every name of catalogue.loss_names() works


def main(argv) -> int:
    backend = StrictDevice1()
    why = backend.unavailable()
    if why:
        print(f"{backend.name}: {why}")
        return 0
    losses = argv or LOSSES
    cases = catalogue.cases(losses, dtypes=("float64", "float32"))
    results = runner.run(cases, [backend])
    passed, total = Counter(), Counter()
    for r in results:
        total[r.loss] += 1
        passed[r.loss] += r.passed
    for loss in total:
        print(f"{loss:>34}: {passed[loss]} of {total[loss]} cases passed on {backend.name}")
    for r in results:
        if not r.passed:
            print("FAILED", r.case, r.message)
    print(f"{sum(passed.values())} of {sum(total.values())} cases passed")
    return 0 if results and all(r.passed for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
