"""Sparse probing: the analysis against the authors' own result files, the splits, the CV rule and the latent ranking."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.probes import (SCARCITY_SIZES, binary_datasets, cv_splits, flip_labels, load_binary, normal_num_train,
                            rank_latents, run_sae_probes, split_indices)
from helpers.probing_analysis import load_paper_results, mean_auc, paper_quiver, quiver

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
