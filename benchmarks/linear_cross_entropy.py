"""Time and peak memory of linear_cross_entropy (chunked) against the naive cross_entropy(input @ W.T).

    python benchmarks/linear_cross_entropy.py [--small] [--device cpu|cuda] [--repeats 5]

Forward and backward (gradients for input and W) of N tokens, in_features H,
a vocabulary of V classes, float32, mean reduction, on torch and on JAX
(jitted):

- ours: ``agnostic_losses.linear_cross_entropy`` with its default chunk size;
- naive: ``cross_entropy(input @ W.T, target)`` (torch's, and ours on JAX);
- torch chunked (torch only): ``torch.nn.functional.linear_cross_entropy``
  with ``options=LinearCrossEntropyOptions()``, torch 2.13's own fused path.

Time: the median of ``--repeats`` interleaved repeats (the variants take turns,
after one warm-up call each).  Peak memory of one step, each variant in a
fresh subprocess, after set-up (inputs made; torch: a step on 8 rows; JAX:
the program compiled): on the CPU the growth of the process's peak resident set
(VmHWM, which ``ru_maxrss`` reports, reset through ``/proc/self/clear_refs``
so that set-up and compilation do not count) over its resident set; on CUDA
the growth of the peak allocation (``torch.cuda.max_memory_allocated``, JAX's
``memory_stats()['peak_bytes_in_use']``).  On JAX also XLA's own account of
the compiled program's temporaries (``memory_analysis().temp_size_in_bytes``).

Writes ``benchmarks/results/linear_cross_entropy-<device>.{json,md}``
(``-small`` added with ``--small``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

from _common import RESULTS, compare, peak_rss_bytes, reset_peak_rss, rss_bytes, versions

SIZES = {"full": (8192, 1024, 32768), "small": (4096, 256, 8192)}  # N, H, V
VARIANTS = {"torch": ("ours", "naive", "torch chunked"), "jax": ("ours", "naive")}


def variants(framework):
    """The variants to run (torch before 2.13 has no chunked linear_cross_entropy of its own)."""
    if framework == "torch":
        import torch

        if not hasattr(torch.nn, "LinearCrossEntropyOptions"):
            return VARIANTS[framework][:2]
    return VARIANTS[framework]


# --- the variants ----------------------------------------------------------------

def torch_setup(n, h, v, device):
    import torch

    g = torch.Generator().manual_seed(0)
    x = (torch.randn(n, h, generator=g) / h ** 0.5).to(device).requires_grad_()
    w = torch.randn(v, h, generator=g).to(device).requires_grad_()
    y = torch.randint(0, v, (n,), generator=g).to(device)
    return x, w, y


def torch_step(variant):
    """``(x, w, y) -> (loss, dx, dw)``, forward and backward."""
    import torch

    import agnostic_losses as al

    F = torch.nn.functional
    loss = {
        "ours": lambda x, w, y: al.linear_cross_entropy(x, w, y),
        "naive": lambda x, w, y: F.cross_entropy(x @ w.T, y),
        "torch chunked": lambda x, w, y: F.linear_cross_entropy(x, w, y,
                                                                options=torch.nn.LinearCrossEntropyOptions()),
    }[variant]

    def step(x, w, y):
        out = loss(x, w, y)
        return (out, *torch.autograd.grad(out, (x, w)))

    return step


def jax_setup(n, h, v, device):
    import jax
    import jax.numpy as jnp

    dev = jax.devices("gpu" if device == "cuda" else "cpu")[0]
    kx, kw, ky = jax.random.split(jax.random.key(0), 3)
    x = jax.random.normal(kx, (n, h), jnp.float32) / h ** 0.5
    w = jax.random.normal(kw, (v, h), jnp.float32)
    y = jax.random.randint(ky, (n,), 0, v)
    return tuple(jax.device_put(a, dev) for a in (x, w, y))


def jax_step(variant, arrays):
    """The compiled ``(x, w, y) -> (loss, (dx, dw))`` and XLA's temporary bytes for it."""
    import jax

    import agnostic_losses as al

    loss = {"ours": lambda x, w, y: al.linear_cross_entropy(x, w, y),
            "naive": lambda x, w, y: al.cross_entropy(x @ w.T, y)}[variant]
    compiled = jax.jit(jax.value_and_grad(loss, argnums=(0, 1))).lower(*arrays).compile()
    return compiled, compiled.memory_analysis().temp_size_in_bytes


def _sync(framework, out, device):
    if framework == "jax":
        import jax

        jax.block_until_ready(out)
    elif device == "cuda":
        import torch

        torch.cuda.synchronize()


# --- peak memory: one variant in a fresh process -------------------------------------

def child(framework, variant, size, device) -> dict:
    """Peak memory of one forward+backward of ``variant`` over the set-up (run in its own process).

    torch first takes a step on 8 rows (autograd's and the BLAS's one-time set-up); JAX's compilation
    set its runtime up.  A full-size warm-up step would not do: XLA:CPU keeps the buffers of a run for
    the next, so a second run's peak does not show above the RSS.
    """
    n, h, v = SIZES[size]
    out = {}
    if framework == "torch":
        import torch

        arrays = torch_setup(n, h, v, device)
        step = torch_step(variant)
    else:
        arrays = jax_setup(n, h, v, device)
        step, out["xla_temp_bytes"] = jax_step(variant, arrays)
    if framework == "torch":
        x, w, y = arrays
        _sync(framework, step(x[:8], w, y[:8]), device)
    if device == "cpu":
        base = rss_bytes()
        reset_peak_rss()
    elif framework == "torch":
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        stats = arrays[0].devices().pop().memory_stats
        base = stats()["bytes_in_use"]
    _sync(framework, step(*arrays), device)
    if device == "cpu":
        out["peak_bytes"] = peak_rss_bytes() - base
    elif framework == "torch":
        out["peak_bytes"] = torch.cuda.max_memory_allocated() - base
    else:  # the peak since the process began: set-up's allocations stay, compilation's are on the host
        out["peak_bytes"] = stats()["peak_bytes_in_use"] - base
    return out


def peak_memory(framework, variant, size, device) -> dict:
    cmd = [sys.executable, __file__, "--child", f"{framework}:{variant}", "--size", size, "--device", device]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- time: interleaved repeats in this process ---------------------------------------------

def times(framework, size, device, repeats) -> dict:
    n, h, v = SIZES[size]
    if framework == "torch":
        arrays = torch_setup(n, h, v, device)
        steps = {name: torch_step(name) for name in variants(framework)}
    else:
        arrays = jax_setup(n, h, v, device)
        steps = {name: jax_step(name, arrays)[0] for name in variants(framework)}
    calls = {name: lambda step=step: _sync(framework, step(*arrays), device) for name, step in steps.items()}
    return compare(calls, repeats=repeats, warmup=1)


# --- report ------------------------------------------------------------------------------

def _versions() -> dict:
    return {"python": platform.python_version(), "agnostic_losses": __import__("agnostic_losses").__version__,
            **versions(("torch", "jax", "jaxlib", "numpy", "array-api-compat"))}


def _machine(device) -> dict:
    m = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
         "cpu_cores": os.cpu_count()}
    try:
        with open("/proc/meminfo") as f:
            m["memory_gib"] = round(int(f.readline().split()[1]) / 2 ** 20, 1)
    except OSError:
        pass
    if device == "cuda":
        import torch

        m["gpu"] = torch.cuda.get_device_name()
    return m


def _mib(b):
    return "-" if b is None else f"{b / 2 ** 20:,.0f}"


def markdown(report) -> str:
    n, h, v = report["size"]["N"], report["size"]["H"], report["size"]["V"]
    lines = [f"# linear_cross_entropy: forward + backward, {report['device']}",
             "",
             f"N = {n} tokens, H = {h}, V = {v}, float32, reduction 'mean', gradients for input and W; "
             f"ours with its default chunk ({report['chunk_rows']} rows). "
             f"The full logits are {_mib(n * v * 4)} MiB.",
             "",
             f"{report['date']}; {report['machine']}; {report['versions']}.",
             "",
             f"Time: median of {report['repeats']} interleaved repeats. Peak: {report['peak_measure']}. "
             "XLA temp: the compiled program's temporaries (memory_analysis).",
             "",
             "| framework | variant | time (s) | time / naive | peak (MiB) | peak / naive | XLA temp (MiB) |",
             "|---|---|---|---|---|---|---|"]
    for r in report["rows"]:
        lines.append(f"| {r['framework']} | {r['variant']} | {r['seconds']:.3f} | {r['time_ratio']:.2f} | "
                     f"{_mib(r['peak_bytes'])} | {r['peak_ratio']:.3f} | "
                     f"{_mib(r.get('xla_temp_bytes'))} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--small", action="store_true", help=f"N, H, V = {SIZES['small']} (a quick run)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--framework", default="torch,jax", help="comma-separated: torch, jax")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--size", default="full", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        framework, variant = args.child.split(":")
        print(json.dumps(child(framework, variant, args.size, args.device)))
        return 0

    size = "small" if args.small else "full"
    n, h, v = SIZES[size]
    from agnostic_losses.linear import default_chunk_rows

    rows = []
    for framework in args.framework.split(","):
        print(f"{framework}: timing ...", file=sys.stderr)
        seconds = times(framework, size, args.device, args.repeats)
        for variant in variants(framework):
            print(f"{framework}: peak memory of {variant} ...", file=sys.stderr)
            rows.append({"framework": framework, "variant": variant, "seconds": seconds[variant],
                         **peak_memory(framework, variant, size, args.device)})
    for r in rows:
        naive = next(q for q in rows if q["framework"] == r["framework"] and q["variant"] == "naive")
        r["time_ratio"] = r["seconds"] / naive["seconds"]
        r["peak_ratio"] = r["peak_bytes"] / naive["peak_bytes"]
    cpu = args.device == "cpu"
    report = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "device": args.device, "size": {"N": n, "H": h, "V": v}, "dtype": "float32",
        "chunk_rows": default_chunk_rows(v, h), "repeats": args.repeats,
        "peak_measure": ("growth of the process's peak RSS (VmHWM, what ru_maxrss reports, reset through "
                         "/proc/self/clear_refs) during one step over its RSS after set-up (inputs made; torch: a "
                         "step on 8 rows; JAX: compiled), each variant in a fresh process" if cpu else
                         "growth of the peak device allocation (torch.cuda.max_memory_allocated; JAX: the device's "
                         "memory_stats()['peak_bytes_in_use']) during one step over the allocation after set-up, "
                         "each variant in a fresh process"),
        "machine": _machine(args.device), "versions": _versions(), "rows": rows,
    }
    text = markdown(report)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"linear_cross_entropy-{args.device}{'-small' if args.small else ''}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    stem.with_suffix(".md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
