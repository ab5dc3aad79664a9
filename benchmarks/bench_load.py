"""A busy machine: the smoke profile's SAE training and one smoke notebook, each alone and then beside one CPU-bound
PyTorch process (a float32 matmul loop with torch's default threads and OpenMP settings), every run in its own process
as a user would start it. Target: at most 2.5 times slower beside it. And whether the runner would gain from running
notebooks side by side: two smoke notebooks one after the other (torch's default threads) against two runners at
once (one thread each), on warm caches."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, row

TARGET = 2.5
BUSY = "import torch\na = torch.randn(512, 512)\nwhile True: a = (a @ a).tanh()"
# The smoke profile's SAE recipe (helpers.sae.reproduction_sae): TopK, 2,048 latents, k = 32, batches of 512; on random
# vectors of SmolLM2's width, since the time does not depend on their content.
SAE = """import time, torch
from helpers.sae import SAETraining, train_sae
acts = torch.randn(20_000, 576)
start = time.perf_counter()
train_sae(acts, SAETraining(n_latents=2048, k=32, steps=150, batch_size=512), progress=False)
print(time.perf_counter() - start)"""
NOTEBOOK = "sparse_probing"
PAIR = ("sparse_probing", "switch_sae")


def _busy() -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")}  # a process of its own kind
    return subprocess.Popen([sys.executable, "-c", BUSY], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _sae_seconds() -> float:
    done = subprocess.run([sys.executable, "-c", SAE], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(done.stdout.split()[-1])


def _runner(names, cache: Path, out: Path, **env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "helpers.runner", "run", *names, "--profile", "smoke", "--out", str(out)],
                            cwd=ROOT, env={**os.environ, "INTERP_CACHE_DIR": str(cache), **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait(*runs: subprocess.Popen) -> None:
    for done in runs:
        _, err = done.communicate()
        if done.returncode: raise RuntimeError(f"runner failed (exit {done.returncode}): {err.strip().splitlines()[-1:]}")


def _notebook_seconds(cache: Path, out: Path, names=(NOTEBOOK,)) -> float:
    start = time.perf_counter()
    _wait(_runner(names, cache, out))
    return time.perf_counter() - start


def _side_by_side_seconds(cache: Path, out: Path) -> float:
    start = time.perf_counter()
    _wait(*[_runner([name], cache, out / name, OMP_NUM_THREADS="1") for name in PAIR])
    return time.perf_counter() - start


def beside_busy(measure, repeats: int = 1):
    "(alone, beside a busy process) seconds of `measure()`, each the median of `repeats` runs, and the loaded runs' range."
    alone = statistics.median(measure() for _ in range(repeats))
    busy = _busy()
    try:
        time.sleep(2)
        loaded = [measure() for _ in range(repeats)]
    finally: busy.kill(); busy.wait()
    return alone, statistics.median(loaded), (min(loaded), max(loaded))


def run() -> list[dict]:
    rows = []
    # A few seconds beside a spinning process vary from run to run: the median of five of each.
    alone, loaded, (low, high) = beside_busy(_sae_seconds, repeats=5)
    rows.append(row("busy machine", "SAE training: beside a busy process / alone", loaded / alone, "x", f"<= {TARGET}",
                    loaded / alone <= TARGET, note=f"{alone:.1f} s -> {loaded:.1f} s (median of 5; {low / alone:.2f}x to "
                                                   f"{high / alone:.2f}x), 150 steps of 512"))
    with tempfile.TemporaryDirectory() as tmp:
        cache, out = Path(tmp) / "cache", Path(tmp) / "runs"
        _notebook_seconds(cache, out)  # fills the cache: both timed runs start warm
        alone, loaded, _ = beside_busy(lambda: _notebook_seconds(cache, out))
        _notebook_seconds(cache, out, PAIR)  # the second notebook's caches as well
        after = _notebook_seconds(cache, out, PAIR)
        beside = _side_by_side_seconds(cache, out)
    rows.append(row("busy machine", f"smoke {NOTEBOOK}: beside a busy process / alone", loaded / alone, "x", f"<= {TARGET}",
                    loaded / alone <= TARGET, note=f"{alone:.0f} s -> {loaded:.0f} s, warm cache"))
    rows.append(row("busy machine", f"smoke {' and '.join(PAIR)}: side by side / one after the other", beside / after, "x",
                    note=f"{after:.0f} s one after the other, {beside:.0f} s side by side (one thread each), warm caches; "
                         "the runner runs notebooks one at a time unless this is well below 1"))
    return rows


if __name__ == "__main__":
    for r in run(): print(r)
