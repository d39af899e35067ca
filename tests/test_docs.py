"""The documentation's figures: one per public loss and metric, computed by the library on NumPy, torch
and JAX, which must agree before a figure is drawn (docs/plots.py)."""

from __future__ import annotations

import importlib.util
import os
import inspect
import sys
from pathlib import Path

import pytest

from helpers import need

ROOT = Path(__file__).resolve().parents[1]


def _plots():
    spec = importlib.util.spec_from_file_location("docs_plots", ROOT / "docs" / "plots.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def test_every_public_loss_and_metric_has_a_figure():
    import agnostic_losses as al

    plots = _plots()
    tools = {"generic_primitives", "value_checks", "loss"}
    functions = {n for n in al.__all__ if n[0].islower() and n not in tools and inspect.isfunction(getattr(al, n))}
    functions |= {f"metrics.{n}" for n in al.metrics.__all__}
    drawn = [s.name for s in plots.SPECS]
    assert len(drawn) == len(set(drawn)), "a loss is drawn twice"
    assert functions == set(drawn), (sorted(functions - set(drawn)), sorted(set(drawn) - functions))


@pytest.mark.slow
def test_figures_are_drawn_where_numpy_torch_and_jax_agree(tmp_path):
    need("torch")
    need("jax")
    need("matplotlib")
    plots = _plots()
    assert plots.main(["--out", str(tmp_path)]) == 0
    files = sorted(tmp_path.iterdir())
    assert len(files) == len(plots.SPECS)
    assert all(f.stat().st_size > 5000 and f.read_text().lstrip().startswith("<?xml") for f in files)


def test_a_disagreement_between_backends_stops_the_figure(monkeypatch):
    """l1_loss with JAX's own |d|'(0) = 1 at the kink, where torch's is 0: no figure."""
    need("torch")
    need("jax")
    import numpy as np

    plots = _plots()
    spec = plots.Plot("l1_loss", {"input": np.zeros(1), "target": np.zeros(1)}, "input", (0,), -1, 1, "input")
    assert [c[0] for c in plots.curves(spec)] == [""]
    right = plots._jax_curve

    def jnp_abs_convention(spec, curve, xs):
        values, grads = right(spec, curve, xs)
        return values, np.where(xs == 0, 1.0, grads)

    monkeypatch.setattr(plots, "_jax_curve", jnp_abs_convention)
    with pytest.raises(AssertionError, match="l1_loss: gradient, JAX vs torch: the backends disagree at point 80"):
        plots.curves(spec)


@pytest.mark.slow
def test_the_site_builds_with_warnings_as_errors(tmp_path):
    """mkdocs build --strict: a broken link, a docstring mkdocstrings cannot read or a figure whose backends
    disagree fails it; every family page holds each of its losses' docstring and figure."""
    need("mkdocs")
    need("mkdocstrings")
    need("torch")
    need("jax")
    import subprocess

    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)], cwd=ROOT,
                          capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    plots = _plots()
    for spec in plots.SPECS:
        page = next(p for p in (site / "losses").glob("*/index.html")
                    if f'id="agnostic_losses.{spec.name}"' in p.read_text())
        html = page.read_text()
        assert f"../../plots/{plots.file_name(spec.name)}" in html, (spec.name, page)
        assert (site / "plots" / plots.file_name(spec.name)).stat().st_size > 5000
    for generated, text in (("conformance", "cases passed"), ("speed", "Against the project")):
        html = (site / generated / "index.html").read_text()
        assert text in html and len(html) > 20000, generated


def _documented_arguments(doc: str) -> list:
    """The names of a google-style ``Args:`` section."""
    section = doc.split("\nArgs:\n", 1)[1]
    names = []
    for line in section.split("\n"):
        if line and not line.startswith(" "):
            break  # the section ends at the next unindented paragraph
        if line.startswith("    ") and not line.startswith("     ") and ":" in line:
            names.append(line.strip().split(":", 1)[0])
    return names


def test_an_args_section_names_the_signatures_arguments():
    """Every public function's docstring has an ``Args:`` section, which names exactly the function's parameters
    (``agnostic_losses._docs.with_args`` writes the shared ones once)."""
    import agnostic_losses as al

    functions = [getattr(al, n) for n in al.__all__ if inspect.isfunction(getattr(al, n))]
    functions += [getattr(al.metrics, n) for n in al.metrics.__all__]
    checked = 0
    for fn in functions:
        doc = inspect.getdoc(fn) or ""
        assert "\nArgs:\n" in doc, f"{fn.__name__}: no Args section"
        assert _documented_arguments(doc) == list(inspect.signature(fn).parameters), fn.__name__
        checked += 1
    assert checked >= 65


def _own_section(a, b):
    """A function with a section of its own.

    Args:
        a: its own a, on
            two lines.

    Examples:
        >>> 1
        1
    """


def test_with_args_writes_one_entry_per_parameter_and_refuses_strays():
    from agnostic_losses._docs import with_args

    doc = with_args({"a": "shared a.", "b": "shared b."})(_own_section).__doc__
    assert doc.count("Args:") == 1
    assert "    Args:\n        a: its own a, on two lines.\n        b: shared b.\n\n    Examples:\n" in doc
    with pytest.raises(TypeError, match=r"parameters without one \['b'\]"):
        with_args({"a": "x"})(lambda a, b: None)
    with pytest.raises(TypeError, match=r"entries for no parameter \['c'\]"):
        with_args({"a": "x", "b": "y"}, c="z")(lambda a, b: None)
