"""A fitted helix patched into a small model changes the logits exactly as computed by hand."""
import numpy as np
import torch

from conftest import save_tiny
from helpers.fits import Basis, fit_basis
from helpers.models import hf_module, load_model
from helpers.patching import Patch, logit_difference, patched_logits


def test_patching_a_helix_fit_matches_the_hand_computation(tmp_path):
    model = load_model(save_tiny("llama", tmp_path / "tiny"), device="cpu")
    module = hf_module(model)
    rng = np.random.default_rng(0)
    numbers = np.arange(40)
    basis = Basis("helix", (5, 10), scale=39.0)
    hidden = basis(numbers) @ rng.normal(size=(basis(numbers).shape[1], 32))  # a planted helix in the model's width
    fit = fit_basis(hidden, numbers, basis, n_pca=20)
    assert fit.r2(hidden, numbers) > 0.999

    prompts = ["the cat sat", "two days from Monday is", "a mat"]
    values = torch.tensor(fit.predict([3, 17, 29]), dtype=torch.float32)
    last = len(module.model.layers)
    patched = patched_logits(model, prompts, [Patch("resid", last, -1, values)])
    by_hand = module.lm_head(module.model.norm(values)).detach()
    assert torch.allclose(patched, by_hand, atol=1e-5)

    clean = patched_logits(model, prompts)
    answers = [4, 5, 6]
    expected = by_hand[torch.arange(3), answers] - clean[torch.arange(3), answers]
    assert torch.allclose(logit_difference(patched, clean, answers), expected, atol=1e-5)
