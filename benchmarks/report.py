"""The suite's report: a line per row as it is measured, the table, the notes and the summary against the
project's targets, printed and written to benchmarks/results/."""

from __future__ import annotations

import os
import statistics

from _common import write

def fmt(x, digits=3):
    return f"{x:.{digits}g}" if isinstance(x, float) else ("" if x is None else str(x))


def line(row):
    keys = ("torch ours ms", "torch peer ms", "torch", "compile", "compiled/eager", "jax", "numpy", "memory")
    cells = "  ".join(f"{k} {fmt(row[k])}" for k in keys if k in row)
    return f"  {row['loss']:34s} {row['size']:6s} {row['pass']:16s} {cells}"


def _worst(rows, key):
    rows = [r for r in rows if isinstance(r.get(key), float)]
    return max(rows, key=lambda r: r[key]) if rows else None


def summary(rows):
    """The project's targets, each with the measured figure, whether it holds and the worst loss."""
    out = []

    def target(label, value, limit, worst=None, op="<="):
        if value is None:
            out.append({"target": label, "value": None, "holds": None, "text": f"{label}: not measured"})
            return
        holds = value <= limit
        where = f" (worst: {worst['loss']} {worst['size']} {worst['pass']})" if worst else ""
        out.append({"target": label, "value": value, "limit": limit, "holds": holds,
                    "text": f"[{'holds' if holds else 'FAILS'}] {label}: {value:.3g} (target {op} {limit}){where}"})

    large = [r for r in rows if r["size"] == "large" and r["pass"] == "forward+backward" and "torch" in r]
    w = _worst(large, "torch")
    target("torch eager, large, forward+backward: max ours/torch", w and w["torch"], 1.2, w)
    target("torch eager, large, forward+backward: median ours/torch",
           statistics.median(r["torch"] for r in large) if large else None, 1.0)
    w = _worst([r for r in rows if r["size"] == "small"], "torch")
    target("torch eager, small, both passes: max ours/torch", w and w["torch"], 1.5, w)
    w = _worst([r for r in rows if not str(r.get("jax peer", "jnp")).startswith("jnp")], "jax")
    target("jax.jit vs optax: max ours/optax", w and w["jax"], 1.05, w)
    w = _worst([r for r in rows if str(r.get("jax peer", "")).startswith("jnp")], "jax")
    if w:
        out.append({"target": "jax.jit vs jnp formula (no target)", "value": w["jax"], "holds": None,
                    "text": f"[info] jax.jit vs jnp formula: max ours/formula {w['jax']:.3g} "
                            f"(worst: {w['loss']} {w['size']} {w['pass']})"})
    w = _worst([r for r in rows if r["size"] != "small"], "compiled/eager")
    target("ours compiled / torch.nn.functional eager, max (medium and large)", w and w["compiled/eager"], 1.0, w)
    w = _worst([r for r in rows if r["size"] == "small"], "compiled/eager")
    if w:
        out.append({"target": "ours compiled / torch eager, small (no target)", "value": w["compiled/eager"],
                    "holds": None, "text": f"[info] ours compiled / torch eager, small: max "
                                           f"{w['compiled/eager']:.3g} (worst: {w['loss']} {w['pass']})"})
    w = _worst(rows, "memory")
    target("peak memory of forward+backward: max ours/torch", w and w["memory"], 1.2, w)
    return out


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
           "to every floating input torch differentiates. Sizes: " + "; ".join(
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
    for key, label in (("torch", "torch eager"), ("jax", "jax")):
        worst = ranking(rows, key, "large", "forward+backward")
        if worst:
            out.append(f"- worst {label} ratios, large, forward+backward: {worst}")
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
