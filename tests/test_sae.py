"""Sparse autoencoders: recovery of a known dictionary, exact loaders, saving, bad input."""
import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from helpers.sae import (evaluate_sae, load_gemma_scope, load_sae, load_saelens, recovered_fraction, save_sae,
                         synthetic_dictionary, train_sae, SAETraining)


@pytest.fixture(scope="module")
def dictionary():
    return synthetic_dictionary(n_features=512, d=64, active=4, n=50_000, seed=0)


@pytest.mark.parametrize("kind", ["topk", "relu", "jumprelu"])
def test_each_kind_recovers_a_known_dictionary(dictionary, kind):
    data, truth = dictionary
    sae = train_sae(data, SAETraining(kind=kind, n_latents=1024, k=4, steps=1500, batch_size=512, lr=3e-3, seed=0), progress=False)
    assert recovered_fraction(sae, truth, threshold=0.9) >= 0.9
    assert torch.allclose(sae.W_dec.norm(dim=1), torch.ones(1024), atol=1e-5)
    assert evaluate_sae(sae, data[:5000])["fvu"] < 0.3


def test_training_is_deterministic(dictionary):
    data, _ = dictionary
    training = SAETraining(n_latents=128, k=4, steps=20, batch_size=64, seed=3)
    first, second = (train_sae(data, training, progress=False) for _ in range(2))
    assert all(torch.equal(p, q) for p, q in zip(first.state_dict().values(), second.state_dict().values()))


def reference_weights(seed=0, d=16, n=40):
    g = torch.Generator().manual_seed(seed)
    return {"W_enc": torch.randn(d, n, generator=g), "b_enc": torch.randn(n, generator=g), "W_dec": torch.randn(n, d, generator=g),
            "b_dec": torch.randn(d, generator=g), "threshold": torch.rand(n, generator=g)}


def test_gemma_scope_npz_encodes_exactly_like_jumprelu(tmp_path):
    w = reference_weights()
    np.savez(tmp_path / "params.npz", **{k: v.numpy() for k, v in w.items()})
    x = torch.randn(9, 16)
    pre = x @ w["W_enc"] + w["b_enc"]
    sae = load_gemma_scope(tmp_path)
    assert torch.allclose(sae.encode(x), pre * (pre > w["threshold"]), atol=1e-5)
    assert torch.allclose(sae.decode(sae.encode(x)), (pre * (pre > w["threshold"])) @ w["W_dec"] + w["b_dec"], atol=1e-4)


@pytest.mark.parametrize("architecture", ["standard", "jumprelu"])
def test_saelens_folder_encodes_exactly(tmp_path, architecture):
    w = reference_weights(1)
    (tmp_path / "cfg.json").write_text(json.dumps({"d_in": 16, "d_sae": 40, "architecture": architecture, "apply_b_dec_to_input": True}))
    save_file(w, str(tmp_path / "sae_weights.safetensors"))
    x = torch.randn(9, 16)
    pre = (x - w["b_dec"]) @ w["W_enc"] + w["b_enc"]
    expected = torch.relu(pre) if architecture == "standard" else pre * (pre > w["threshold"])
    assert torch.allclose(load_saelens(tmp_path).encode(x), expected, atol=1e-5)


def test_save_and_load_round_trip(tmp_path, dictionary):
    data, _ = dictionary
    sae = train_sae(data, SAETraining(kind="jumprelu", n_latents=64, steps=5, batch_size=64), progress=False)
    again = load_sae(save_sae(sae, tmp_path / "sae"))
    assert torch.equal(again.encode(data[:50]), sae.encode(data[:50]))
    assert not list((tmp_path / "sae").glob("*.pkl"))


def test_bad_input_is_refused_before_training():
    with pytest.raises(ValueError, match="non-empty"):
        train_sae(torch.zeros(0, 8))
    with pytest.raises(TypeError, match="floating point"):
        train_sae(torch.zeros(10, 8, dtype=torch.long))
    with pytest.raises(ValueError, match="kind must be one of"):
        train_sae(torch.randn(10, 8), SAETraining(kind="gated"))
    with pytest.raises(ValueError, match="k must be in 1..n_latents"):
        train_sae(torch.randn(10, 8), SAETraining(n_latents=4, k=8))
    with pytest.raises(FileNotFoundError, match="no cfg.json"):
        load_sae("/nonexistent/sae")
