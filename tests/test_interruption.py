"""A run killed in the middle leaves no corrupt cache entry and no results.json; `--resume` then completes it with the
same metrics as a run that was never interrupted."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors import safe_open

from conftest import save_tiny
from test_runner import ROOT, make_notebook

# Four cached activation collections on a tiny model, a pause after each, then results from all of them.
COLLECTS = """\
import time
from pathlib import Path
from helpers.activations import collect_activations
from helpers.models import load_model
from helpers.results import resolve_results_dir, write_results
started = time.time()
model = load_model(model_dir, device="cpu")
sums = []
for i in range(4):
    prompts = [f"the cat sat on a mat {' two' * (i + j)}" for j in range(3)]
    acts = collect_activations(model, prompts, layers=[0, 1], positions=-1, progress=False)["resid_post"]
    sums.append(float(acts.sum()))
    Path(marker).write_text(str(i))  # the test kills the run once this exists
    time.sleep(pause)
folder = resolve_results_dir(results_dir, "collects")
write_results(folder, paper="A test paper", notebook="collects", profile=profile, model="tiny", params={"seed": seed},
              metrics={f"sum_{i}": s for i, s in enumerate(sums)}, paper_reference={}, started=started, device="cpu")
"""
PARAMETERS = "seed = 0\nmodel_dir = ''\nmarker = ''\npause = 0.0\nprofile = 'manual'\nresults_dir = None"


@pytest.fixture
def project(tmp_path):
    nbs = tmp_path / "nbs"
    (nbs / "profiles").mkdir(parents=True)
    make_notebook(nbs / "collects.ipynb", COLLECTS, parameters=PARAMETERS)
    model = save_tiny("llama", tmp_path / "tiny")
    (nbs / "profiles" / "smoke.yaml").write_text(f"collects:\n  model_dir: {model}\n  marker: {tmp_path / 'marker'}\n")
    return nbs, tmp_path


def command(nbs, out, *args):
    return [sys.executable, "-m", "helpers.runner", "run", "--profile", "smoke", "--notebooks-dir", str(nbs),
            "--profiles-dir", str(nbs / "profiles"), "--out", str(out), *args]


def cache_entries_are_valid(cache: Path) -> int:
    "The number of cache entries; every one must parse and carry a key and a checksum."
    from helpers.activations import _tensor_digest
    from safetensors.torch import load_file
    entries = list((cache / "activations").glob("*.safetensors"))
    for entry in entries:
        with safe_open(str(entry), framework="pt") as f: meta = f.metadata()
        assert meta["sha256"] == _tensor_digest(load_file(str(entry))), entry
    return len(entries)


def test_killed_run_resumes_to_the_same_metrics(project):
    nbs, tmp = project
    cache, out = tmp / "cache", tmp / "runs"
    env = {**os.environ, "INTERP_CACHE_DIR": str(cache)}
    marker = tmp / "marker"
    run = subprocess.Popen(command(nbs, out, "-p", "pause=3"), cwd=ROOT, env=env, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while not marker.exists() and run.poll() is None and time.time() < deadline: time.sleep(0.2)
    assert marker.exists(), "the notebook never reached its first cache entry"
    os.killpg(run.pid, signal.SIGKILL)  # the runner and its kernel, mid-run
    run.wait()

    assert not (out / "smoke" / "collects" / "results.json").exists()
    assert 1 <= cache_entries_are_valid(cache) < 4  # some entries written, each complete

    resumed = subprocess.run(command(nbs, out, "--resume"), cwd=ROOT, env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert cache_entries_are_valid(cache) == 4

    fresh = subprocess.run(command(nbs, tmp / "uninterrupted"), cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "INTERP_CACHE_DIR": str(tmp / "other-cache")})
    assert fresh.returncode == 0, fresh.stderr
    metrics = lambda folder: json.loads((folder / "smoke" / "collects" / "results.json").read_text())["metrics"]
    assert metrics(out) == metrics(tmp / "uninterrupted")
