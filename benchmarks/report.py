"""The suite's report: a line per row as it is measured, the table, the notes and the summary against the
project's targets, printed and written to benchmarks/results/."""

from __future__ import annotations

import os
import statistics

from _common import write
from table import BELOW_1E5, INPUT_GRAD, SIZES

DYNAMIC_PROGRAMS = ("ctc_loss", "linear_cross_entropy")  # their targets below 1e5 elements are 4x, not 2.5x
EVERY_LOSS = {"below 1e5": 2.5, "dynamic programs below 1e5": 4.0, "from 1e5": 1.2}  # torch eager, ours / torch
# the transforms' targets, each loss's: jax.jit against optax's loss, compiled ours against torch.nn.functional eager
# (from 1e5 elements), the peak memory of forward+backward against torch.nn.functional's
TRANSFORMS = {"jax": 1.05, "compiled/eager": 1.0, "memory": 1.2}


def transform_limits(row):
    """{column: its target} of the transforms' columns that have a target for ``row``: jax.jit where the peer is
    optax's loss (not a jnp formula), compiled/eager from 1e5 elements, memory (not measured at the small size)."""
    out = {"memory": TRANSFORMS["memory"]}
    if not str(row.get("jax peer", "jnp")).startswith("jnp"):
        out["jax"] = TRANSFORMS["jax"]
    if row["size"] not in BELOW_1E5:
        out["compiled/eager"] = TRANSFORMS["compiled/eager"]
    return out


def limit(row):
    """The torch eager target of each loss for ``row`` (issue 26): forward+backward from 1e5 elements up;
    below, forward+backward (the dynamic programs' own) and forward; None where no per-loss target applies."""
    if row["size"] not in BELOW_1E5:
        return None if row["pass"] == "forward" else EVERY_LOSS["from 1e5"]
    if row["pass"] != "forward" and row["loss"] in DYNAMIC_PROGRAMS:
        return EVERY_LOSS["dynamic programs below 1e5"]
    return EVERY_LOSS["below 1e5"]


def fmt(x, digits=3):
    return f"{x:.{digits}g}" if isinstance(x, float) else ("" if x is None else str(x))


def line(row):
    keys = ("torch ours ms", "torch peer ms", "torch", "compile", "compiled/eager", "jax", "numpy", "memory")
    cells = "  ".join(f"{k} {fmt(row[k])}" for k in keys if k in row)
    return f"  {row['loss']:34s} {row['size']:6s} {row['pass']:16s} {cells}"


def _worst(rows, key):
    rows = [r for r in rows if isinstance(r.get(key), float)]
    return max(rows, key=lambda r: r[key]) if rows else None


def summary(rows, imports=None):
    """The project's targets (issue 26's at every size of the sweep), each with the measured figure, whether it
    holds and the worst loss; ``imports``: ``import_time()``'s."""
    out = []

    def target(label, value, bound, worst=None, op="<="):
        if value is None:
            out.append({"target": label, "value": None, "holds": None, "text": f"{label}: not measured"})
            return
        holds = value <= bound
        where = f" (worst: {worst['loss']} {worst['size']} {worst['pass']})" if worst else ""
        out.append({"target": label, "value": value, "limit": bound, "holds": holds,
                    "text": f"[{'holds' if holds else 'FAILS'}] {label}: {value:.3g} (target {op} {bound}){where}"})

    def torch_rows(size, passes):
        return [r for r in rows if r["size"] == size and r["pass"] in passes and isinstance(r.get("torch"), float)]

    def median(chosen):
        return statistics.median(r["torch"] for r in chosen) if chosen else None

    backward = ("forward+backward", INPUT_GRAD)
    for size in SIZES:  # from 1e5 elements up: throughput; below: the cost of a call
        chosen = torch_rows(size, backward)
        if not chosen:
            continue
        if size not in BELOW_1E5:
            w = _worst(chosen, "torch")
            target(f"torch eager, {size}, forward+backward: max ours/torch", w["torch"], limit(w), w)
            target(f"torch eager, {size}, forward+backward: median ours/torch", median(chosen), 1.0)
            continue
        target(f"torch eager, {size}, forward+backward: median ours/torch", median(chosen), 1.5)
        for label, picked in (("", [r for r in chosen if r["loss"] not in DYNAMIC_PROGRAMS]),
                              (" (dynamic programs)", [r for r in chosen if r["loss"] in DYNAMIC_PROGRAMS])):
            w = _worst(picked, "torch")
            if w:
                target(f"torch eager, {size}, forward+backward: max ours/torch{label}", w["torch"], limit(w), w)
        chosen = torch_rows(size, ("forward",))
        w = _worst(chosen, "torch")
        target(f"torch eager, {size}, forward (no_grad): median ours/torch", median(chosen), 1.3)
        target(f"torch eager, {size}, forward (no_grad): max ours/torch", w and w["torch"], w and limit(w), w)
    w = _worst([r for r in rows if not str(r.get("jax peer", "jnp")).startswith("jnp")], "jax")
    target("jax.jit vs optax: max ours/optax", w and w["jax"], TRANSFORMS["jax"], w)
    w = _worst([r for r in rows if str(r.get("jax peer", "")).startswith("jnp")], "jax")
    if w:
        out.append({"target": "jax.jit vs jnp formula (no target)", "value": w["jax"], "holds": None,
                    "text": f"[info] jax.jit vs jnp formula: max ours/formula {w['jax']:.3g} "
                            f"(worst: {w['loss']} {w['size']} {w['pass']})"})
    w = _worst([r for r in rows if r["size"] not in BELOW_1E5], "compiled/eager")
    target("ours compiled / torch.nn.functional eager, max (from 1e5 elements)", w and w["compiled/eager"],
           TRANSFORMS["compiled/eager"], w)
    w = _worst([r for r in rows if r["size"] in BELOW_1E5], "compiled/eager")
    if w:
        out.append({"target": "ours compiled / torch eager, small (no target)", "value": w["compiled/eager"],
                    "holds": None, "text": f"[info] ours compiled / torch eager, below 1e5 elements: max "
                                           f"{w['compiled/eager']:.3g} (worst: {w['loss']} {w['size']} {w['pass']})"})
    w = _worst(rows, "memory")
    target("peak memory of forward+backward: max ours/torch", w and w["memory"], TRANSFORMS["memory"], w)
    if imports:
        target("import agnostic_losses, cold, ms (median of fresh processes, with bytecode)", imports["ms"], 50.0)
        out.append({"target": "import agnostic_losses imports no framework", "value": None,
                    "holds": not imports["frameworks"],
                    "text": f"[{'FAILS' if imports['frameworks'] else 'holds'}] import agnostic_losses imports no "
                            f"framework: {', '.join(imports['frameworks']) or 'none imported'}"})
    return out


_IMPORT = ("import sys, time; t = time.perf_counter(); import agnostic_losses; t = time.perf_counter() - t; "
           "print(t, *[m for m in ('torch', 'jax', 'cupy', 'dask', 'array_api_strict') if m in sys.modules])")


def import_time(runs=7):
    """``import agnostic_losses`` in fresh interpreters: the median milliseconds (NumPy and array-api-compat
    included) with the package's bytecode written once beforehand, as a user's ``pip install`` writes it, and
    ``"source ms"`` without writing bytecode (``PYTHONDONTWRITEBYTECODE``): our modules compiled from source
    where the checkout has no ``__pycache__`` (a clean clone), else read from it; the frameworks it imported."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parent.parent),
                                                        os.environ.get("PYTHONPATH", "")])}
    env.pop("PYTHONDONTWRITEBYTECODE", None)

    def median_ms(env):
        found, frameworks = [], set()
        for _ in range(runs):
            words = subprocess.run([sys.executable, "-c", _IMPORT], capture_output=True, text=True, env=env,
                                   check=True).stdout.split()
            found.append(float(words[0]) * 1e3)
            frameworks.update(words[1:])
        return statistics.median(found), frameworks

    with tempfile.TemporaryDirectory() as cache:
        # A cache of our own, so that the checkout's folders stay clean and the first run writes the bytecode.
        cached = {**env, "PYTHONPYCACHEPREFIX": cache}
        subprocess.run([sys.executable, "-c", "import agnostic_losses"], env=cached, check=True)
        ms, frameworks = median_ms(cached)
    # Without the prefix the installed libraries keep their own bytecode; a checkout's has none to read.
    source_ms, more = median_ms({**env, "PYTHONDONTWRITEBYTECODE": "1"})
    return {"ms": ms, "source ms": source_ms, "frameworks": sorted(frameworks | more)}


def ranking(rows, key, size, pass_, n=5):
    chosen = sorted((r for r in rows if r["size"] == size and r["pass"] == pass_ and isinstance(r.get(key), float)),
                    key=lambda r: -r[key])
    return ", ".join(f"{r['loss']} {r[key]:.3g}" for r in chosen[:n])


TABLE = ["loss", "size", "pass", "torch ours ms", "torch peer ms", "torch", "compile", "compiled/eager", "jax peer",
         "jax", "numpy", "memory"]


def notes_text(rows, extra, bench_notes, device):
    cores = os.cpu_count() or 1
    out = ["Ratios are ours / peer, medians of interleaved repeats in one process (below 1: ours is faster or "
           "smaller). torch: eager, peer torch.nn.functional; compile: both under torch.compile, compile time "
           "excluded; compiled/eager: ours compiled / torch.nn.functional eager; jax: both jax.jit, peer as named; "
           f"numpy: forward only, ours vs a {'CuPy' if device == 'cuda' else 'NumPy'} formula; memory: peak of "
           "forward+backward, ours / torch.nn.functional "
           + ("(torch.cuda.max_memory_allocated)." if device == "cuda" else
              "(a fresh process each, growth of the peak RSS over the set-up; VmHWM reset after one warm-up call)."),
           "Forward on torch runs under no_grad; forward+backward is the gradient of the 'mean' loss with respect "
           "to every floating input torch differentiates; " + INPUT_GRAD + ": the same with only the input "
           "requiring grad (torch column; entries that differentiate several arrays). Sizes: " + "; ".join(
               sorted({f"{r['loss']} {r['size']}: {r['shapes']}" for r in rows if r["pass"] == "forward"})) + ".",
           *bench_notes]
    modes = sorted({f"{r['loss']} {r['size']} {r['pass']}: {r['compile mode']}" for r in rows
                    if "compile mode" in r and r["compile mode"] != "fullgraph"})
    if modes:
        out.append("torch.compile: " + "; ".join(modes) + ".")
    errors = [f"{r['loss']} {r['size']} {r['pass']}: {e}" for r in rows for e in r.get("errors", [])]
    if errors:
        out.append("Errors: " + "; ".join(errors) + ".")
    out += extra["skipped"]
    out.append("")
    out.append("Summary against the project's targets:")
    out.append("")
    out += [f"- {s['text']}" for s in extra["summary"]]
    for key, label, size, pass_ in (("torch", "torch eager", "large", "forward+backward"),
                                    ("jax", "jax", "large", "forward+backward"),
                                    ("torch", "torch eager", "small", "forward+backward"),
                                    ("torch", "torch eager", "small", "forward")):
        worst = ranking(rows, key, size, pass_)
        if worst:
            out.append(f"- worst {label} ratios, {size}, {pass_}: {worst}")
    if extra.get("import"):
        found = extra["import"]
        source = found.get("source ms", float("nan"))
        out.append(f"- import agnostic_losses: {found['ms']:.3g} ms cold (median of fresh processes, bytecode "
                   f"written as an install writes it; without bytecode written, from source in a clean clone: "
                   f"{source:.3g} ms)")
    if extra.get("bandwidth"):
        out += ["", ("Bandwidth of the forward at 1e8 float32 elements (bytes the minimal algorithm reads and "
                     "writes / time), as a fraction of torch.clone's on the same GPU in the same run:"), "",
                "| loss | ours ms | peer ms | clone ms | ours GB/s | clone GB/s | ours / copy | peer / copy |",
                "|---|---|---|---|---|---|---|---|"]
        out += [f"| {b['loss']} | {b['ours ms']:.3g} | {b['peer ms']:.3g} | {b['clone ms']:.3g} | "
                f"{b['ours GB/s']:.4g} | {b['clone GB/s']:.4g} | {b['ours / copy']:.3g} | {b['peer / copy']:.3g} |"
                for b in extra["bandwidth"]]
    out.append("")
    load = extra["load average at start"]
    out.append(f"Run took {extra['seconds'] / 60:.1f} min on {cores} cores; threads: {extra['threads']}."
               + (f" Other processes were running: the 1-minute load average was {load:.1f} before the suite started "
                  f"(and {extra['load average at end']:.1f} at its end, the suite included), so absolute times are "
                  "noisy; the ratios are of interleaved repeats, side by side." if load and load > 0.5 else ""))
    return "\n".join(out)


def table_text(name, env, rows, notes, extra):
    """The Markdown table and notes; written to ``results/<name>.{json,md}`` unless ``name`` is None."""
    if name:
        return write(name, env, rows, TABLE, notes, extra=extra)
    return "\n".join(["| " + " | ".join(TABLE) + " |"] + ["| " + " | ".join(fmt(r.get(c)) for c in TABLE) + " |"
                                                          for r in rows]) + "\n\n" + notes
