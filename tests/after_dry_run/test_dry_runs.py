"""After `make dry-run`: the paper and gpu profiles ran every notebook on stand-ins, and their results say so; the ndif
profile's dry run (started by conftest.py) sent its notebooks' traces through nnsight's simulation of NDIF."""
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


@pytest.mark.parametrize("profile", ["paper", "gpu", "ndif"])
def test_the_forward_passes_of_the_dry_run_are_those_the_plan_counts(profile, request):
    "The plan's count (helpers.plans) at the dry run's sizes against the passes each notebook ran or read from the cache."
    from helpers.plans import NOTEBOOK_PASSES
    if profile == "ndif": request.getfixturevalue("ndif_dry_run")
    folder = RUNS / f"{profile}-dry"
    if not folder.is_dir(): pytest.skip(f"{folder} is missing: run `make dry-run` first")
    for name in (ndif_notebooks() if profile == "ndif" else NOTEBOOKS):
        results = json.loads((folder / name / "results.json").read_text())
        ran = results["forward_passes"]["sequences"] + results["forward_passes"]["cached_sequences"]
        steps = NOTEBOOK_PASSES[name](results["params"], stand_in_dims(results["params"]))
        fewest, most = sum(s.fewest for s in steps), sum(s.most for s in steps)
        assert fewest <= ran <= most, f"{name}: ran {ran:,} prompts, the plan says {fewest:,} to {most:,}"
        backward = sum(s.most for s in steps if s.backward)
        assert results["forward_passes"]["backward_sequences"] == backward, name


def ndif_notebooks() -> list[str]:
    import yaml
    return sorted(yaml.safe_load((RUNS.parent / "paper_reproductions" / "profiles" / "ndif.yaml").read_text()))


def test_the_ndif_dry_run_sent_every_notebooks_traces_through_the_simulation(ndif_dry_run):
    folder = RUNS / "ndif-dry"
    for name in ndif_notebooks():
        results = json.loads((folder / name / "results.json").read_text())
        assert results["dry_run"] is True and results["profile"] == "ndif" and results["params"]["remote"] == "local", name
        assert results["forward_passes"]["remote_traces"] > 0, f"{name}: no trace took the remote path"
        remote = results["environment"]["remote_models"]  # what ran there, named as the service would name it
        assert results["model"] in {m["name"] for m in remote} and {m["runs_on"] for m in remote} == {"local simulation"}, name
        assert all(len(m["commit"]) == 64 and m["dtype"] == "torch.float32" for m in remote), name
    assert "**A dry run.**" in (folder / "summary.md").read_text()
    assert "Requests to NDIF" in ndif_dry_run  # the real run's plan, printed first


def test_a_simulated_remote_run_gives_the_local_runs_metrics(ndif_dry_run):
    "helix_addition on the same stand-in with the same values: locally in the paper dry run, through the simulation here."
    import numpy as np
    local_file = RUNS / "paper-dry" / "helix_addition" / "results.json"
    if not local_file.exists(): pytest.skip(f"{local_file} is missing: run `make dry-run` first")
    local, far = (json.loads(f.read_text()) for f in (local_file, RUNS / "ndif-dry" / "helix_addition" / "results.json"))
    runner_set = {"remote", "profile", "results_dir"}
    assert {k: v for k, v in local["params"].items() if k not in runner_set} == {k: v for k, v in far["params"].items() if k not in runner_set}
    assert local["forward_passes"]["remote_traces"] == 0 and far["forward_passes"]["remote_traces"] > 0
    assert local["metrics"].keys() == far["metrics"].keys()
    apart = {k: (local["metrics"][k], far["metrics"][k]) for k in local["metrics"]
             if not np.allclose(np.asarray(local["metrics"][k], float), np.asarray(far["metrics"][k], float),
                                rtol=1e-4, atol=1e-6, equal_nan=True)}
    assert not apart, f"metrics that differ between the local and the simulated-remote run: {apart}"
    assert [v["holds"] for v in local["verdicts"]] == [v["holds"] for v in far["verdicts"]]


def test_a_planted_ndif_key_appears_in_no_output(ndif_dry_run):
    from conftest import PLANTED_NDIF_KEY
    assert PLANTED_NDIF_KEY not in ndif_dry_run, "the runner's output shows the NDIF key"
    files = [p for p in (RUNS / "ndif-dry").rglob("*") if p.is_file() and p.suffix in (".ipynb", ".json", ".md", ".csv", ".log", ".txt", ".out", ".err")]
    assert any(p.name == "results.json" for p in files) and any(p.suffix == ".ipynb" for p in files)
    leaked = [str(p.relative_to(RUNS)) for p in files if PLANTED_NDIF_KEY in p.read_text(errors="replace")]
    assert not leaked, f"the NDIF key appears in {leaked}"
