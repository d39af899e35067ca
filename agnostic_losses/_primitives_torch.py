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




class ElementwiseWithJvp(Elementwise):
    """``Elementwise`` with forward mode too (torch.func.jvp, jacfwd, hessian, forward_ad): outside
    torch.compile only, which refuses an ``autograd.Function`` that defines ``jvp``."""

    @staticmethod
    def setup_context(ctx, inputs, output):
        Elementwise.setup_context(ctx, inputs, output)
        ctx.save_for_forward(*inputs[2:])

    @staticmethod
    def jvp(ctx, _value, _derivatives, *tangents):
        """``sum(derivative * tangent)`` over the arrays that have a tangent."""
        arrays = ctx.saved_tensors
        wanted = tuple(t is not None for t in tangents)
        out = torch.zeros(torch.broadcast_shapes(*(a.shape for a in arrays)), dtype=arrays[0].dtype,
                          device=arrays[0].device)
        for g, t in zip(ctx.derivatives(wanted, *arrays), tangents):
            if g is not None and t is not None:
                out = out + g * t
        return out

_transforms_active = getattr(torch._C, "_are_functorch_transforms_active", None)
try:
    from torch._functorch.utils import unwrap_dead_wrappers as _unwrap_dead_wrappers
except ImportError:  # gone from a later torch: always the public path
    _unwrap_dead_wrappers = None


def apply(value, derivatives, *arrays):
    """``Elementwise.apply``, without its per-call ``inspect.signature`` (about 40 us) where no torch.func
    transform and no torch.compile is running: what ``Function.apply`` then does itself (it binds default
    arguments, and ``forward`` has none; it unwraps tensors that escaped a finished torch.func transform)
    before this same C++ ``apply``."""
    if compiling():
        return Elementwise.apply(value, derivatives, *arrays)
    if _transforms_active is None or _unwrap_dead_wrappers is None or _transforms_active():
        return ElementwiseWithJvp.apply(value, derivatives, *arrays)
    arrays = _unwrap_dead_wrappers(arrays)
    return super(torch.autograd.Function, ElementwiseWithJvp).apply(value, derivatives, *arrays)
