"""Where a loss's time goes on a GPU: one forward+backward call of ours and of torch.nn.functional's under
torch.profiler, as the number of CUDA kernels launched (the device's activities: kernels, and the memsets and
copies among them), their summed device time, and the call's wall time.

    python benchmarks/gpu_profile.py [--loss a,b] [--size large] [--variant module.NAME=v1,v2,...] [--name N]

Wall time far above the kernels' time means the call is bound by the host (Python, dispatch, launches);
kernel time far above the peer's, with many kernels, means more passes over the data than torch's fused
kernel.  With ``--device cpu`` (no GPU lent) it counts what a GPU call would launch: the aten operations that
compute (those with no aten operation inside them, less views and allocations) as "kernels", with their
summed CPU time, and the host synchronisations (``.item()``, ``.tolist()``: ``_local_scalar_dense``) as
"syncs"; the wall time of a small size is then the host's time per call, which bounds a GPU call from below.  ``--variant`` re-times the losses with a module constant set to each value in turn (for instance
``agnostic_losses.margin.HINGES_PER_CHUNK_ELSEWHERE=16384,262144``), with the peak memory of
forward+backward (``torch.cuda.max_memory_allocated`` over the inputs) beside torch's.  Prints a row per
measurement and writes benchmarks/results/<N>.json (default gpu-profile-<device>).  Benchmarks are not tests: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import RESULTS, cuda_peak_growth, environment  # noqa: E402
from data import make_arrays  # noqa: E402
from table import BENCHES, BY_NAME, SIZES  # noqa: E402
from timing import timed  # noqa: E402
from torch_calls import torch_sides, torch_sync, torch_tensors  # noqa: E402


# aten operations that launch no kernel on a GPU: views, allocations, metadata
NO_KERNEL = {"aten::empty", "aten::empty_strided", "aten::empty_like", "aten::view", "aten::_unsafe_view",
             "aten::reshape", "aten::as_strided", "aten::expand", "aten::slice", "aten::select", "aten::unsqueeze",
             "aten::squeeze", "aten::t", "aten::transpose", "aten::permute", "aten::detach", "aten::alias",
             "aten::lift_fresh", "aten::resolve_conj", "aten::resolve_neg", "aten::_reshape_alias",
             "aten::unbind", "aten::split", "aten::chunk", "aten::narrow", "aten::result_type",
             "aten::_local_scalar_dense", "aten::item"}


def kernels(call, device):
    """(kernels launched, their summed time in ms, host synchronisations) for one ``call``; on the CPU the
    computing aten operations stand for the kernels a GPU would launch."""
    events = profiled(call, device)
    launched = computing(events, device)
    return len(launched), sum(e.time_range.elapsed_us() for e in launched) / 1e3, syncs(events)


def profiled(call, device):
    """The profiler's events of one ``call``."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    with profile(activities=activities) as prof:
        call()
    return prof.events()


def computing(events, device):
    """The events of the kernels launched: CUDA kernels, or on the CPU the aten operations with no aten operation
    inside them, less views and allocations."""
    import torch

    if device == "cuda":
        return [e for e in events if e.device_type == torch.autograd.DeviceType.CUDA]
    return [e for e in events if e.name.startswith("aten::") and e.name not in NO_KERNEL
            and not any(c.name.startswith("aten::") for c in e.cpu_children)]


def syncs(events) -> int:
    """The host synchronisations among ``events`` (``.item()``, ``.tolist()``)."""
    return sum(e.name == "aten::_local_scalar_dense" for e in events)


def measure(bench, size, device):
    import torch

    tensors = torch_tensors(bench, make_arrays(bench, size), device)
    fns = torch_sides(bench, tensors, True, torch_sync(device))
    t = timed(fns, size)
    row = {"loss": bench.name, "size": size}
    for side, call in fns.items():
        n, ms, n_syncs = kernels(call, device)
        row.update({f"{side} kernels": n, f"{side} kernel ms": ms, f"{side} syncs": n_syncs,
                    f"{side} wall ms": t[side] * 1e3,
                    f"{side} peak MiB": cuda_peak_growth(call) / 2**20 if device == "cuda" else None})
    row["wall ratio"] = t["ours"] / t["peer"]
    torch.cuda.empty_cache() if device == "cuda" else None
    return row


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--loss", default="", help="comma-separated entries (default: all)")
    p.add_argument("--size", default="large", choices=SIZES)
    p.add_argument("--device", default="cuda", choices=("cpu", "cuda"))
    p.add_argument("--variant", action="append", default=[], help="module.NAME=v1,v2,...: re-time with each value")
    p.add_argument("--name", default="", help="result file name (default gpu-profile-<device>)")
    args = p.parse_args(argv)
    wanted = [n for n in args.loss.split(",") if n]
    chosen = [b for b in BENCHES if not wanted or b.name in wanted or b.fn in wanted]
    if not chosen:
        p.error(f"unknown loss {wanted}; known: {', '.join(BY_NAME)}")
    settings = [("", None, None)]
    for v in args.variant:
        target, values = v.split("=")
        module, name = target.rsplit(".", 1)
        settings += [(f"{name}={value}", importlib.import_module(module), (name, int(value)))
                     for value in values.split(",")]
    rows = []
    for label, module, change in settings:
        old = getattr(module, change[0]) if module else None
        if module:
            setattr(module, *change)
        try:
            for bench in chosen:
                row = {"setting": label or "as shipped", **measure(bench, args.size, args.device)}
                rows.append(row)
                print(" | ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()),
                      flush=True)
        finally:
            if module:
                setattr(module, change[0], old)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name or 'gpu-profile-' + args.device}.json").write_text(
        json.dumps({"environment": environment(args.device), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
