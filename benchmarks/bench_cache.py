"""Cache: a reproduction notebook run twice through the runner, first with an empty activation cache, then with the
cache the first run wrote (target: the activation-heavy cells at least 10 times faster). Models and SAEs come from the
project's cache in both runs, so only activation caching differs. Smoke profile."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from common import ROOT, row

NOTEBOOKS = ("helix_addition", "sparse_probing")


def cell_seconds(executed: Path) -> tuple[float, float]:
    "(all cells, cells that collect activations) in seconds, from papermill's per-cell timings."
    cells = [c for c in json.loads(executed.read_text())["cells"] if c["cell_type"] == "code"]
    duration = lambda c: c["metadata"].get("papermill", {}).get("duration") or 0.0
    heavy = [c for c in cells if "collect_activations(" in "".join(c["source"])]
    return sum(map(duration, cells)), sum(map(duration, heavy))


def run() -> list[dict]:
    from helpers.core import cache_dir
    from helpers.runner import run as run_notebooks
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp, "cache")
        cache.mkdir()
        for shared in ("models", "saes"): os.symlink(cache_dir(shared), cache / shared)
        previous = os.environ.get("INTERP_CACHE_DIR")
        os.environ["INTERP_CACHE_DIR"] = str(cache)  # inherited by the notebooks' kernels
        try:
            timings = {}
            for attempt in ("cold", "warm"):
                out = Path(tmp, attempt)
                if run_notebooks(list(NOTEBOOKS), "smoke", out=out, progress=False) != 0:
                    raise RuntimeError(f"the {attempt} run failed: see {out}")
                timings[attempt] = {n: cell_seconds(out / "smoke" / f"{n}.ipynb") for n in NOTEBOOKS}
        finally:
            if previous is None: os.environ.pop("INTERP_CACHE_DIR")
            else: os.environ["INTERP_CACHE_DIR"] = previous
    for name in NOTEBOOKS:
        (cold_all, cold_heavy), (warm_all, warm_heavy) = timings["cold"][name], timings["warm"][name]
        ratio = cold_heavy / warm_heavy
        rows.append(row("cache", f"{name}: activation cells, cold / warm", ratio, "x", ">= 10", ratio >= 10,
                        note=f"{cold_heavy:.1f} s -> {warm_heavy:.1f} s"))
        rows.append(row("cache", f"{name}: whole notebook, cold / warm", cold_all / warm_all, "x",
                        note=f"{cold_all:.1f} s -> {warm_all:.1f} s (cells only)"))
    return rows


if __name__ == "__main__":
    for r in run(): print(r)
