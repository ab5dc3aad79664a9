"""The Switch SAE spliced into a model (tiny, random) and the authors' result files where the fixtures hold them.
The architecture's own checks (routed = dense, one expert = TopK, the load-balancing loss) are in nbs/19_switch_sae.ipynb."""
from pathlib import Path

import pytest
import torch

from conftest import save_tiny
from helpers.models import load_model
from helpers.papers import paper_values
from helpers.sae import spliced_loss
from helpers.switch_sae import SwitchSAE, authors_runs, authors_table, train_switch_sae

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "switch-sae-results"
PROMPTS = ["the cat sat on a mat", "Monday is two days from", "a cat sat", "the mat is on the cat"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return load_model(save_tiny("llama", tmp_path_factory.mktemp("tiny")), device="cpu")


def test_a_given_clean_loss_skips_its_passes_and_changes_nothing(tiny):
    sae = SwitchSAE(32, 64, 4, 8)
    full = spliced_loss(tiny, sae, PROMPTS, layer=1, batch_size=3)
    again = spliced_loss(tiny, sae, PROMPTS, layer=1, batch_size=3, loss_clean=full["loss_clean"])
    assert again == pytest.approx(full, abs=1e-6)
    assert full["loss_increase"] != 0  # a random SAE's reconstruction changes the loss: the splice took effect


def test_training_is_deterministic_and_refuses_bad_input():
    acts = torch.randn(500, 16, generator=torch.Generator().manual_seed(0))
    a, log_a = train_switch_sae(acts, 32, 4, 4, steps=20, batch_size=64, progress=False)
    b, log_b = train_switch_sae(acts, 32, 4, 4, steps=20, batch_size=64, progress=False)
    assert log_a == log_b and all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    with pytest.raises(ValueError, match="non-empty float"):
        train_switch_sae(torch.zeros(5, 16, dtype=torch.long), 32, 4, 4)
    with pytest.raises(ValueError, match="dividing n_latents"):
        train_switch_sae(acts, 32, 5, 4)


@pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"the authors' result files are not in {FIXTURES} (results/primary/*.csv of amudide/switch_sae)")
def test_the_authors_files_give_the_recorded_tables():
    runs = authors_runs(FIXTURES)
    recorded = paper_values("switch_sae", "gpt2")[1]
    for family in ("flop_matched", "width_matched"):
        table = authors_table(runs, family)
        for n in table.columns:
            for k, value in table[n].dropna().items():
                name = f"mse_topk_k{k}" if n == "TopK" else f"mse_{family}_e{n}_k{k}"
                if name in recorded: assert round(value) == recorded[name], (name, value)
