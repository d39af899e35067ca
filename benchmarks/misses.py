"""Every row of the sweeps that misses its loss's target, with the profile that says why.

    python benchmarks/misses.py [--sweep suite-cpu-sweep] [--transforms suite-cpu-sweep-transforms]
                                [--threads 2] [--name misses-cpu]

For each row of the torch eager sweep (``results/<sweep>.json``) above its target (``report.limit``: issue 26's
per-loss targets), the suite's own call of that row is run once more on each side, ours and
``torch.nn.functional``'s, and counted:

- **Python calls**: the Python functions one call enters (``sys.setprofile``), the backward pass included;
- **ops**: the aten operations that compute (``gpu_profile.computing``: those with no aten operation inside,
  no views, no allocations), the host synchronisations (``.item()``), and under ``torch.profiler`` the CPU time
  of the aten operations in their own code (a fused kernel that allocates its buffers, such as torch's CTC,
  included), with the three that take most of it (the quickest of three profiled calls).

The sweep's times are then split in two.  The **fixed cost** is the gap ours - torch of the same entry and pass
at the small size, where the arrays are tens of elements: the cost of a call, whatever the size.  The rest of
the gap grows with the data.  A row's reason: **per call** where the fixed cost is at least half the gap (the
counts say how many Python calls and operations); else **calls per piece or step** where ours' Python calls are
at least twice those at the small size (the pieces of the chunked evaluation, CTC's time steps); else
**passes** where ours' operations take longer than torch's by at least half the growing part (more passes over
the data than torch's fused kernel); else **outside the ops** (allocation, first touch of fresh memory,
autograd's bookkeeping: not measured apart).

The transforms sweep's rows (``results/<transforms>.json``: ``jax``, ``compiled/eager`` and ``memory`` over
``report.transform_limits``): a compiled row is split, from the sweep's figures, into torch's compiled loss
against its eager one and ours compiled against torch's compiled; where torch's compiled loss is not the slower
part, the row is timed again (**drift** where it then holds the target; **compiled call** where the gap of ours
compiled to torch's compiled at the small size, timed again with it, a compiled call's fixed cost, is at least
half of the row's). A ``jax`` row is timed again, and each side's compiled program read by XLA's cost analysis
(bytes accessed, flops, fusions): **drift** where it holds the target when timed again, else **more traffic**,
**more arithmetic** (by a tenth or more) or **XLA's code** (the same work compiled to slower code). A memory
growth of a few pages is under the measurement's resolution; the other memory rows are measured again
(``AGAIN_MEMORY`` fresh processes a side): **varies** where some run holds the target. ``--no-again`` reads every
transforms row from the sweep's figures alone.
Writes ``results/<name>.{json,md}``.
Benchmarks are not tests: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import threads  # noqa: E402  (before torch: --threads must reach its thread pool)

threads.apply(threads.from_argv(sys.argv[1:]))
if str(HERE.parent) not in sys.path:
    sys.path.insert(1, str(HERE.parent))  # this checkout, when not installed

from _common import RESULTS, environment, write  # noqa: E402
from data import make_arrays  # noqa: E402
from gpu_profile import NO_KERNEL, computing, profiled, syncs  # noqa: E402
from report import limit, transform_limits  # noqa: E402
from table import BY_NAME, INPUT_GRAD  # noqa: E402
from timing import timed  # noqa: E402
from torch_calls import sides, torch_loss, torch_sides, torch_tensors  # noqa: E402


PROFILES = 3  # profiled calls per side, the quickest kept: one call's page faults and drift are not the loss's


def python_calls(call) -> int:
    """The Python functions that one ``call`` enters (on this thread, where torch's CPU backward runs)."""
    count = 0

    def hook(frame, event, arg):
        nonlocal count
        count += event == "call"

    sys.setprofile(hook)
    try:
        call()
    finally:
        sys.setprofile(None)
    return count - 1  # the call itself


def counted(bench, size, pass_):
    """{side: its counts} for one row of the sweep, on the suite's arrays."""
    import torch

    if pass_ == INPUT_GRAD:
        bench = dataclasses.replace(bench, grads=bench.grads[:1])
    backward = pass_ != "forward"
    tensors = torch_tensors(bench, make_arrays(bench, size), "cpu")
    out = {}
    for side, call in torch_sides(bench, tensors, backward, lambda: None).items():
        with torch.set_grad_enabled(backward):
            call()  # a warm-up: caches filled, as in the timed calls
            calls = python_calls(call)
            out[side] = min((_ops(profiled(call, "cpu")) for _ in range(PROFILES)), key=lambda c: c["ops ms"])
        out[side]["python calls"] = calls
    return out


def _ops(events):
    """The counts of one profiled call's ``events``."""
    by_name = collections.Counter()
    for e in events:
        if e.name.startswith("aten::") and e.name not in NO_KERNEL:
            by_name[e.name.removeprefix("aten::")] += e.self_cpu_time_total / 1e3
    return {"ops": len(computing(events, "cpu")), "ops ms": sum(by_name.values()), "syncs": syncs(events),
            "costliest": [f"{name} {ms:.3g}" for name, ms in by_name.most_common(3)]}


def reason(row, small, counts, small_counts=None):
    """The row's reason and its figures.  The fixed cost of a call is the gap at the small size (``small``, the
    same entry and pass; ``small_counts`` its counts); the rest of the gap grows with the data, in Python calls
    that grow too (pieces, time steps), in the operations' own time, or outside both."""
    gap = row["torch ours ms"] - row["torch peer ms"]
    ours, peer = counts["ours"], counts["peer"]
    calls = (f"{ours['python calls']} Python calls and {ours['ops']} ops ({ours['syncs']} syncs) against torch's "
             f"{peer['python calls']} and {peer['ops']} ({peer['syncs']})")
    if row["size"] == "small":
        return "per call", f"the {gap:.3g} ms gap is a call's cost: {calls}"
    if small is None:
        return "no small row", f"the {gap:.3g} ms gap, not split (the entry has no small size): {calls}"
    fixed = max(small["torch ours ms"] - small["torch peer ms"], 0.0)
    if fixed >= gap / 2:
        share = "the whole" if fixed >= gap else f"{fixed / gap:.0%} of the"
        return "per call", f"a call's fixed cost, {fixed:.3g} ms, is {share} {gap:.3g} ms gap: {calls}"
    growing = f"{gap - fixed:.3g} of the {gap:.3g} ms gap grows with the data"
    at_small = (small_counts or {}).get("ours", {}).get("python calls")
    if at_small and ours["python calls"] >= 2 * at_small:
        return "calls per piece or step", (f"{growing}, and so do ours' Python calls: {calls}, against "
                                           f"{at_small} Python calls at the small size")
    ops = (f"{ours['ops']} ops, {ours['ops ms']:.3g} ms ({', '.join(ours['costliest'])}), against torch's "
           f"{peer['ops']}, {peer['ops ms']:.3g} ms ({', '.join(peer['costliest'])})")
    if ours["ops ms"] - peer["ops ms"] >= (gap - fixed) / 2:
        return "passes", f"{growing}, in the operations' own time: {ops}"
    return "outside the ops", f"{growing}, but not in the operations' own time: {ops}; {calls}"


RESOLUTION_MIB = 0.25  # a peak-RSS growth below this (64 pages) on both sides is under the memory column's resolution


def transform_reason(row, column, again=None, small=None):
    """The reason of a transforms row over its target.  For torch.compile, from the sweep's figures: how much of
    ours compiled / torch eager is torch's own compiled loss against its eager one, and where ours compiled is the
    slower part, how much of its gap is a compiled call's fixed cost (the gap of ``small``, the same entry and pass
    at the small size).  For ``jax`` and ``memory``, from ``again``, the row measured once more (``jax_again``,
    ``memory_again``; None: listed, not profiled)."""
    bound = transform_limits(row)[column]
    if column == "compiled/eager":
        now = row if again is None else again
        own = now["compiled/eager"] / now["compile"]  # torch.nn.functional compiled / torch.nn.functional eager
        figures = (f"torch.nn.functional's loss compiled is {own:.3g}x its eager, ours compiled {now['compile']:.3g}x "
                   "torch's compiled")
        if again is not None:
            figures = (f"the sweep's {row['compiled/eager']:.3g}; timed again {again['compiled/eager']:.3g}: "
                       + figures)
            if again["compiled/eager"] <= bound:
                return "drift", figures
        if now["compile"] <= 1:
            return "torch's compiled loss", (f"{figures}: the compiled code (Inductor's CPU kernels) is slower than "
                                             "aten's eager kernel, for torch's own loss too")
        if own > 1:
            return "both compiled", figures
        gap = now.get("compiled ours ms", 0.0) - now.get("compiled peer ms", 0.0)
        if small is not None and "compiled ours ms" in small and gap > 0:
            fixed = max(small["compiled ours ms"] - small["compiled peer ms"], 0.0)
            if fixed >= gap / 2:
                share = "the whole" if fixed >= gap else f"{fixed / gap:.0%} of the"
                return "compiled call", (f"{figures}: a compiled call's fixed cost (Dynamo's guards and the compiled "
                                         f"function's wrapper), {fixed:.3g} ms "
                                         f"at the small size, is {share} {gap:.3g} ms gap")
        return "compiled", figures
    if column == "memory":
        mib = f"peak growth {row['memory ours MB']:.3g} against {row['memory peer MB']:.3g} MiB"
        if row["memory peer MB"] == 0 or max(row["memory ours MB"], row["memory peer MB"]) < RESOLUTION_MIB:
            return "resolution", f"{mib}: a few pages, under the resolution of the peak RSS"
        if again is None:
            return "not profiled", mib
        runs = ", ".join(f"{o:.3g} / {p:.3g}" for o, p in zip(again["ours MB"], again["peer MB"]))
        if min(again["ratios"]) <= bound:
            return "varies", f"{mib}; measured again, MiB ours / torch: {runs}: under the target in some runs"
        return "not profiled", f"{mib}; measured again, MiB ours / torch: {runs}"
    timed = f"{row['jax ours ms']:.3g} against {row['jax peer ms']:.3g} ms ({row['jax peer']})"
    if again is None:
        return "not profiled", timed
    timed = (f"the sweep's {timed}; timed again {again['ratio']:.3g} ({again['ours ms']:.3g} against "
             f"{again['peer ms']:.3g} ms)")
    if again["ratio"] <= bound:
        return "drift", timed
    program = (f"ours' program moves {again['ours bytes'] / 1e6:.3g} MB and computes {again['ours flops']:.3g} "
               f"flops in {again['ours fusions']} fusions, the peer's {again['peer bytes'] / 1e6:.3g} MB, "
               f"{again['peer flops']:.3g} flops in {again['peer fusions']}")
    if again["ours bytes"] > 1.1 * again["peer bytes"]:
        return "more traffic", f"{timed}: {program}"
    if again["ours flops"] > 1.1 * again["peer flops"]:
        return "more arithmetic", f"{timed}: {program}"
    return "XLA's code", f"{timed}: {program}, within a tenth: the same work, compiled to slower code"


AGAIN_MEMORY = 3  # measurements of a memory row, each a fresh process per side


def jax_again(bench, size, pass_):
    """A ``jax`` row timed once more, with XLA's cost analysis of each side's compiled program."""
    from columns import jax_calls, jax_programs

    programs = jax_programs(bench, make_arrays(bench, size), "cpu", (pass_,))[0][pass_]
    t = timed(jax_calls(programs), size)
    out = {"ratio": t["ours"] / t["peer"], "ours ms": t["ours"] * 1e3, "peer ms": t["peer"] * 1e3}
    for side, (compiled, _) in programs.items():
        cost = compiled.cost_analysis()
        cost = cost[0] if isinstance(cost, list) else cost
        entry = compiled.as_text().split("\nENTRY", 1)[-1]
        out.update({f"{side} bytes": cost.get("bytes accessed", 0.0), f"{side} flops": cost.get("flops", 0.0),
                    f"{side} fusions": entry.count(" fusion(")})
    return out


_COMPILED = {}  # (entry, size) -> the compile column of both passes, measured together


def compiled_again(bench, size, pass_):
    """A ``compiled/eager`` row timed once more (the suite's column: ours and torch's loss compiled, torch's
    eager); both passes are measured together and kept for the other."""
    if (bench.name, size) not in _COMPILED:
        from columns import column_compile

        results = {p: {} for p in ("forward", "forward+backward")}
        column_compile(bench, make_arrays(bench, size), size, "cpu", results)
        _COMPILED[bench.name, size] = results
    return _COMPILED[bench.name, size][pass_]


def guards(bench, size, pass_):
    """{side: the guards Dynamo checks before each compiled call of the row's loss} (``torch._dynamo.explain``)."""
    import warnings

    import torch

    tensors = torch_tensors(bench, make_arrays(bench, size), "cpu")
    out = {}
    with torch.set_grad_enabled(pass_ != "forward"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for side, fn in sides(bench):
            torch._dynamo.reset()
            out[side] = len(torch._dynamo.explain(torch_loss(fn, bench))(*tensors).out_guards)
    torch._dynamo.reset()
    return out


def memory_again(bench, size):
    """A ``memory`` row measured ``AGAIN_MEMORY`` more times (the suite's fresh processes)."""
    from memory import column_memory

    out = {"ratios": [], "ours MB": [], "peer MB": []}
    for _ in range(AGAIN_MEMORY):
        results = {"forward+backward": {}}
        column_memory(bench, None, size, "cpu", results)
        row = results["forward+backward"]
        for key, name in (("ratios", "memory"), ("ours MB", "memory ours MB"), ("peer MB", "memory peer MB")):
            out[key].append(row[name])
    return out


def torch_misses(name):
    """The rows of the torch eager sweep ``name`` over their loss's target, each profiled once more."""
    sweep = json.loads((RESULTS / f"{name}.json").read_text())
    rows = [r for r in sweep["rows"] if isinstance(r.get("torch"), float)]
    at_small = {(r["loss"], r["pass"]): r for r in rows if r["size"] == "small"}
    found, small_counts = [], {}
    for row in rows:
        bound = limit(row)
        if bound is None or row["torch"] <= bound:
            continue
        if row["loss"] not in BY_NAME:
            print(f"{row['loss']}: no such entry in benchmarks/table.py, left out", flush=True)
            continue
        key = (row["loss"], row["pass"])
        counts = counted(BY_NAME[row["loss"]], row["size"], row["pass"])
        if row["size"] == "small":
            small_counts[key] = counts
        elif key in at_small and key not in small_counts:
            small_counts[key] = counted(BY_NAME[row["loss"]], "small", row["pass"])
        kind, text = reason(row, at_small.get(key), counts, small_counts.get(key))
        found.append({"loss": row["loss"], "size": row["size"], "pass": row["pass"], "column": "torch",
                      "ratio": row["torch"], "target": bound, "reason": kind, "figures": text, "counts": counts})
        print(f"{row['loss']} {row['size']} {row['pass']}: {row['torch']:.3g} (target {bound}) {kind}: {text}",
              flush=True)
    return sweep, len(rows), found


def transform_misses(name, again=True):
    """The rows of the transforms sweep ``name`` (``--only jax,compile,memory``) over a target; with ``again``, the
    ``jax`` and ``memory`` rows measured once more."""
    sweep = json.loads((RESULTS / f"{name}.json").read_text())
    at_small = {(r["loss"], r["pass"]): r for r in sweep["rows"] if r["size"] == "small"}
    found = []
    for row in sweep["rows"]:
        for column, bound in transform_limits(row).items():
            if not isinstance(row.get(column), float) or row[column] <= bound:
                continue
            measured = None
            if again and row["loss"] in BY_NAME:
                if column == "jax":
                    measured = jax_again(BY_NAME[row["loss"]], row["size"], row["pass"])
                elif column == "compiled/eager" and transform_reason(row, column)[0] == "compiled":
                    measured = compiled_again(BY_NAME[row["loss"]], row["size"], row["pass"])
                elif column == "memory" and transform_reason(row, column)[0] != "resolution":
                    measured = memory_again(BY_NAME[row["loss"]], row["size"])
            small = at_small.get((row["loss"], row["pass"]))
            if column == "compiled/eager" and measured is not None and small is not None:
                small = compiled_again(BY_NAME[row["loss"]], "small", row["pass"])  # the same moment's fixed cost
            kind, text = transform_reason(row, column, measured, small)
            if kind == "compiled call" and again and row["loss"] in BY_NAME:
                counted_guards = guards(BY_NAME[row["loss"]], row["size"], row["pass"])
                text += f" (Dynamo's guards: ours {counted_guards['ours']}, torch's {counted_guards['peer']})"
            found.append({"loss": row["loss"], "size": row["size"], "pass": row["pass"], "column": column,
                          "ratio": row[column], "target": bound, "reason": kind, "figures": text,
                          "measured again": measured})
            print(f"{row['loss']} {row['size']} {row['pass']} {column}: {row[column]:.3g} (target {bound}) {kind}: "
                  f"{text}", flush=True)
    return sweep, found


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sweep", default="suite-cpu-sweep", help="the torch eager sweep's result name under results/")
    p.add_argument("--transforms", default="suite-cpu-sweep-transforms",
                   help="the transforms sweep's result name under results/ ('' for none)")
    p.add_argument("--no-again", action="store_true", help="the transforms' rows from the sweep's figures alone")
    p.add_argument("--threads", default=None, help="torch's threads (set before torch is imported)")
    p.add_argument("--name", default="misses-cpu", help="result file name")
    args = p.parse_args(argv)
    sweep, n_rows, found = torch_misses(args.sweep)
    lines = [f"The misses of `results/{args.sweep}.json` ({sweep['environment']['date']}): {len(found)} of {n_rows} "
             f"torch eager rows over their loss's target ({_kinds(found)}); its times, the counts of one call each "
             "profiled by this script."]
    if args.transforms:
        transforms, more = transform_misses(args.transforms, again=not args.no_again)
        lines.append(f"The misses of `results/{args.transforms}.json` ({transforms['environment']['date']}): "
                     f"{len(more)} ({_kinds(more)}), the compiled rows from its figures"
                     + (" alone." if args.no_again else ", the jax and memory rows measured again by this script."))
        found += more
    env = environment()
    env["threads"] = args.threads or "the libraries' defaults"
    write(args.name, env, found, ["loss", "size", "pass", "column", "ratio", "target", "reason", "figures"],
          "\n\n".join(lines), {"sweep": args.sweep, "transforms": args.transforms})


def _kinds(found):
    """How many rows of ``found`` each (column, reason) has, as text."""
    counts = collections.Counter((f["column"], f["reason"]) for f in found)
    return ", ".join(f"{n} {column} {kind}" for (column, kind), n in counts.items())


if __name__ == "__main__":
    main()
