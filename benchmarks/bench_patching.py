"""Patched forward passes: throughput of `helpers.patching.patched_logits` with one residual patch per prompt against
a plain forward of the same batches through the Hugging Face module (the same padding and last-token logits), on
the embedded SmolLM2-135M. Target: patched at least 0.8 of plain."""
from __future__ import annotations

import torch

from common import best_time, row

N_PROMPTS, BATCH = 256, 64
TARGET = 0.8


def run() -> list[dict]:
    from helpers.models import hf_module, load_model, n_layers
    from helpers.patching import Patch, patched_logits
    from helpers.tokens import pad_right, tokenize_prompts
    model = load_model("smollm2-135m", device="cpu")
    prompts = [f"{a}+{b}=" for a, b in zip(range(N_PROMPTS), range(N_PROMPTS, 0, -1))]
    width = hf_module(model).config.hidden_size
    patch = Patch("resid", n_layers(model) // 2, -1, torch.randn(N_PROMPTS, width))
    token_ids = tokenize_prompts(model, prompts)
    batches = [pad_right(token_ids[i:i + BATCH], model.tokenizer.pad_token_id or 0) for i in range(0, N_PROMPTS, BATCH)]
    module = hf_module(model)

    @torch.inference_mode()
    def plain():
        for ids, mask, last in batches:
            module(input_ids=ids, attention_mask=mask, logits_to_keep=torch.unique(last))
    patched = best_time(lambda: patched_logits(model, prompts, [patch], batch_size=BATCH))
    base = best_time(plain)
    ratio = base / patched
    return [row("patching", "patched forward / plain forward throughput", ratio, "ratio", f">= {TARGET}", ratio >= TARGET,
                note=f"{N_PROMPTS} prompts, batches of {BATCH}, one residual patch each: {patched:.2f} s against {base:.2f} s")]


if __name__ == "__main__":
    for r in run(): print(r)
