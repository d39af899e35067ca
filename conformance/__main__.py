"""python -m agnostic_losses.conformance --backend numpy,torch,jax [--device cpu|cuda] [--json F] [--markdown F]"""

from __future__ import annotations

import argparse
import sys

from . import backends as B
from . import catalogue, oracles, report, runner


def _list(text):
    return [t for t in text.split(",") if t]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog=f"python -m {__package__ or 'conformance'}", description=__doc__.split("\n")[0])
    p.add_argument("--backend", type=_list, action="extend",
                   help=f"comma-separated, repeatable; default: every installed one of {', '.join(B.BACKENDS)}")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--dtype", type=_list, default=list(catalogue.DTYPES),
                   help=f"comma-separated; default: {','.join(catalogue.DTYPES)}")
    p.add_argument("--loss", type=_list, help="only these losses (default: all)")
    p.add_argument("--generic", action="store_true", help="force the generic array-API primitives")
    p.add_argument("--transforms", metavar="FILE", nargs="?", const="-",
                   help="instead: the loss x transform matrix (jit, vmap, hvp, torch.compile, torch.func, Dask, "
                        "CuPy) of the --loss losses (default: all), printed, or written as Markdown to FILE")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--save-reference", metavar="FILE",
                   help="only write the exact answers of the chosen cases to FILE (needs torch 2.13) and exit")
    p.add_argument("--reference", metavar="FILE",
                   help="read the exact answers from FILE instead of computing them with this machine's torch")
    p.add_argument("--json", metavar="FILE", help="write the report as JSON")
    p.add_argument("--markdown", metavar="FILE", help="write the matrix as Markdown")
    p.add_argument("--pivot", metavar="FILE", help="write the compact loss x backend matrix as Markdown")
    args = p.parse_args(argv)

    if args.transforms:
        from . import transforms

        rows = transforms.matrix(losses=args.loss)
        text = transforms.markdown(rows)
        if args.transforms == "-":
            print(text)
        else:
            with open(args.transforms, "w") as f:
                f.write(text)
        return 1 if any(r["status"] == "fail" for r in rows) else 0
    if args.save_reference:
        cases = catalogue.cases(args.loss, args.dtype)
        runner.save_reference(cases, args.save_reference)
        print(f"wrote the exact answers of {len(cases)} cases to {args.save_reference}", file=sys.stderr)
        return 0
    reference_torch = runner.load_reference(args.reference) if args.reference else None

    names = args.backend or list(B.BACKENDS)
    chosen = []
    for name in names:
        backend = B.make(name, args.device)
        reason = backend.unavailable()
        if reason and args.backend:
            p.error(f"backend {name} on {args.device}: {reason}")
        if reason:
            print(f"skipping {name}: {reason}", file=sys.stderr)
        else:
            chosen.append(backend)
    if B.Torch("cpu").unavailable():
        p.error("torch is the reference and must be installed (pip install torch)")

    cases = catalogue.cases(args.loss, args.dtype)
    for loss in dict.fromkeys(c.loss for c in cases):
        reason = oracles.missing(loss)
        if reason:
            print(f"skipping {loss}: {reason}", file=sys.stderr)
            cases = [c for c in cases if c.loss != loss]
    print(f"{len(cases)} cases x {len(chosen)} backends ({', '.join(map(repr, chosen))})", file=sys.stderr)
    results = runner.run(cases, chosen, generic=args.generic, jobs=args.jobs)
    rows = report.summarize(results)
    failures = [r for r in results if not r.passed]
    env = report.environment(b.device for b in chosen)
    if reference_torch:
        env["reference"] = f"exact answers from {args.reference}, computed by torch {reference_torch} (CPU, float64)"
    print(report.text(rows, failures))
    if args.json:
        with open(args.json, "w") as f:
            f.write(report.to_json(rows, failures, env, args.generic))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(report.markdown(rows, env, args.generic))
    if args.pivot:
        with open(args.pivot, "w") as f:
            f.write(report.pivot(rows))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
