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
