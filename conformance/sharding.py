"""Every loss under jax.jit on batch-sharded inputs equals the one-device result.

    XLA_FLAGS=--xla_force_host_platform_device_count=8 python -m agnostic_losses.conformance.sharding

Run in its own process: the device count is fixed when JAX starts.  Each
representative case (conformance/transforms.py) is tiled to 4x its batch
along axis 0 of the arrays that share the first array's leading size, and
those arrays are sharded over all devices along that axis (the rest
replicated).  Prints one line per loss and exits 1 if any differs.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np


def main() -> int:
    import jax
    import jax.numpy as jnp
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    jax.config.update("jax_enable_x64", True)
    warnings.simplefilter("ignore")  # kl_div's 'mean' warning
    from . import runner, transforms

    devices = jax.devices()
    mesh = Mesh(np.array(devices), ("batch",))
    failed = 0
    for name, case in transforms.representative_cases().items():
        batch = next(iter(case.arrays.values())).shape[0]
        tiled = {k: np.concatenate([a] * 4) if a.ndim and a.shape[0] == batch else a for k, a in case.arrays.items()}
        spec = lambda a: PartitionSpec("batch") if a.ndim and a.shape[0] % len(devices) == 0 else PartitionSpec()
        placed = {k: jax.device_put(a, NamedSharding(mesh, spec(a))) for k, a in tiled.items()}
        fn = runner.loss_function("ours", case.loss, case.through)
        for options in transforms.with_reductions(case.options):
            sharded = jax.jit(lambda a: fn(**a, **options))(placed)
            single = fn(**{k: jnp.asarray(a) for k, a in tiled.items()}, **options)
            err = runner.error(np.asarray(sharded), np.asarray(single), "float64")
            shards = max(len(a.sharding.device_set) for a in placed.values())
            ok = err <= 1e-10 and shards == len(devices)
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name} {options.get('reduction', '')}: {shards} devices, "
                  f"error {err:.2g}")
    print(f"{len(devices)} devices; {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
