"""What a user waits for, each on a fresh cache directory (`INTERP_CACHE_DIR`) made here: `make reproduce`'s command
from an empty cache (preparation and notebooks timed apart), the same command again with `--resume`, one notebook
re-run on the warm cache with one changed parameter that no cache depends on, and `make test` in a fresh clone (its
own virtual environment, installed first and timed apart) with a cold cache, stage by stage. Targets on 2 cores: 35 minutes, 2
minutes for the changed parameter, 25 minutes for `make test`."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, machine, row

TARGETS_MIN = {"reproduce": 35, "changed": 2, "test": 25}
# switch_sae's timing_tokens sets how many tokens the wall-clock measure runs: no cached model, activation or SAE
# depends on it, so the re-run finds every cache warm and redoes only the notebook's own analysis.
TIME = r"(?:\d\d:\d\d:\d\d )?"  # the runner dates its lines when they go to a log
CHANGED = ("switch_sae", "timing_tokens=2048")


def _timed(cmd: list[str], cache: Path, cwd: Path = ROOT) -> tuple[float, subprocess.CompletedProcess]:
    env = {**os.environ, "INTERP_CACHE_DIR": str(cache)}
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, done


def _runner(args: list[str], cache: Path, out: Path):
    return _timed([sys.executable, "-m", "helpers.runner", *args, "--out", str(out)], cache)


def _size_mib(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2 ** 20


def _status(done: subprocess.CompletedProcess) -> str:
    return "" if done.returncode == 0 else f"; failed (exit {done.returncode}): {done.stderr.strip().splitlines()[-1:]}"


def _each(stderr: str, prefix: str = "") -> str:
    "The runner's per-notebook times, from its lines `<prefix><name>: ok in 12.3 s`."
    return ", ".join(f"{name} {float(seconds):.0f} s" for name, seconds in
                     re.findall(rf"^{TIME}{prefix}(\w+): \w+ in ([\d.]+) s", stderr, re.M))


def reproduce_rows(profile: str = "cpu") -> list[dict]:
    "The rows of `make reproduce`'s command; its results stay in benchmarks/results/tmp/first-run/<profile>, for `runner compare`."
    rows, out = [], ROOT / "benchmarks" / "results" / "tmp" / "first-run"
    shutil.rmtree(out / profile, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        total, done = _runner(["run", "--profile", profile, "--prepare"], cache, out)
        (out / f"{profile}.log").write_text(done.stdout + done.stderr)
        found = re.search(rf"^{TIME}preparation: (\d+) s", done.stderr, re.M)
        prepared = float(found.group(1)) if found else float("nan")
        limit = TARGETS_MIN["reproduce"] if profile == "cpu" else None
        rows += [row("first run", f"{profile}: fresh cache, preparation and notebooks", total, "s",
                     f"<= {limit} min" if limit else "", total <= limit * 60 if limit else None, note=_status(done).lstrip("; ")),
                 row("first run", f"{profile}: of which preparation", prepared, "s",
                     note=f"{_each(done.stderr, 'preparation of ')}; cache afterwards: {_size_mib(cache):,.0f} MiB"),
                 row("first run", f"{profile}: of which notebooks", total - prepared, "s", note=_each(done.stderr))]
        again, done = _runner(["run", "--profile", profile, "--prepare", "--resume"], cache, out)
        rows.append(row("first run", f"{profile}: the same again with --resume", again, "s", note=_status(done).lstrip("; ")))
        name, change = CHANGED
        changed, done = _runner(["run", name, "--profile", profile, "-p", change], cache, Path(tmp) / "changed")
        limit = TARGETS_MIN["changed"]
        rows.append(row("first run", f"{profile}: {name} again with {change}", changed, "s", f"<= {limit} min",
                        changed <= limit * 60, note="warm caches" + _status(done)))
    return rows


def _stage_times(output: str) -> list[tuple[str, float]]:
    "(stage, seconds) from make test's own lines `=== make test: <stage> done in <n> s`."
    return [(stage, float(seconds)) for stage, seconds in re.findall(r"^=== make test: (\S+) done in (\d+) s", output, re.M)]


def test_rows() -> list[dict]:
    "make install, then make test as a user runs it, in a fresh clone with a cold cache; its stages from its own lines."
    with tempfile.TemporaryDirectory() as tmp:
        clone, cache = Path(tmp) / "project", Path(tmp) / "cache"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        shared = ROOT.parent / "shared"
        if shared.exists(): (Path(tmp) / "shared").symlink_to(shared)  # the fixtures, where a checkout finds them
        installed, done = _timed(["make", "install"], cache, clone)
        rows = [row("make test", "make install in a fresh clone", installed, "s", note=_status(done).lstrip("; "))]
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True, text=True).stdout.strip()
        tested, done = _timed(["make", "test"], cache, clone)
        (ROOT / "benchmarks" / "results" / "tmp").mkdir(parents=True, exist_ok=True)
        (ROOT / "benchmarks" / "results" / "tmp" / "make-test.log").write_text(done.stdout + done.stderr)
        stages = [row("make test", f"of which {stage}", seconds, "s") for stage, seconds in _stage_times(done.stdout)]
        limit = TARGETS_MIN["test"]
        rows.append(row("make test", "fresh clone, cold cache", tested, "s", f"<= {limit} min", tested <= limit * 60,
                        note=f"HEAD {head}, {machine()['cpu']}" + _status(done)))
        shutil.rmtree(clone, ignore_errors=True)
    return rows + stages


def run(profile: str = "cpu") -> list[dict]:
    return reproduce_rows(profile)


if __name__ == "__main__":
    for r in run(*sys.argv[1:2]) + test_rows(): print(r)
