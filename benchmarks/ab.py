"""Ours at two checkouts, side by side in one process: did a change make a loss slower?

    python benchmarks/ab.py BASE [--loss a,b] [--sizes small,large] [--only torch,jax,numpy] [--threads N]
                           [--name NAME]

BASE is another checkout of this repository (``git worktree add /tmp/base
REV``).  Its ``agnostic_losses`` is imported beside this checkout's under
another module name, and every entry of the suite's table (its arrays and
passes) is timed on both, interleaved (``_common.compare``), so that both meet
the same moments of the machine: the ratio new / base of each (loss, size,
pass, backend) is a measurement of the change alone, where two runs of the
suite would add their drift.  Writes ``benchmarks/results/<name>.{json,md}``
(default ``ab-cpu``).  Benchmarks are not tests: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
if str(HERE.parent) not in sys.path:
    sys.path.insert(1, str(HERE.parent))  # this checkout, when not installed
import threads  # noqa: E402  (before numpy, torch and jax: --threads must reach their thread pools)

threads.apply(threads.from_argv(sys.argv[1:]))

from _common import environment, write  # noqa: E402
from data import make_arrays  # noqa: E402
from table import BENCHES, BY_NAME, PASSES  # noqa: E402
from timing import timed  # noqa: E402
from torch_calls import torch_call, torch_loss, torch_tensors  # noqa: E402

import agnostic_losses as new  # noqa: E402

BACKENDS = ("torch", "jax", "numpy")


def load(checkout: str, name: str = "agnostic_losses_base"):
    """The ``agnostic_losses`` package of ``checkout``, imported as the module ``name``."""
    init = Path(checkout).resolve() / "agnostic_losses" / "__init__.py"
    spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(init.parent)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def calls(bench, arrays, backend, backward, packages):
    """{label: a call of the entry's function from each package} on ``backend``, forward or forward+backward."""
    fns = {label: getattr(package, bench.fn) for label, package in packages.items()}
    if backend == "torch":
        tensors = torch_tensors(bench, arrays, "cpu")
        return {label: torch_call(torch_loss(fn, bench), tensors, bench, backward, lambda: None)
                for label, fn in fns.items()}
    if backend == "numpy":
        return {label: (lambda fn=fn: fn(*arrays.values(), **bench.options)) for label, fn in fns.items()}
    import jax

    args = tuple(jax.numpy.asarray(a.astype("int32") if a.dtype == "int64" else a) for a in arrays.values())
    through, argnums = bench.index(bench.through), bench.index(bench.grads)
    out = {}
    for label, fn in fns.items():
        def loss(*a, fn=fn):
            return fn(*[jax.nn.log_softmax(x, axis=-1) if i in through else x for i, x in enumerate(a)],
                      **bench.options)

        compiled = jax.jit(jax.value_and_grad(loss, argnums=argnums) if backward else loss).lower(*args).compile()
        out[label] = lambda c=compiled: jax.block_until_ready(c(*args))
    return out


def run(benches, sizes, backends, packages, log=print):
    rows = []
    for bench in benches:
        for size in sizes:
            if size not in bench.shapes:  # an entry without this size (as the suite skips it)
                continue
            arrays = make_arrays(bench, size)
            for backend in backends:
                if backend == "numpy" and not callable(bench.formula):
                    continue
                for backward, pass_ in zip((False, True), PASSES):
                    if backend == "numpy" and backward:
                        continue
                    t = _timed(bench, arrays, backend, backward, size, packages)
                    row = {"loss": bench.name, "size": size, "pass": pass_, "backend": backend,
                           "base ms": t["base"] * 1e3, "new ms": t["new"] * 1e3, "new/base": t["new"] / t["base"]}
                    rows.append(row)
                    log(f"{bench.name:34s} {size:6s} {pass_:17s} {backend:6s} {row['new/base']:.3f}")
    return rows


def _timed(bench, arrays, backend, backward, size, packages):
    if backend == "torch":
        import torch

        with torch.set_grad_enabled(backward):
            return timed(calls(bench, arrays, backend, backward, packages), size)
    return timed(calls(bench, arrays, backend, backward, packages), size)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("base", help="another checkout of this repository")
    p.add_argument("--loss", help="comma-separated entries (default: all)")
    p.add_argument("--sizes", default="small,large")
    p.add_argument("--only", default=",".join(BACKENDS), help="torch, jax, numpy")
    p.add_argument("--threads", help="threads of each library (set before they are imported)")
    p.add_argument("--name", default="ab-cpu")
    args = p.parse_args(argv)
    packages = {"base": load(args.base), "new": new}
    benches = [BY_NAME[n] for n in args.loss.split(",")] if args.loss else list(BENCHES)
    rows = run(benches, args.sizes.split(","), args.only.split(","), packages)
    ratios = [r["new/base"] for r in rows]
    notes = (f"new = {Path(new.__file__).parent.parent}, base = {Path(args.base).resolve()}; "
             f"{len(rows)} rows, median new/base {statistics.median(ratios):.3f}, "
             f"range {min(ratios):.3f}-{max(ratios):.3f}; threads {args.threads or os.cpu_count()}.")
    env = environment("cpu")
    print(write(args.name, env, rows, ["loss", "size", "pass", "backend", "base ms", "new ms", "new/base"], notes))


if __name__ == "__main__":
    main()
