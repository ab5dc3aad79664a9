"""Patched forward passes against a plain forward of the same batches through the Hugging Face module (the same
padding and last-token logits), on the embedded SmolLM2-135M. Two settings: one prompt set of 256 with one residual
patch each (`patched_logits`), and the notebooks' usual shape, a set of 40 pairs under many variants (a patch per
fit and layer) run by `variant_logits`, several variants to a batch, beside the same variants one call each, on
SmolLM2 and on the toy model that helix_addition's cpu profile patches (two layers: each trace's fixed cost is most
of a call). Target: patched at least 0.8 of plain."""
from __future__ import annotations

import sys

import torch

from common import best_time, row

N_PROMPTS, BATCH = 256, 64
N_PAIRS, N_VARIANTS, VARIANT_BATCH = 40, 32, 256  # as helix_addition's cpu profile: 40 pairs, batches of 256
VARIANT_MODELS = ("toy-adder", "smollm2-135m")  # helix_addition's cpu model, and a real one
TARGET = 0.8


def _plain(model):
    "A plain forward of `prompts` through the Hugging Face module, batched as `patched_logits` batches them."
    from helpers.layouts import hf_module
    from helpers.tokens import pad_right, tokenize_prompts

    @torch.inference_mode()
    def plain(prompts, batch):
        token_ids = tokenize_prompts(model, prompts)
        order = sorted(range(len(token_ids)), key=lambda i: len(token_ids[i]))
        for start in range(0, len(order), batch):
            ids, mask, last = pad_right([token_ids[i] for i in order[start:start + batch]], model.tokenizer.pad_token_id or 0)
            hf_module(model)(input_ids=ids, attention_mask=mask, logits_to_keep=torch.unique(last))
    return plain


def variant_rows(name: str) -> list[dict]:
    from helpers.layouts import hf_module, n_layers
    from helpers.models import load_model
    from helpers.patching import Patch, patched_logits, variant_logits
    model = load_model(name, device="cpu")
    plain, width, L = _plain(model), hf_module(model).config.hidden_size, n_layers(model)
    torch.manual_seed(0)
    pairs = [f"{a}+{b}=" for a, b in zip(range(N_PAIRS), range(N_PAIRS, 0, -1))]  # both models' addition prompt
    variants = {i: [Patch("resid", i % (L + 1), -1, torch.randn(N_PAIRS, width))] for i in range(N_VARIANTS)}
    shape = f"{name}: {N_VARIANTS} variants of {N_PAIRS} prompts, batches of {VARIANT_BATCH}"
    stacked = best_time(lambda: list(variant_logits(model, pairs, variants, VARIANT_BATCH)), repeats=2)
    one_each = best_time(lambda: [patched_logits(model, pairs, v, batch_size=VARIANT_BATCH) for v in variants.values()], repeats=2)
    base = best_time(lambda: plain(pairs * N_VARIANTS, VARIANT_BATCH), repeats=2)
    return [row("patching", f"{name}: variants stacked / plain forward throughput", base / stacked, "ratio", f">= {TARGET}",
                base / stacked >= TARGET, note=f"{shape}: {stacked:.2f} s against {base:.2f} s"),
            row("patching", f"{name}: variants one call each / plain forward throughput", base / one_each, "ratio",
                note=f"{shape}: {one_each:.2f} s; stacking is {one_each / stacked:.1f}x faster")]


def run() -> list[dict]:
    from helpers.layouts import hf_module, n_layers
    from helpers.models import load_model
    from helpers.patching import Patch, patched_logits
    model = load_model("smollm2-135m", device="cpu")
    plain, width, L = _plain(model), hf_module(model).config.hidden_size, n_layers(model)
    torch.manual_seed(0)
    prompts = [f"{a}+{b}=" for a, b in zip(range(N_PROMPTS), range(N_PROMPTS, 0, -1))]
    patch = Patch("resid", L // 2, -1, torch.randn(N_PROMPTS, width))
    patched = best_time(lambda: patched_logits(model, prompts, [patch], batch_size=BATCH))
    base = best_time(lambda: plain(prompts, BATCH))
    rows = [row("patching", "patched forward / plain forward throughput", base / patched, "ratio", f">= {TARGET}",
                base / patched >= TARGET, note=f"{N_PROMPTS} prompts, batches of {BATCH}, one residual patch each: "
                                               f"{patched:.2f} s against {base:.2f} s")]

    for name in VARIANT_MODELS: rows += variant_rows(name)
    return rows


if __name__ == "__main__":
    for r in run() if len(sys.argv) == 1 else variant_rows(sys.argv[1]): print(r)
