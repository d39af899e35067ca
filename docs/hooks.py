"""MkDocs hooks: the pages and figures made at build time, from the library and the committed result files.

- ``losses/<family>.md``: one page per family, the module's docstring, then for every loss its docstring
  (mkdocstrings), its figure (``docs/plots.py``) and its class form;
- ``conformance.md``: the conformance matrices, from ``conformance/results/*.json`` and the transforms matrix;
- ``speed.md``: the benchmark suite's figures and targets, from ``benchmarks/results/suite-*.json``.

Nothing generated is written into ``docs/``: the files exist only in the build.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
import sys
import tempfile
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import agnostic_losses as al  # noqa: E402
from conformance import report  # noqa: E402

SPHINX_ROLE = re.compile(r":(?:func|class|mod|meth|attr|data|obj):(<code>[^<]*</code>)")

FAMILIES = {
    "regression": ("Regression", "regression", ["l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss", "mape_loss",
                                                 "msle_loss", "rmse_loss", "log_cosh_loss", "pinball_loss"]),
    "classification": ("Classification", "classification", [
        "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
        "multilabel_soft_margin_loss", "soft_margin_loss", "linear_cross_entropy"]),
    "probabilistic": ("Probabilistic", "probabilistic", ["kl_div", "poisson_nll_loss", "gaussian_nll_loss",
                                                         "jensen_shannon_divergence"]),
    "margin": ("Margins, ranking and embeddings", "margin", [
        "margin_ranking_loss", "hinge_embedding_loss", "multi_margin_loss", "multilabel_margin_loss",
        "cosine_embedding_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss", "pairwise_distance"]),
    "sequence": ("Sequences", "sequence", ["ctc_loss"]),
    "detection": ("Detection", "detection", ["sigmoid_focal_loss", "focal_loss", "generalized_box_iou_loss",
                                             "distance_box_iou_loss", "complete_box_iou_loss"]),
    "segmentation": ("Segmentation", "segmentation", ["dice_loss", "generalized_dice_loss", "tversky_loss"]),
    "optax": ("optax's losses", "optax_form", [
        "hinge_loss", "perceptron_loss", "sparsemax_loss", "multiclass_hinge_loss", "multiclass_perceptron_loss",
        "multiclass_sparsemax_loss", "cosine_distance", "ntxent", "poly_loss_cross_entropy"]),
    "metrics": ("Metrics", "metrics", [f"metrics.{n}" for n in al.metrics.__all__]),
}


def _plots():
    spec = importlib.util.spec_from_file_location("docs_plots", ROOT / "docs" / "plots.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _classes() -> dict:
    """function name -> the torch.nn-style classes that call it."""
    out = {}
    for name in al.__all__:
        cls = getattr(al, name)
        if inspect.isclass(cls) and hasattr(cls, "_fn"):
            out.setdefault(cls._fn.__name__, []).append(cls)
    return out


def family_page(slug: str, plots) -> str:
    title, module, names = FAMILIES[slug]
    classes = _classes()
    lines = [f"# {title}", "", f"::: agnostic_losses.{module}", "    options:", "      members: false",
             "      show_root_heading: false", "      show_root_toc_entry: false", ""]
    for name in names:
        lines += [f"::: agnostic_losses.{name}", "    options:", "      show_root_heading: true",
                  "      show_root_full_path: false", "      heading_level: 2", "",
                  f"![{name}: the loss and its gradient](../plots/{plots.file_name(name)})", ""]
        for cls in classes.get(name.rsplit(".", 1)[-1], []):
            lines += [f"**Class form**: `agnostic_losses.{cls.__name__}{inspect.signature(cls)}`: "
                      f"{inspect.getdoc(cls)}", ""]
    return "\n".join(lines)


def conformance_page() -> str:
    lines = ["# Conformance", "",
             "Generated from the committed result files of `python -m agnostic_losses.conformance` "
             "(`conformance/results/`): every case of every loss, on every backend, against torch.nn.functional "
             "or the library named per loss, values and gradients. Cases passed / total per loss and backend.", ""]
    results = ROOT / "conformance" / "results"
    for name, title in (("cpu.json", "CPU"), ("gpu.json", "GPU"), ("cpu-generic.json", "CPU, generic primitives")):
        path = results / name
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        rows, env = data["summary"], data["environment"]
        passed, total = sum(r["passed"] for r in rows), sum(r["total"] for r in rows)
        versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items())
        lines += [f"## {title}: {passed} of {total} cases passed", "",
                  f"{env['date']}, {env['machine']}{', ' + env['gpu'] if env.get('gpu') else ''}; {versions}.", "",
                  report.pivot(rows), ""]
    transforms = results / "transforms-cpu.md"
    if transforms.exists():
        lines += ["## Under transforms (CPU)", "", transforms.read_text(), ""]
    return "\n".join(lines)


def _cell(row, key):
    value = row.get(key)
    return f"{value:.3g}" if isinstance(value, float) else ""


def speed_page() -> str:
    lines = ["# Speed", "",
             "Generated from the committed result files of `benchmarks/suite.py` (`benchmarks/results/`): "
             "ratios ours / peer measured side by side in one process (below 1: ours is faster or smaller). "
             "The history of the figures and of the changes behind them is `benchmarks/HISTORY.md`.", ""]
    columns = ("torch", "compile", "compiled/eager", "jax", "numpy", "memory")
    for name, title in (("suite-cpu-sweep.json", "CPU, every size"), ("suite-cpu.json", "CPU"),
                        ("suite-cpu-sweep-transforms.json", "CPU, transforms at every size"),
                        ("suite-cuda.json", "GPU")):
        path = ROOT / "benchmarks" / "results" / name
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        env = data["environment"]
        versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items())
        lines += [f"## {title}", "", f"{env['date']}, {env['machine']}, {env['device']}; {versions}; "
                  f"{data.get('threads', '')}.", "", "Against the project's targets:", ""]
        lines += [f"- {s['text']}" for s in data["summary"]]
        shown = [c for c in columns if any(isinstance(r.get(c), float) for r in data["rows"])]
        lines += ["", "| loss | size | pass | " + " | ".join(shown) + " |", "|---|---|---|" + "---|" * len(shown)]
        lines += [f"| {r['loss']} | {r['size']} | {r['pass']} | " + " | ".join(_cell(r, c) for c in shown) + " |"
                  for r in data["rows"]]
        lines.append("")
    return "\n".join(lines)


def on_page_content(html, page, config, files):
    """The docstrings' Sphinx roles (``:func:`x```) as plain code: MkDocs renders no roles."""
    return SPHINX_ROLE.sub(r"\1", html)


def on_files(files, config):
    plots = _plots()
    out = Path(tempfile.mkdtemp(prefix="agnostic-losses-plots-"))
    plots.main(["--out", str(out)])
    for path in sorted(out.iterdir()):
        files.append(File.generated(config, f"plots/{path.name}", abs_src_path=str(path)))
    for slug in FAMILIES:
        files.append(File.generated(config, f"losses/{slug}.md", content=family_page(slug, plots)))
    files.append(File.generated(config, "conformance.md", content=conformance_page()))
    files.append(File.generated(config, "speed.md", content=speed_page()))
    return files
