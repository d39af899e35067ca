"""The README is a front page whose every Python snippet runs, whose test command is .ci/run's, and whose
conformance figures are the committed report's."""

from __future__ import annotations

import json
import re
from pathlib import Path

from helpers import need

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_the_readme_is_a_front_page():
    assert len(README.splitlines()) <= 200
    for link in re.findall(r"\]\(([^)#]+)\)", README):
        assert link.startswith("https://") or (ROOT / link).exists(), link


def test_every_python_snippet_runs_in_order():
    need("torch")
    need("jax")
    snippets = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert len(snippets) >= 2
    namespace: dict = {}
    for code in snippets:
        exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 (the README's own code)
    import torch

    assert namespace["xt"].grad is not None and torch.allclose(namespace["xt"].grad, torch.tensor([1 / 3, 4 / 3, -2 / 3],
                                                                                                   dtype=torch.float64))


def test_the_second_command_is_what_ci_runs():
    commands = re.findall(r"^(python3 -m venv .*)$", README, flags=re.M)
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    steps = " && ".join(line for line in ci if line and not line.startswith(("#", "set ", "cd ")))
    assert steps.replace("python -m pip install -q --upgrade pip && ", "").replace(" -q", "") == commands[1], (
        steps, commands[1])


def test_the_conformance_figures_are_the_committed_report():
    data = json.loads((ROOT / "conformance" / "results" / "cpu.json").read_text())
    per_backend = {}
    for row in data["summary"]:
        per_backend[row["backend"]] = per_backend.get(row["backend"], 0) + row["passed"]
    total = sum(row["total"] for row in data["summary"])
    assert f"**{sum(per_backend.values())} of {total} cases passed**" in README
    names = {"numpy": "NumPy", "array_api_strict": "array-api-strict", "torch": "torch", "jax": "JAX", "dask": "Dask"}
    for backend, passed in per_backend.items():
        assert f"{names[backend]} {passed}" in README, backend


def test_the_gpu_figures_are_the_committed_gpu_report():
    data = json.loads((ROOT / "conformance" / "results" / "gpu.json").read_text())
    env = data["environment"]
    per_backend = {}
    for row in data["summary"]:
        assert row["passed"] == row["total"], row
        per_backend[row["backend"]] = per_backend.get(row["backend"], 0) + row["passed"]
    model = env["gpu"].split()[1]  # "NVIDIA H100 80GB HBM3, driver ..." -> "H100"
    assert f"On an NVIDIA {model} ({env['date'][5:]}," in README
    names = {"torch": "torch CUDA", "jax": "JAX GPU", "cupy": "CuPy"}
    for backend, passed in per_backend.items():
        assert f"{names[backend]} {passed}" in README, backend
