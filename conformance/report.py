"""The conformance matrix: loss x backend, cases passed / total, worst errors; as text, JSON, Markdown."""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import platform
from collections import defaultdict

from .oracles import reference
from .tolerances import TOLERANCES

PACKAGES = ("agnostic-losses", "array-api-compat", "numpy", "torch", "jax", "jaxlib",
            "array-api-strict", "dask", "cupy", "cupy-cuda12x", "cupy-cuda13x")


def gpu() -> str | None:
    """'NVIDIA H100 80GB HBM3, driver 580.159.04' where nvidia-smi answers, else None."""
    import subprocess

    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    name, _, driver = out.splitlines()[0].partition(", ")
    return f"{name}, driver {driver}"


def installed_versions(names) -> dict:
    """The installed versions of the packages ``names`` (those not installed left out)."""
    out = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def environment(devices) -> dict:
    devices = list(devices)
    versions = installed_versions(PACKAGES)
    return {
        "date": datetime.date.today().isoformat(),
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}",
        "devices": sorted(set(devices)),
        **({"gpu": gpu()} if any(d != "cpu" for d in devices) else {}),
        "versions": versions,
        "tolerances": {k: {"rtol": r, "atol": a} for k, (r, a) in TOLERANCES.items()},
    }


def summarize(results) -> list[dict]:
    """One row per (loss, backend, device): counts and worst errors per dtype."""
    rows = defaultdict(lambda: {"passed": 0, "total": 0, "value_error": {}, "grad_error": {}})
    for r in results:
        row = rows[(r.loss, r.backend, r.device)]
        row["passed"] += r.passed
        row["total"] += 1
        row["value_error"][r.dtype] = max(row["value_error"].get(r.dtype, 0.0), r.value_error)
        if r.grad_error is not None:
            row["grad_error"][r.dtype] = max(row["grad_error"].get(r.dtype, 0.0), r.grad_error)
    return [{"loss": loss, "reference": reference(loss), "backend": backend, "device": device, **row}
            for (loss, backend, device), row in rows.items()]


def _errors(errs: dict) -> str:
    if not errs:
        return "n/a (no autodiff)"
    return " ".join(f"{dtype.replace('float', 'f')}:{e:.1e}" for dtype, e in sorted(errs.items()))


def _table(rows):
    head = ["loss", "reference", "backend", "passed", "worst value error", "worst gradient error"]
    body = [[r["loss"], r.get("reference", reference(r["loss"])), f"{r['backend']} ({r['device']})",
             f"{r['passed']}/{r['total']}",
             _errors(r["value_error"]), _errors(r["grad_error"])] for r in rows]
    return head, body


def text(rows, failures) -> str:
    head, body = _table(rows)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    out = [line(head), line(["-" * w for w in widths])] + [line(b) for b in body]
    passed, total = sum(r["passed"] for r in rows), sum(r["total"] for r in rows)
    out.append(f"\n{passed} passed, {total - passed} failed")
    for f in failures[:20]:
        out.append(f"FAILED {f.backend}:{f.device} {f.case}: {f.message.splitlines()[0] if f.message else ''}")
    if len(failures) > 20:
        out.append(f"... and {len(failures) - 20} more failures (see the JSON report)")
    return "\n".join(out)


def markdown(rows, env, generic) -> str:
    head, body = _table(rows)
    v = env["versions"]
    cupy = next((f", cupy {v[k]}" for k in v if k.startswith("cupy")), "")
    lines = [
        f"Conformance against torch.nn.functional and the reference named per loss, {env['date']}, {env['machine']}"
        f"{', ' + env['gpu'] if env.get('gpu') else ''}, "
        f"Python {env['python']}, torch {v.get('torch', '-')}, jax {v.get('jax', '-')}, "
        f"numpy {v.get('numpy', '-')}{cupy}; primitives: {'generic' if generic else 'native'}.",
        *([f"Exact answers: {env['reference']}."] if env.get("reference") else []),
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    lines += ["| " + " | ".join(b) + " |" for b in body]
    return "\n".join(lines) + "\n"


def pivot(rows) -> str:
    """Loss x backend, cases passed / total: the compact matrix of the conformance page."""
    backends = list(dict.fromkeys(f"{r['backend']} ({r['device']})" for r in rows))
    cells = {(r["loss"], f"{r['backend']} ({r['device']})"): f"{r['passed']}/{r['total']}" for r in rows}
    losses = list(dict.fromkeys(r["loss"] for r in rows))
    lines = ["| loss | reference | " + " | ".join(backends) + " |", "|---|---|" + "---|" * len(backends)]
    lines += [f"| {loss} | {reference(loss)} | " + " | ".join(cells.get((loss, b), "-") for b in backends) + " |"
              for loss in losses]
    worst = {}
    for r in rows:
        for kind in ("value_error", "grad_error"):
            for dtype, e in r[kind].items():
                worst[kind, dtype] = max(worst.get((kind, dtype), 0.0), e)
    summary = "; ".join(
        f"{kind.split('_')[0]} " + ", ".join(f"{d} {worst[kind, d]:.1e}" for d in
                                           ("float64", "float32", "float16", "bfloat16") if (kind, d) in worst)
        for kind in ("value_error", "grad_error"))
    return "\n".join(lines) + f"\n\nWorst relative error over all cases: {summary}.\n"


def to_json(rows, failures, env, generic) -> str:
    return json.dumps({
        "environment": env,
        "primitives": "generic" if generic else "native",
        "summary": rows,
        "failures": [f.__dict__ for f in failures],
    }, indent=1, default=str)
