"""After `make dry-run`: the paper and gpu profiles ran every notebook on stand-ins, and their results say so."""
import json
from pathlib import Path

import pytest

RUNS = Path(__file__).resolve().parents[2] / "runs"
NOTEBOOKS = sorted(p.stem for p in (RUNS.parent / "paper_reproductions").glob("*.ipynb"))


@pytest.mark.parametrize("profile", ["paper", "gpu"])
def test_every_notebook_of_the_dry_run_finished_and_is_marked(profile):
    folder = RUNS / f"{profile}-dry"
    if not folder.is_dir(): pytest.skip(f"{folder} is missing: run `make dry-run` first")
    for name in NOTEBOOKS:
        results = json.loads((folder / name / "results.json").read_text())
        assert results["dry_run"] is True and results["profile"] == profile, name
        assert results["params"].get("device") == "cpu", name
    summary = (folder / "summary.md").read_text()
    assert "**A dry run.**" in summary and "failed" not in summary


def stand_in_dims(params: dict):
    "name -> Dims of the model a dry run loads: a stand-in of a hub model (helpers.stand_ins), or the toy itself."
    from helpers.model_configs import MODEL_CONFIGS, stand_in_config
    from helpers.plans import config_dims, model_dims
    from helpers.stand_ins import STAND_IN_LAYERS, STAND_IN_WIDTH
    def dims(name):
        if name in MODEL_CONFIGS: return config_dims(stand_in_config(name, 1000, STAND_IN_LAYERS, STAND_IN_WIDTH), 4, 1)
        return model_dims(name, "cpu", **((params.get("toy_overrides") or {}) if name == params["model_name"] else {}))
    return dims


@pytest.mark.parametrize("profile", ["paper", "gpu"])
def test_the_forward_passes_of_the_dry_run_are_those_the_plan_counts(profile):
    "The plan's count (helpers.plans) at the dry run's sizes against the passes each notebook ran or read from the cache."
    from helpers.plans import NOTEBOOK_PASSES
    folder = RUNS / f"{profile}-dry"
    if not folder.is_dir(): pytest.skip(f"{folder} is missing: run `make dry-run` first")
    for name in NOTEBOOKS:
        results = json.loads((folder / name / "results.json").read_text())
        ran = results["forward_passes"]["sequences"] + results["forward_passes"]["cached_sequences"]
        steps = NOTEBOOK_PASSES[name](results["params"], stand_in_dims(results["params"]))
        fewest, most = sum(s.fewest for s in steps), sum(s.most for s in steps)
        assert fewest <= ran <= most, f"{name}: ran {ran:,} prompts, the plan says {fewest:,} to {most:,}"
        backward = sum(s.most for s in steps if s.backward)
        assert results["forward_passes"]["backward_sequences"] == backward, name
