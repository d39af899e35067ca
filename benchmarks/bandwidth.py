"""Memory bandwidth on CUDA: how close the elementwise losses' forward comes to a device-to-device copy."""

from __future__ import annotations

from table import BY_NAME
from timing import timed
from torch_calls import torch_sides, torch_sync

BANDWIDTH = ("l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy_with_logits",
             "soft_margin_loss")


def bandwidth(names, device="cuda", n=10**8):
    """Forward at ``n`` float32 elements: bytes the minimal algorithm moves (read every input, write a
    scalar) / time, as a fraction of torch.clone's (read + write n float32) measured in the same run."""
    import torch

    rows, sync = [], torch_sync(device)
    source = torch.randn(n, device=device)

    def clone():
        source.clone()
        sync()

    with torch.no_grad():
        for name in names:
            bench = BY_NAME[name]
            gen = torch.Generator(device=device).manual_seed(0)
            tensors = []
            for arr in bench.arrays:  # drawn on the device: n elements of the entry's kind
                if name == "soft_margin_loss" and arr == "target":
                    tensors.append(torch.randint(0, 2, (n,), device=device, generator=gen).float() * 2 - 1)
                elif arr == "target" and name == "binary_cross_entropy_with_logits":
                    tensors.append(torch.rand(n, device=device, generator=gen))
                else:
                    tensors.append(torch.randn(n, device=device, generator=gen))
            fns = torch_sides(bench, tensors, False, sync)
            fns["clone"] = clone
            t = timed(fns, "medium")  # milliseconds each on a GPU: up to 50 repeats
            moved = sum(x.numel() * x.element_size() for x in tensors) + 4
            copy_rate = 2 * n * 4 / t["clone"]
            rows.append({"loss": name, "elements": n, "bytes moved (minimal)": moved,
                         "ours ms": t["ours"] * 1e3, "peer ms": t["peer"] * 1e3, "clone ms": t["clone"] * 1e3,
                         "ours GB/s": moved / t["ours"] / 1e9, "clone GB/s": copy_rate / 1e9,
                         "ours / copy": moved / t["ours"] / copy_rate, "peer / copy": moved / t["peer"] / copy_rate})
            del tensors, fns
            if device == "cuda":
                torch.cuda.empty_cache()
    return rows
