"""The ``torch.autograd.Function`` behind ``_primitives.elementwise``: part of the primitives layer,
in a module of its own because torch.compile can import a module but not trace a class definition.
Imported only when torch is in use."""

from __future__ import annotations

import torch

from ._primitives import _torch_func_transform, compiling


class Elementwise(torch.autograd.Function):
    generate_vmap_rule = True  # torch.func.vmap runs forward and backward batched

    @staticmethod
    def forward(value, derivatives, *arrays):
        return value(*arrays)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.derivatives = inputs[1]
        ctx.save_for_backward(*inputs[2:])

    @staticmethod
    def backward(ctx, upstream):
        arrays = ctx.saved_tensors
        # The derivatives are fresh arrays that can take the upstream gradient in place, unless
        # a graph of this backward is recorded (double backward) or a transform wraps them.
        in_place = not torch.is_grad_enabled() and not compiling() and not _torch_func_transform()
        grads, seen = [None, None], set()
        wanted = ctx.needs_input_grad[2:]
        for x, g, w in zip(arrays, ctx.derivatives(wanted, *arrays), wanted):
            if g is None or not w:
                grads.append(None)
                continue
            fresh = (in_place and g._base is None and id(g) not in seen and g.dtype == upstream.dtype
                     and g.shape == upstream.shape and all(g is not a for a in arrays))
            seen.add(id(g))
            g = g.mul_(upstream) if fresh else g * upstream
            grads.append(g if g.shape == x.shape else g.sum_to_size(x.shape))
        return tuple(grads)



_transforms_active = getattr(torch._C, "_are_functorch_transforms_active", None)


def apply(value, derivatives, *arrays):
    """``Elementwise.apply``, without its per-call ``inspect.signature`` (about 40 us) where no torch.func
    transform and no torch.compile is running: ``Function.apply`` binds default arguments (``forward``
    has none) and then calls this same C++ ``apply``."""
    if _transforms_active is None or _transforms_active() or compiling():
        return Elementwise.apply(value, derivatives, *arrays)
    return super(torch.autograd.Function, Elementwise).apply(value, derivatives, *arrays)
