"""Shared by the benchmark scripts: side-by-side timing, peak memory, the environment, the result files.

Timings are medians of interleaved repeats (ours, peer, ours, peer, ...), so a
slow moment of the machine hits both; ratios are ours / peer from the same run.
Benchmarks are not tests: nothing asserts a time.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import time
from pathlib import Path

from conformance.report import installed_versions

RESULTS = Path(__file__).parent / "results"


def compare(fns: dict, repeats: int = 15, warmup: int = 2) -> dict:
    """Median seconds per call of each function in ``fns`` (each blocks until its result is ready)."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def _status_bytes(key: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key + ":"))


def rss_bytes() -> int:
    """This process's resident set (Linux)."""
    return _status_bytes("VmRSS")


def peak_rss_bytes() -> int:
    """This process's peak resident set since it began or since ``reset_peak_rss`` (Linux)."""
    return _status_bytes("VmHWM")


def reset_peak_rss() -> None:
    """Reset the kernel's record of this process's peak RSS (VmHWM, what ru_maxrss reports); Linux >= 4.0."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def cuda_peak_growth(call) -> int:
    """Bytes torch's CUDA allocator holds at the peak of ``call`` above what it held before."""
    import torch

    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    call()
    return torch.cuda.max_memory_allocated() - base


def versions(names=("numpy", "torch", "jax", "jaxlib", "optax", "cupy-cuda12x", "cupy-cuda13x",
                    "array-api-compat")) -> dict:
    """The installed versions of the packages ``names`` (those not installed left out)."""
    return installed_versions(names)


def environment(device: str = "cpu") -> dict:
    env = {"date": datetime.date.today().isoformat(), "python": platform.python_version(),
           "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores",
           "device": device, "versions": versions()}
    if device != "cpu":
        import torch

        env["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return env


def write(name: str, env: dict, rows: list[dict], columns: list[str], notes: str = "", extra: dict | None = None) -> str:
    """Write ``benchmarks/results/<name>.json`` (with ``extra``'s keys beside the rows) and ``.md``; returns the
    Markdown text."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps({"environment": env, "rows": rows, **(extra or {})}, indent=1))
    v = env["versions"]
    head = (f"{env['date']}, {env['machine']}{', ' + env['gpu'] if env.get('gpu') else ''}, device {env['device']}; "
            + ", ".join(f"{k} {val}" for k, val in v.items()) + ".")
    fmt = lambda x: f"{x:.3g}" if isinstance(x, float) else str(x)
    table = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    table += ["| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
    text = "\n".join([head, "", *table, *([""] + [notes] if notes else [])]) + "\n"
    (RESULTS / f"{name}.md").write_text(text)
    return text
