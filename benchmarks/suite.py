"""The benchmark suite: every loss, ours against its peers, at a small and a large size, or at every size.

    python benchmarks/suite.py [--quick] [--device cpu|cuda] [--loss a,b] [--only torch,compile,jax,numpy,memory]
                               [--sizes small,large | --sweep]

Sizes (``--sweep``: all of them): small (per call: 64 elements, a batch of
32 x 10), 1e4, medium (1e5), 1e6, 4e6 and large (1e7 elements; the
cross-entropies' logits 10 x 1000, 256 x 1000, 1024 x 1000, 4096 x 1000 and
4096 x 32768 between small and large).

For every loss, forward and forward + backward (the gradient of the 'mean'
loss with respect to every floating input torch differentiates), as ratios
ours / peer measured side by side in one process (``_common.compare``:
medians of interleaved repeats):

  torch     ours on torch tensors vs ``torch.nn.functional``, eager
  compile   both under ``torch.compile`` (fullgraph=True; where either fails,
            both in the default mode, and the failure is recorded); compile
            time excluded, warm-up included; also ours compiled / theirs eager
  jax       ours under ``jax.jit`` vs the optax loss of the same semantics,
            both jitted, or a plain jnp formula where optax has none
  numpy     ours on NumPy vs a straightforward NumPy formula (forward only;
            CuPy and a CuPy formula with ``--device cuda``)
  memory    peak memory of forward + backward, ours / torch.nn.functional
            (CPU: a fresh process per measurement, growth of the peak RSS over
            the set-up; CUDA: torch.cuda.max_memory_allocated)

With ``--device cuda`` also the memory bandwidth the elementwise losses reach
at 1e8 elements, as a fraction of a device-to-device copy.  Writes
benchmarks/results/suite-<device>[-quick].{json,md} and prints the table and
the summary against the project's targets.  Benchmarks are not tests: nothing
asserts a time.

This file is the command line and the run; the pieces beside it: data.py (the
arrays: the conformance catalogue's draws in float32), table.py (the entries),
peers.py (torch.nn.functional, optax and the plain formulas), columns.py and
memory.py and bandwidth.py (the measurements), timing.py (the repeats),
report.py (the table, the notes and the summary).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import threads  # noqa: E402  (before numpy, torch and jax: --threads must reach their thread pools)

THREADS = threads.from_argv(sys.argv[1:]) if __name__ == "__main__" else None
threads.apply(THREADS)

if str(HERE.parent) not in sys.path:
    sys.path.insert(1, str(HERE.parent))  # the checkout being benchmarked, when not installed

import agnostic_losses as al
from _common import environment
from bandwidth import BANDWIDTH, bandwidth
from columns import run_entry, short
from data import make_arrays
from memory import memory_worker
from report import import_time, line, notes_text, summary, table_text
from table import BENCHES, BY_NAME, INPUT_GRAD, PASSES, QUICK, SIZES, ours_fn
from timing import use_quick_budget

COLUMNS = ("torch", "compile", "jax", "numpy", "memory")
_ARG_THREADS = None  # --threads, as parsed
# what tests/test_benchmarks.py and other scripts take from the entry point, besides main and run
__all__ = ["BENCHES", "BY_NAME", "COLUMNS", "INPUT_GRAD", "PASSES", "QUICK", "SIZES", "main", "make_arrays", "run", "run_entry",
           "summary"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--quick", action="store_true",
                   help=f"{len(QUICK)} losses, small and medium sizes, no torch.compile (about a minute)")
    p.add_argument("--loss", default="", help="comma-separated entries or function names, measured in that order "
                   "(default: all)")
    p.add_argument("--only", default="", help=f"comma-separated columns of {','.join(COLUMNS)} (default: all)")
    p.add_argument("--sizes", default="", help=f"comma-separated of {','.join(SIZES)} "
                                               "(default: small,large; --quick: small,medium)")
    p.add_argument("--sweep", action="store_true", help="every size, " + ",".join(SIZES))
    p.add_argument("--name", default="", help="result file name (default suite-<device>[-quick])")
    p.add_argument("--no-write", action="store_true", help="print only")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads of torch, the BLAS and (when 1) XLA; default: the libraries' own (all cores). "
                        "On a shared, busy machine --threads 1 keeps OpenMP's waits for a core out of the timings")
    p.add_argument("--memory-worker", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.threads:
        import torch

        global _ARG_THREADS
        _ARG_THREADS = args.threads
        torch.set_num_threads(args.threads)
    if args.memory_worker:
        print(json.dumps(memory_worker(*args.memory_worker)))
        return None
    if args.device == "cuda":
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # JAX beside torch and CuPy on one GPU
    wanted = [n for n in args.loss.split(",") if n]
    unknown = [n for n in wanted if not any(n in (b.name, b.fn) for b in BENCHES)]
    if unknown:
        p.error(f"unknown loss {unknown}; known: {', '.join(BY_NAME)}")
    chosen = [b for b in BENCHES if not wanted and (not args.quick or b.name in QUICK)]
    for n in wanted:  # in the order given (a run cut short by a time limit has done the first ones)
        chosen += [b for b in BENCHES if n in (b.name, b.fn) and b not in chosen]
    columns = [c for c in args.only.split(",") if c] or [c for c in COLUMNS if not (args.quick and c == "compile")]
    bad = sorted(set(columns) - set(COLUMNS)) + sorted(set(args.sizes.split(",")) - set(SIZES) - {""})
    if bad:
        p.error(f"unknown column or size {bad}")
    sizes = (list(SIZES) if args.sweep else [s for s in args.sizes.split(",") if s]) or (
        ["small", "medium"] if args.quick else ["small", "large"])
    return run(chosen, sizes, columns, args.device,
               None if args.no_write else (args.name or f"suite-{args.device}" + ("-quick" if args.quick else "")),
               quick=args.quick)


def run(chosen, sizes, columns, device, name=None, log=print, quick=False):
    """Measure the entries ``chosen`` at ``sizes`` in ``columns``; print, and write the results under ``name``.
    Returns (rows, extra: summary, skipped entries, timings of the run)."""
    use_quick_budget(quick)
    started, load = time.time(), os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    env = environment(device)
    env["agnostic_losses"] = str(Path(al.__file__).parent)
    try:
        import torch

        env["torch threads"] = torch.get_num_threads()
    except ImportError:
        pass
    log(f"agnostic_losses from {env['agnostic_losses']}; device {device}; columns {','.join(columns)}; "
        f"sizes {','.join(sizes)}")
    rows, skipped, bench_notes = [], [], []
    for bench in chosen:
        if ours_fn(bench) is None:
            reason = f"{bench.name}: skipped, agnostic_losses has no {bench.fn} (not merged into this checkout)"
            log(reason)
            skipped.append(reason)
            continue
        if bench.note:
            bench_notes.append(bench.note)
        for size in sizes:
            entry = run_entry(bench, size, device, columns, log)
            for row in entry:
                log(line(row))
                for key in ("torch difference", "jax difference", "numpy difference"):
                    if row.get(key, 0) > 1e-3:
                        log(f"    note: {key} {row[key]:.2g} (ours and the peer disagree)")
            rows += entry
    extra = {"columns": columns, "sizes": sizes, "skipped": skipped,
             "seconds": time.time() - started, "load average at start": load,
             "load average at end": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}
    if device == "cuda" and "large" in sizes:
        names = [n for n in BANDWIDTH if n in {b.name for b in chosen} and ours_fn(BY_NAME[n])]
        if names:
            try:
                extra["bandwidth"] = bandwidth(names)
            except Exception as e:  # noqa: BLE001 - the rest is written all the same
                log(f"bandwidth failed: {short(e)}")
    extra["import"] = import_time()
    extra["summary"] = summary(rows, extra["import"])
    n = str(THREADS or _ARG_THREADS or "")
    extra["threads"] = (f"--threads {n}: torch and the BLAS on {n} thread(s)"
                        + (", XLA's CPU thread pool on one" if n == "1" else "")
                        if n else "the libraries' default thread pools")
    if "torch threads" in env:
        extra["threads"] += f" (torch.get_num_threads() = {env['torch threads']})"
    notes = notes_text(rows, extra, bench_notes, device)
    log("")
    log(table_text(name, env, rows, notes, extra))
    return rows, extra


if __name__ == "__main__":
    main()
