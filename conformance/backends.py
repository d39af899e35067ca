"""One adapter per array library: make arrays, call a loss, take value and gradients.

The conformance suite (not the library) is where backends are named.  Every
adapter turns a case's float64/int64 NumPy arrays into its own arrays of the
case's dtype on its device, calls the loss and returns NumPy copies of the
value and, where the library differentiates, of the vector-Jacobian product
with a given cotangent for every differentiable array.  JAX returns two
variants, eager and ``jax.jit``.
"""

from __future__ import annotations

import functools
import importlib.util

import numpy as np

from agnostic_losses._primitives import using_generic

BACKENDS = ("numpy", "array_api_strict", "torch", "jax", "dask", "cupy")


def dtype_name(x) -> str:
    """'float32' for a float32 array of any library."""
    return str(x.dtype).rsplit(".", 1)[-1]


class Backend:
    name = ""
    module = ""  # what must be importable
    differentiates = False
    dtypes = ("float64", "float32", "float16")  # the floating dtypes it has

    def __init__(self, device="cpu"):
        self.device = device

    def unavailable(self) -> str | None:
        """Why this backend cannot run here, or None."""
        if importlib.util.find_spec(self.module) is None:
            return f"{self.module} is not installed"
        return self.device_missing()

    def device_missing(self) -> str | None:
        """Why the installed library has no ``self.device`` here, or None."""
        return None if self.device == "cpu" else f"{self.name} has no {self.device} device here"

    @property
    def torch_device(self) -> str:
        """Where torch's own result in the case's dtype is computed: its error there is the slack a case
        allows (an adapter for a device torch does not have names the nearest one torch has)."""
        return self.device

    def asarray(self, a: np.ndarray, dtype: str):
        raise NotImplementedError

    def to_numpy(self, x) -> np.ndarray:
        return np.asarray(x)

    def native(self, arrays, dtype, **kwargs):
        """The case's arrays as this library's: floating ones in ``dtype``, boolean ones (masks) bool, integer
        ones int64."""
        def kind(v):
            return dtype if np.issubdtype(v.dtype, np.floating) else "bool" if v.dtype == np.bool_ else "int64"

        return {k: self.asarray(v, kind(v), **kwargs.get(k, {})) for k, v in arrays.items()}

    def evaluate(self, fn, arrays, options, dtype, grads, cotangent):
        """``{variant: (value, {name: gradient}, output dtype name)}``, values as NumPy arrays.

        Gradients are the vector-Jacobian product of ``fn`` with ``cotangent``
        (an array of the output's shape) for each array named in ``grads``.
        """
        out = fn(**self.native(arrays, dtype), **options)
        return {"eager": (self.to_numpy(out), {}, dtype_name(out))}

    def __repr__(self):
        return f"{self.name}:{self.device}"


class NumPy(Backend):
    name = module = "numpy"

    def asarray(self, a, dtype):
        return np.asarray(a, dtype=dtype)


class ArrayAPIStrict(Backend):
    name = module = "array_api_strict"
    dtypes = ("float64", "float32")

    def asarray(self, a, dtype):
        import array_api_strict as xp

        return xp.asarray(a, dtype=getattr(xp, dtype))

    def to_numpy(self, x):
        return np.from_dlpack(x)


class Dask(Backend):
    name = module = "dask"

    def asarray(self, a, dtype):
        import dask.array as da

        chunks = tuple(max(1, (n + 1) // 2) for n in a.shape)  # several chunks per axis
        return da.from_array(np.asarray(a, dtype=dtype), chunks=chunks)

    def to_numpy(self, x):
        return np.asarray(x.compute())


class CuPy(Backend):
    name = module = "cupy"

    def __init__(self, device="cuda"):
        super().__init__("cuda" if device == "cpu" else device)

    def device_missing(self):
        import cupy

        try:
            cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # no driver, no device
            return f"cupy has no GPU here ({type(exc).__name__})"
        return None

    def asarray(self, a, dtype):
        import cupy

        return cupy.asarray(a, dtype=dtype)

    def to_numpy(self, x):
        import cupy

        return cupy.asnumpy(x)


class Torch(Backend):
    name = module = "torch"
    differentiates = True
    dtypes = ("float64", "float32", "float16", "bfloat16")

    def device_missing(self):
        import torch

        if self.device.startswith("cuda") and not torch.cuda.is_available():
            return "torch has no CUDA device here"
        return None

    def asarray(self, a, dtype, requires_grad=False):
        import torch

        return torch.tensor(a, dtype=getattr(torch, dtype), device=self.device,
                            requires_grad=requires_grad)

    def to_numpy(self, x):

        x = x.detach().cpu()
        return (x.double() if x.is_floating_point() else x).numpy()

    def evaluate(self, fn, arrays, options, dtype, grads, cotangent):
        import torch

        native = self.native(arrays, dtype, **{k: {"requires_grad": True} for k in grads})
        out = fn(**native, **options)
        inputs = [native[k] for k in grads]
        if inputs and out.requires_grad:
            cot = self.asarray(cotangent, dtype)
            got = torch.autograd.grad(out, inputs, cot, allow_unused=True)
        else:
            got = [None] * len(inputs)
        gradients = {k: np.zeros(arrays[k].shape) if g is None else self.to_numpy(g)
                     for k, g in zip(grads, got)}
        return {"eager": (self.to_numpy(out), gradients, dtype_name(out))}


class Jax(Backend):
    name = module = "jax"
    differentiates = True
    dtypes = ("float64", "float32", "float16", "bfloat16")

    def device_missing(self):
        import jax

        jax.config.update("jax_enable_x64", True)
        platform = "gpu" if self.device.startswith("cuda") else self.device
        try:
            jax.devices(platform)
        except RuntimeError:
            return f"jax has no {platform} device here"
        return None

    def asarray(self, a, dtype):
        import jax
        import jax.numpy as jnp

        platform = "gpu" if self.device.startswith("cuda") else self.device
        return jax.device_put(jnp.asarray(a, dtype=getattr(jnp, dtype)), jax.devices(platform)[0])

    evaluations = 0
    CLEAR_EVERY = 100

    def evaluate(self, fn, arrays, options, dtype, grads, cotangent):
        # XLA:CPU maps every compiled program's code into memory, and Linux allows a process 65530
        # maps (vm.max_map_count): a thousand cached programs (linear_cross_entropy's scans, jit and
        # eager) exhaust them and the process dies.  Drop them now and then (a few seconds of recompiling).
        Jax.evaluations += 1
        if Jax.evaluations % Jax.CLEAR_EVERY == 0:
            import jax

            _value_and_vjp.cache_clear()
            jax.clear_caches()
        native = self.native(arrays, dtype)
        diff = {k: native[k] for k in grads}
        fixed = {k: v for k, v in native.items() if k not in grads}
        cot = self.asarray(cotangent, dtype)
        results = {}
        for variant, jit in (("eager", False), ("jit", True)):
            out, g = _value_and_vjp(fn, tuple(options.items()), jit, using_generic())(diff, fixed, cot)
            results[variant] = (self.to_numpy(out), {k: self.to_numpy(v) for k, v in g.items()},
                                dtype_name(out))
        return results


@functools.lru_cache(maxsize=None)
def _value_and_vjp(fn, options, jit, generic):
    """``(diff, fixed, cot) -> (fn(...), vjp)`` with static ``options``; jitted once per options.

    ``generic`` is part of the key: a trace made with the native primitives
    must not be reused when the generic ones are forced.
    """
    import jax

    def value_and_vjp(diff, fixed, cot):
        out, vjp = jax.vjp(lambda d: fn(**d, **fixed, **dict(options)), diff)
        return out, vjp(cot)[0]

    return jax.jit(value_and_vjp) if jit else value_and_vjp


ADAPTERS = {"numpy": NumPy, "array_api_strict": ArrayAPIStrict, "torch": Torch,
            "jax": Jax, "dask": Dask, "cupy": CuPy}


def make(name: str, device: str = "cpu") -> Backend:
    if name not in ADAPTERS:
        raise ValueError(f"unknown backend {name!r}; known: {', '.join(BACKENDS)}")
    return ADAPTERS[name](device)
