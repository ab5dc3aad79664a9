"""A fitted helix patched into a small model changes the logits exactly as computed by hand."""
import numpy as np
import torch

from conftest import save_tiny
from helpers.fits import Basis, fit_basis
from helpers.layouts import hf_module
from helpers.models import load_model
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


def test_neuron_attribution_is_gradient_times_activation_change(tiny_checkpoint):
    "nnsight's gradients inside the trace equal autograd's, taken here by hand with a hook on the down projection."
    import pandas as pd
    from helpers.activations import collect_activations
    from helpers.helix import neuron_attribution
    from helpers.layouts import n_layers, neuron_projection
    from helpers.tokens import pad_right
    _, folder = tiny_checkpoint
    model = load_model(folder, device="cpu")
    pairs = pd.DataFrame({"prompt": ["the cat sat on a", "two days from Monday is", "the cat"],
                          "prompt_cf": ["a mat is the", "the cat sat on", "a mat"], "answer_id_cf": [5, 7, 9]})
    module, captured, L = hf_module(model), {}, n_layers(model)
    def keep(layer):
        def hook(mod, args): args[0].retain_grad(); captured[layer] = args[0]
        return hook
    handles = [neuron_projection(model, l).register_forward_pre_hook(keep(l)) for l in range(L)]
    ids, mask, last = pad_right(model.tokenizer(list(pairs.prompt))["input_ids"], 0)
    rows = torch.arange(3)
    try:
        module(input_ids=ids, attention_mask=mask).logits[rows, last, torch.tensor([5, 7, 9])].sum().backward()
    finally:
        for h in handles: h.remove()
    grad = torch.stack([captured[l].grad[rows, last] for l in range(L)], 1)
    acts = collect_activations(model, list(pairs.prompt) + list(pairs.prompt_cf), layers=list(range(L)), sites="mlp_neurons",
                               use_cache=False, progress=False)["mlp_neurons"][:, :, 0]
    expected = (grad * (acts[3:] - acts[:3])).mean(0)
    assert torch.allclose(neuron_attribution(model, pairs), expected, atol=1e-6) and expected.abs().max() > 0
