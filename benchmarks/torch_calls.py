"""Ours and torch.nn.functional's loss as the torch columns, the memory worker and gpu_profile.py call them."""

from __future__ import annotations

from peers import torch_peer
from table import ours_fn


def torch_tensors(bench, arrays, device):
    import torch

    out = []
    for name, a in arrays.items():
        t = torch.from_numpy(a) if device == "cpu" else torch.as_tensor(a, device=device)
        out.append(t.requires_grad_() if name in bench.grads else t)
    return out


def torch_loss(fn, bench):
    through = bench.index(bench.through)

    def loss(*a):
        return fn(*[x.log_softmax(-1) if i in through else x for i, x in enumerate(a)], **bench.options)

    return loss


def torch_call(loss, tensors, bench, backward, sync):
    import torch

    leaves = [tensors[i] for i in bench.index(bench.grads)]
    if backward:
        def call():
            torch.autograd.grad(loss(*tensors), leaves, allow_unused=True)
            sync()
    else:
        def call():
            loss(*tensors)
            sync()
    return call


def sides(bench):
    """(("ours", function), ("peer", function)): the two functions every torch measurement sets side by side."""
    return ("ours", ours_fn(bench)), ("peer", torch_peer(bench))


def torch_sides(bench, tensors, backward, sync):
    """{"ours": call, "peer": call}: one forward (and backward) of each side on ``tensors``."""
    return {side: torch_call(torch_loss(fn, bench), tensors, bench, backward, sync) for side, fn in sides(bench)}


def torch_sync(device):
    import torch

    return torch.cuda.synchronize if device == "cuda" else (lambda: None)
