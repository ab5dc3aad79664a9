"""Tests that compare a second smoke run with the first one (`make smoke`, in runs/smoke/), run by `make test` after it
(`pytest --confcutdir tests/after_smoke tests/after_smoke`: the per-test cache of tests/conftest.py must not apply).

The second run goes through the local executor, two notebooks at a time, each a process of its own (submitit): the
serial first run and these jobs must give the same metrics. It re-executes every notebook with the first run's caches (models, SAEs, activations, stand-ins: each entry
keyed by everything that determines it and checked by its checksum, see tests/test_cache_integrity.py), so it re-runs
what can differ between two runs: the notebooks' own computations (fits, patching, probes, interventions, verdicts).
That a cold cache gives the same numbers as a warm one is checked where the caches are made (nbs/07_activations,
tests/test_cache_integrity.py), and two fresh clones with separate caches by `make test-slow`
(tests/test_fresh_caches.py). Its environment carries a fake Hugging Face token."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRST = ROOT / "runs" / "smoke"
FAKE_TOKEN = "hf_FAKEtokenForTheLeakTest0123456789abcdef"


def results(folder: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in sorted(folder.glob("*/results.json"))}


@pytest.fixture(scope="session")
def fake_token():
    return FAKE_TOKEN


@pytest.fixture(scope="session")
def first_run():
    found = results(FIRST)
    if not found: pytest.skip(f"no smoke run in {FIRST}: run `make smoke` first (make test does)")
    return found


@pytest.fixture(scope="session")
def second_run(first_run, tmp_path_factory):
    "(results by notebook, the output folder, the runner's log) of a second smoke run of the same notebooks."
    from helpers.core import cache_dir
    tmp = tmp_path_factory.mktemp("second")
    env = {**os.environ, "INTERP_CACHE_DIR": str(cache_dir()), "HF_TOKEN": FAKE_TOKEN, "HUGGING_FACE_HUB_TOKEN": FAKE_TOKEN}
    done = subprocess.run([sys.executable, "-m", "helpers.runner", "run", *first_run, "--profile", "smoke",
                           "--out", str(tmp / "runs"), "--log-output",
                           "--executor", "local", "--jobs", "2"], cwd=ROOT, env=env, capture_output=True, text=True)
    log = done.stdout + done.stderr
    (tmp / "runner.log").write_text(log)
    assert done.returncode == 0, log[-3000:]
    return results(tmp / "runs" / "smoke"), tmp / "runs" / "smoke", log
