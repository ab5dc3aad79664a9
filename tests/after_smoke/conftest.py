"""Tests that compare a second smoke run with the first one (`make smoke`, in runs/smoke/), run by `make test` after it
(`pytest --confcutdir tests/after_smoke tests/after_smoke`: the per-test cache of tests/conftest.py must not apply).

The second run gets a fresh activation cache (models and SAEs are shared, they are inputs, not results) and a fake
Hugging Face token in its environment."""
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
    cache = tmp / "cache"
    cache.mkdir()
    for shared in ("models", "saes"): os.symlink(cache_dir(shared), cache / shared)
    env = {**os.environ, "INTERP_CACHE_DIR": str(cache), "HF_TOKEN": FAKE_TOKEN, "HUGGING_FACE_HUB_TOKEN": FAKE_TOKEN}
    done = subprocess.run([sys.executable, "-m", "helpers.runner", "run", *first_run, "--profile", "smoke",
                           "--out", str(tmp / "runs"), "--log-output"], cwd=ROOT, env=env, capture_output=True, text=True)
    log = done.stdout + done.stderr
    (tmp / "runner.log").write_text(log)
    assert done.returncode == 0, log[-3000:]
    return results(tmp / "runs" / "smoke"), tmp / "runs" / "smoke", log
