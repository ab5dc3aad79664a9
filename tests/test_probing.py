"""Sparse probing: the analysis against the authors' own result files, the splits, the CV rule and the latent ranking."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers.probes import (SCARCITY_SIZES, binary_datasets, cv_splits, flip_labels, load_binary, normal_num_train,
                            rank_latents, run_sae_probes, split_indices)
from helpers.probing_analysis import (bar_pairs, load_paper_results, mean_auc, ood_table, paper_quiver, paper_sae_candidates, quiver,
                                      regime_quivers)

FIXTURE = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "sae-probes-paper-results"
needs_fixture = pytest.mark.skipif(not FIXTURE.exists(), reason=f"the authors' result files are not at {FIXTURE}")


@needs_fixture
def test_paper_mean_auc_per_baseline():
    means = mean_auc(load_paper_results(FIXTURE, "gemma-2-9b", 20)["baseline_normal"]).round(4)
    assert means.to_dict() == {"logreg": 0.9414, "mlp": 0.9366, "xgboost": 0.9329, "pca": 0.9269, "knn": 0.8872}


@needs_fixture
def test_paper_quiver_normal_setting():
    q = paper_quiver(FIXTURE, "gemma-2-9b", 20)
    assert (q["sae_chosen"], q["n"]) == (14, 113)
    assert round(q["delta_mean"], 4) == -0.0031 and round(q["delta_se"], 4) == 0.0015


@needs_fixture
def test_tie_rule_changes_the_count():
    # Letting SAE probes win ties can only choose them more often.
    assert paper_quiver(FIXTURE, "gemma-2-9b", 20, tie="sae")["sae_chosen"] >= 14


# papers.md §3.5, Fig 1 (mean test AUC, logistic regression vs the 16k SAE probe); these files hold the post-rebuttal
# latent ranking, so the SAE bars are the "new ranking" values where papers.md gives two.
FIG1 = {"normal": (0.941, 0.921), "scarcity": (0.836, 0.808), "imbalance": (0.929, 0.904), "noise": (0.828, 0.803),
        "ood": (0.826, 0.723)}
OOD = {"66_living-room": (0.889, 0.727), "87_glue_cola": (0.791, 0.694), "73_control-group": (0.871, 0.637),
       "7_hist_fig_ispolitician": (0.635, 0.589), "90_glue_qnli": (0.646, 0.477), "6_hist_fig_isamerican": (0.919, 0.920),
       "67_social-security": (0.935, 0.761), "5_hist_fig_ismale": (0.925, 0.979)}


@needs_fixture
@pytest.mark.parametrize("regime", [r for r in FIG1 if r != "imbalance"])
def test_fig1_bar_pairs(regime):
    bars = bar_pairs(load_paper_results(FIXTURE, "gemma-2-9b", 20))
    assert bars.loc[regime].tolist() == pytest.approx(FIG1[regime], abs=0.002)


@needs_fixture
def test_fig1_imbalance_logreg_bar():
    bars = bar_pairs(load_paper_results(FIXTURE, "gemma-2-9b", 20)).loc["imbalance"]
    assert bars.logreg == pytest.approx(FIG1["imbalance"][0], abs=0.002)


@needs_fixture
@pytest.mark.xfail(strict=True, reason="the stated definition gives 0.907 on these files, not papers.md's 0.904 (nor its "
                   "pre-rebuttal 0.899); the notebook shows the difference")
def test_fig1_imbalance_sae_bar():
    bars = bar_pairs(load_paper_results(FIXTURE, "gemma-2-9b", 20)).loc["imbalance"]
    assert bars.sae == pytest.approx(FIG1["imbalance"][1], abs=0.002)


@needs_fixture
def test_ood_table_per_dataset():
    table = ood_table(load_paper_results(FIXTURE, "gemma-2-9b", 20))
    assert set(table.index) == set(OOD)
    for name, (baseline, sae) in OOD.items():
        assert (table.test_auc_baseline[name], table.test_auc_sae[name]) == pytest.approx((baseline, sae), abs=0.002)


@needs_fixture
def test_scarcity_quiver_per_size_and_tie_rule():
    paper = load_paper_results(FIXTURE, "gemma-2-9b", 20)
    pool = paper_sae_candidates(paper["sae_scarcity"])
    first = regime_quivers(paper["baseline_scarcity"], pool, "scarcity").set_index("num_train")
    sae_first = regime_quivers(paper["baseline_scarcity"], pool, "scarcity", tie="sae").set_index("num_train")
    assert list(first.index) == [2, 3, 4, 5, 7, 10, 14, 20, 28, 38, 53, 74, 103, 143, 198, 275, 382, 531, 737, 1024]
    assert first.n[10] == 113
    # Without CV (n <= 3) every probe's "validation AUC" is its training AUC, 1.0: the tie rule alone decides (§3.4).
    assert (first.sae_chosen[2], sae_first.sae_chosen[2]) == (0, 113)
    assert (sae_first.sae_chosen >= first.sae_chosen).all()
    # With baselines first, the side without SAE probes is the best-by-validation baseline at n = 10.
    rows = paper["baseline_scarcity"][paper["baseline_scarcity"].num_train == 10]
    best = rows.loc[rows.groupby("dataset", sort=False).val_auc.idxmax()].test_auc.mean()
    assert first.auc_baselines[10] == pytest.approx(best, abs=1e-9)


def test_llama_layout(tmp_path):
    # Llama-3.1-8B: one baseline file per layer, and every layer's SAE probes in one all_metrics.csv.
    base_dir = tmp_path / "results" / "baseline_probes_llama-3.1-8b" / "normal_settings"
    sae_dir = tmp_path / "results" / "sae_probes_llama-3.1-8b" / "normal_setting"
    base_dir.mkdir(parents=True); sae_dir.mkdir(parents=True)
    for layer, auc in (("8", 0.7), ("16", 0.9), ("24", 0.8), ("31", 0.75), ("embed", 0.6)):
        pd.DataFrame({"dataset": ["a", "a", "b"], "method": ["logreg", "pca", "logreg"], "test_f1": 0.5, "test_acc": 0.5,
                      "test_auc": [auc, auc - 0.1, auc], "val_auc": [0.9, 0.8, 0.9]}).to_csv(base_dir / f"layer{layer}_results.csv", index=False)
    pd.DataFrame({"test_f1": 0.5, "test_acc": 0.5, "test_auc": [0.95, 0.85, 0.5], "val_auc": [0.95, 0.85, 0.99], "k": [16, 16, 16],
                  "dataset": ["a", "b", "a"], "layer": [16, 16, 8], "sae_id": ["l16r_32x", "l16r_32x", "l8r_32x"],
                  "reg_type": "l1"}).to_csv(sae_dir / "all_metrics.csv", index=False)
    results = load_paper_results(tmp_path, "llama-3.1-8b", 16)
    assert results["baseline_normal"].test_auc.max() == 0.9  # layer 16's file only
    assert results["sae_normal"].sae_id.unique().tolist() == ["l16r_32x"]  # layer 8's row left out
    q = paper_quiver(tmp_path, "llama-3.1-8b", 16)
    assert (q["sae_chosen"], q["n"]) == (1, 2) and q["delta_mean"] == pytest.approx(0.025)
    with pytest.raises(ValueError, match="layer 12"):
        load_paper_results(tmp_path, "llama-3.1-8b", 12)


def test_unknown_model_in_results_folder(tmp_path):
    (tmp_path / "results" / "baseline_probes_some-model").mkdir(parents=True)
    with pytest.raises(ValueError, match="some-model"):
        load_paper_results(tmp_path, "gemma-2-9b")


def test_master_list_and_labels():
    names = binary_datasets()
    assert len(names) == 113 and len(set(names)) == 113
    prompts, y = load_binary("65_high-school")  # 'bigram' -> 0, 'not_bigram' -> 1
    assert set(y) == {0, 1} and len(prompts) == len(y) == 3200


@pytest.mark.parametrize("num_train,ratio", [(1024, 0.5), (10, 0.5), (2, 0.5), (500, 0.05), (500, 0.95)])
def test_splits(num_train, ratio):
    y = np.array([0, 1] * 1500)
    train, test = split_indices(y, num_train, pos_ratio=ratio, seed=42)
    assert len(train) == num_train and len(np.intersect1d(train, test)) == 0
    assert abs(y[train].mean() - ratio) <= 1 / num_train
    assert abs(y[test].mean() - ratio) < 0.01
    again, _ = split_indices(y, num_train, pos_ratio=ratio, seed=42)
    assert np.array_equal(train, again)
    assert not np.array_equal(train, split_indices(y, num_train, pos_ratio=ratio, seed=7)[0]) or num_train >= 1024


def test_normal_split_sizes_and_row_cap():
    assert normal_num_train(728) == 628 and normal_num_train(20_000) == 1024
    y = np.array([0, 1] * 4000)
    train, test = split_indices(y, 1024)
    assert max(train.max(), test.max()) < 5000 and len(test) == 5000 - 1024


def test_flip_labels_fraction_and_seed():
    y = np.zeros(1000, int)
    assert flip_labels(y, 0.3).sum() == 300
    assert np.array_equal(flip_labels(y, 0.3, seed=1), flip_labels(y, 0.3, seed=1))


@pytest.mark.parametrize("n,expected", [(3, None), (8, "leave-2-out"), (60, 6), (1024, "holdout")])
def test_cv_rule_by_training_size(n, expected):
    y = np.array([0, 1] * (n // 2) + [0] * (n % 2))
    folds = cv_splits(y)
    if expected is None:
        assert folds is None
    elif expected == "leave-2-out":
        assert all(len(va) == 2 and set(y[va]) == {0, 1} for _, va in folds) and len(folds) == (n // 2) ** 2
    elif expected == "holdout":
        (tr, va), = folds
        assert len(va) == 100 and va.min() == n - 100
    else:
        assert len(folds) == expected


def test_scarcity_sizes_are_the_papers():
    assert SCARCITY_SIZES == [2, 3, 4, 5, 7, 10, 14, 20, 28, 38, 53, 74, 103, 143, 198, 275, 382, 531, 737, 1024]


def test_top_k_selection_finds_planted_latents():
    rng = np.random.default_rng(0)
    y = np.array([0, 1] * 250)
    Z = rng.exponential(size=(500, 300)) * (rng.random((500, 300)) < 0.1)
    informative = [5, 123, 250, 299]
    for j in informative: Z[:, j] += 1.5 * y * rng.random(500)
    for normalised in (False, True):
        assert sorted(rank_latents(Z[:400], y[:400], normalised)[:4]) == informative
    table = run_sae_probes(Z[:400], y[:400], Z[400:], y[400:], ks=(1, 4)).set_index("k")
    assert table.test_auc[4] > 0.9


def test_quiver_on_our_own_frames():
    base = pd.DataFrame({"dataset": ["a", "a"], "method": ["logreg", "knn"], "test_auc": [0.9, 0.7], "val_auc": [0.8, 0.9]})
    sae = pd.DataFrame({"dataset": ["a"], "test_auc": [0.95], "val_auc": [0.9]})
    assert quiver(base, sae).sae_chosen.tolist() == [False]  # tie: the baseline listed first wins
    assert quiver(base, sae, tie="sae").sae_chosen.tolist() == [True]


def test_cpu_profile_subset_follows_its_rule():
    from helpers.probes import short_prompt_subset
    profile = yaml.safe_load((Path(__file__).resolve().parents[1] / "paper_reproductions" / "profiles" / "cpu.yaml").read_text())
    params = profile["sparse_probing"]
    assert params["datasets"] == short_prompt_subset(16, params["max_rows"])


def _stand_in_gemma_scope(folder: Path, d_model: int, n_latents: int, seed: int):
    # A Gemma Scope params.npz of the right shapes (random JumpReLU weights; the numbers mean nothing).
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    np.savez(folder / "params.npz", W_enc=rng.normal(0, 0.05, (d_model, n_latents)).astype(np.float32),
             b_enc=np.zeros(n_latents, np.float32), threshold=np.full(n_latents, 0.05, np.float32),
             W_dec=rng.normal(0, 0.05, (n_latents, d_model)).astype(np.float32), b_dec=np.zeros(d_model, np.float32))


@pytest.mark.slow
def test_notebook_with_a_gemma_scope_pool(tmp_path):
    # The paper profile's SAE path (three widths in the quivers' pool, a fourth SAE for OOD, wide codes kept sparse),
    # on SmolLM2 with stand-in SAEs: runs end to end and labels every SAE's rows.
    from helpers.runner import run
    repo = tmp_path / "gemma-scope"
    folders = {"16k": "layer_15/width_16k/average_l0_1", "131k": "layer_15/width_131k/average_l0_2", "1m": "layer_15/width_1m/average_l0_3",
               "ood": "layer_15/width_131k/average_l0_4"}
    for seed, (width, folder) in enumerate(folders.items()):
        _stand_in_gemma_scope(repo / folder, 576, 20000 if width in ("1m", "ood") else 256, seed)
    scope = {"repo": str(repo), "saes": [folders["16k"], folders["131k"], folders["1m"]], "ood": folders["ood"]}
    status = run(["sparse_probing"], "smoke", [f"gemma_scope={json.dumps(scope)}", "datasets=[5_hist_fig_ismale]"], out=tmp_path / "runs",
                 progress=False)
    assert status == 0
    folder = tmp_path / "runs" / "smoke" / "sparse_probing"
    table = pd.read_csv(folder / "tables" / "normal_setting.csv")
    assert {"sae_k16", "sae_131k_k16", "sae_1m_k16"} <= set(table.method)
    assert pd.read_csv(folder / "tables" / "ood.csv").shape[0] == 1
    metrics = json.loads((folder / "results.json").read_text())["metrics"]
    assert {"sae_auc_16k_k16", "sae_auc_131k_k128", "sae_auc_1m_k128"} <= set(metrics)


def test_a_regime_value_without_a_two_class_validation_split_is_skipped():
    "Positives in the first rows and 20 at the end: with 5% positives the one validation split (the last 20% of the training rows)\n    happens to hold none, with 50% it holds both classes (and so does the normal split)."
    from helpers.probes import probe_settings
    rng = np.random.default_rng(0)
    y = np.array([1] * 480 + [0] * 500 + [1] * 20)
    X = rng.normal(size=(1000, 8)) + y[:, None]
    rows = probe_settings(X, np.abs(X), y, ks=(1,), sae_k=1, regime_ks=(1,), imbalance_ratios=(0.05, 0.5), n_xgboost=1)
    assert sorted(rows[rows.setting == "imbalance"].ratio.unique()) == [0.5]
