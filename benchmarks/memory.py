"""The memory column: the peak memory of one forward+backward, ours / torch.nn.functional.

On the CPU each measurement runs in a fresh process (``suite.py --memory-worker``), so that neither side's
allocations, nor the allocator's cached blocks, are counted in the other's peak.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

from _common import cuda_peak_growth, peak_rss_bytes, reset_peak_rss, rss_bytes
from data import make_arrays
from table import BY_NAME
from torch_calls import torch_sides, torch_sync, torch_tensors

HERE = Path(__file__).resolve().parent


def memory_worker(name, size, side, device, arrays=None):
    """The growth of peak memory over the set-up in one forward + backward (on the CPU: in a fresh process)."""
    bench = BY_NAME[name]
    tensors = torch_tensors(bench, make_arrays(bench, size) if arrays is None else arrays, device)
    call = torch_sides(bench, tensors, True, torch_sync(device))[side]
    call()  # warm-up: one-time allocations of the libraries go into the baseline
    gc.collect()
    if device == "cuda":
        grown, method = cuda_peak_growth(call), "torch.cuda.max_memory_allocated"
    else:
        try:  # Linux: reset the peak RSS (VmHWM) after the set-up and the warm-up
            reset_peak_rss()
            base = rss_bytes()
            call()
            grown, method = peak_rss_bytes() - base, "VmHWM reset after set-up and warm-up"
        except OSError:
            import resource

            base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            call()
            scale = 1 if sys.platform == "darwin" else 1024
            grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * scale
            method = "ru_maxrss growth (includes the warm-up's peak)"
    return {"bytes": int(grown), "method": method}


def column_memory(bench, arrays, size, device, results):
    if size == "small":
        return  # a few bytes: below the resolution of the RSS (pages) and of the CUDA allocator's blocks
    out = {}
    for side in ("ours", "peer"):
        if device == "cuda":  # exact and cheap in-process: the peak is of torch's allocations
            out[side] = memory_worker(bench.name, size, side, device, arrays)
            gc.collect()
            import torch

            torch.cuda.empty_cache()
            continue
        env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536",  # freed blocks go back to the OS at once
               "PYTHONPATH": os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")])}
        proc = subprocess.run([sys.executable, str(HERE / "suite.py"), "--memory-worker", bench.name, size, side,
                               device], capture_output=True, text=True, env=env, timeout=600, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"memory worker ({side}) failed: {proc.stderr.strip().splitlines()[-1:]}")
        out[side] = json.loads(proc.stdout.strip().splitlines()[-1])
    results["forward+backward"].update({
        "memory ours MB": out["ours"]["bytes"] / 2**20, "memory peer MB": out["peer"]["bytes"] / 2**20,
        "memory": out["ours"]["bytes"] / max(out["peer"]["bytes"], 1), "memory method": out["ours"]["method"]})
