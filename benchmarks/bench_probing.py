"""Probing: seconds per dataset for each of the five baselines and for the SAE probes (normal setting, the paper's
grids and CV rule), and the speed-up of probing datasets in parallel with joblib against one after the other.
SmolLM2-135M block 15, the reproductions' SAE, four short-prompt datasets of 600 rows each."""
from __future__ import annotations

import time

import numpy as np
import torch
from joblib import Parallel, delayed

from common import row

DATASETS = ("5_hist_fig_ismale", "87_glue_cola", "92_glue_sst2", "22_headline_isobama")
ROWS, LAYER, KS, N_XGBOOST = 600, 15, (1, 4, 16, 64, 128, 512), 5
METHODS = ("logreg", "pca", "knn", "xgboost", "mlp")


def features() -> dict:
    from helpers.activations import collect_activations
    from helpers.models import load_model
    from helpers.probes import load_binary
    from helpers.sae import reproduction_sae
    model = load_model("smollm2-135m", device="cpu")
    sae, _ = reproduction_sae(layer=LAYER, progress=False)
    data = {}
    for name in DATASETS:
        prompts, y = load_binary(name)
        X = collect_activations(model, prompts[:ROWS], layers=LAYER, positions=-1, max_length=128,
                                progress=False)["resid_post"][:, 0, 0]
        with torch.no_grad(): Z = sae.encode(X)
        data[name] = (X.numpy(), Z.numpy(), y[:ROWS])
    return data


def probe(X, Z, y, methods=METHODS, sae: bool = True) -> dict:
    "Seconds per method on the normal split of one dataset."
    from helpers.probes import normal_num_train, run_baselines, run_sae_probes, split_indices
    train, test = split_indices(y, normal_num_train(len(y)))
    seconds = {}
    for method in methods:
        start = time.perf_counter()
        run_baselines(X[train], y[train], X[test], y[test], methods=(method,), n_xgboost=N_XGBOOST)
        seconds[method] = time.perf_counter() - start
    if sae:
        start = time.perf_counter()
        run_sae_probes(Z[train], y[train], Z[test], y[test], ks=KS)
        seconds["sae probes"] = time.perf_counter() - start
    return seconds


def run(n_jobs: int = 2) -> list[dict]:
    data = features()
    sequential_start = time.perf_counter()
    per_dataset = [probe(*d) for d in data.values()]
    sequential = time.perf_counter() - sequential_start
    parallel_start = time.perf_counter()
    Parallel(n_jobs=n_jobs)(delayed(probe)(*d) for d in data.values())
    parallel = time.perf_counter() - parallel_start
    rows = [row("probing", f"{method} per dataset", float(np.mean([s[method] for s in per_dataset])), "s",
                note=f"mean of {len(data)} datasets, {ROWS} rows" + (f", k in {KS}" if method == "sae probes" else ""))
            for method in (*METHODS, "sae probes")]
    rows.append(row("probing", f"parallel speed-up ({n_jobs} jobs)", sequential / parallel, "x",
                    note=f"{len(data)} datasets: {sequential:.0f} s one after the other, {parallel:.0f} s in parallel"))
    return rows


if __name__ == "__main__":
    for r in run(): print(r)
