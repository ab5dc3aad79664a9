"""End to end: wall time per notebook of the smoke and cpu profiles through the runner (targets: smoke within 5
minutes in all, cpu within 45). By default both profiles are run here, into a temporary folder, with the project's
cache as it is; `--from-runs DIR` reads the durations that earlier runner outputs recorded instead."""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from common import row

TARGETS_MIN = {"smoke": 5, "cpu": 45}


def durations(out: Path, profile: str) -> dict[str, float]:
    found = {}
    for results in sorted((out / profile).glob("*/results.json")):
        found[results.parent.name] = json.loads(results.read_text())["duration_s"]
    return found


def run(profiles=("smoke", "cpu"), from_runs: Path | None = None) -> list[dict]:
    from helpers.runner import run as run_notebooks
    rows = []
    for profile in profiles:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(from_runs or tmp)
            source = f"recorded in {out / profile}" if from_runs else "run here"
            if not from_runs:
                start = time.perf_counter()
                status = run_notebooks([], profile, out=out, progress=False)
                wall = time.perf_counter() - start
            found = durations(out, profile)
            if not found:
                rows.append(row("end to end", f"{profile} profile", float("nan"), "s", note=f"no results {source}"))
                continue
            for name, seconds in found.items():
                rows.append(row("end to end", f"{profile}: {name}", seconds, "s", note=source))
            total = wall if not from_runs else sum(found.values())
            limit = TARGETS_MIN.get(profile)  # the gpu profile has none
            failed = "" if from_runs or status == 0 else "; a notebook failed"
            rows.append(row("end to end", f"{profile}: all notebooks", total, "s", f"<= {limit} min" if limit else "",
                            total <= limit * 60 if limit else None, note=source + failed))
    return rows


if __name__ == "__main__":
    for r in run(): print(r)
