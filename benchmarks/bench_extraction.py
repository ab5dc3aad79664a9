"""Activation extraction: `helpers.activations.collect_activations` against a plain Hugging Face forward with a hook on
the same prompts and batches that, like it, stops after the block it reads (target: at least 0.9 of its throughput),
and against a batch-of-one loop as the original sparse-probing code does. SmolLM2-135M, residual stream after block 15 at the last token, prompts from the probing
datasets."""
from __future__ import annotations

import torch

from common import best_time, best_times, row

N_PROMPTS, BATCH, LAYER = 128, 16, 15


def probing_prompts(n: int) -> list[str]:
    from helpers.probes import load_binary
    prompts = []
    for name in ("87_glue_cola", "5_hist_fig_ismale", "92_glue_sst2", "22_headline_isobama"):
        prompts += load_binary(name)[0][: n // 4]
    return prompts


def run() -> list[dict]:
    from helpers.activations import _batches, collect_activations
    from helpers.tokens import pad_right, tokenize_prompts
    from helpers.layouts import hf_module
    from helpers.models import load_model
    model = load_model("smollm2-135m", device="cpu")
    module, prompts = hf_module(model), probing_prompts(N_PROMPTS)
    ids = tokenize_prompts(model, prompts)
    pad = model.tokenizer.pad_token_id or 0
    block, captured = module.model.layers[LAYER], {}

    def helpers_way():
        return collect_activations(model, prompts, layers=LAYER, positions=-1, batch_size=BATCH, use_cache=False,
                                   progress=False)["resid_post"][:, 0, 0]

    class Enough(Exception): "Raised by the hook: the blocks after the one read need not run (as collect_activations does)."

    def capture(_block, _inputs, output):
        captured["h"] = output[0] if isinstance(output, tuple) else output
        raise Enough

    @torch.inference_mode()
    def plain_hf(batches):
        out = torch.empty(len(prompts), module.config.hidden_size)
        handle = block.register_forward_hook(capture)
        try:
            for batch in batches:
                x, mask, last = pad_right([ids[i] for i in batch], pad)
                try: module(input_ids=x, attention_mask=mask)
                except Enough: pass
                out[batch] = captured["h"][torch.arange(len(batch)), last].float()
        finally: handle.remove()
        return out

    same_batches = _batches([len(i) for i in ids], BATCH)  # the batches collect_activations forms
    one_by_one = [[i] for i in range(len(prompts))]
    difference = (helpers_way() - plain_hf(same_batches)).abs().max().item()
    t_helpers, t_plain = best_times(helpers_way, lambda: plain_hf(same_batches))
    t_single = best_time(lambda: plain_hf(one_by_one), repeats=1)
    ratio = t_plain / t_helpers
    n = len(prompts)
    return [
        row("extraction", "helpers throughput", n / t_helpers, "prompts/s", note=f"{n} prompts, batch {BATCH}"),
        row("extraction", "plain HF forward + hook throughput", n / t_plain, "prompts/s"),
        row("extraction", "helpers / plain HF throughput", ratio, "ratio", ">= 0.9", ratio >= 0.9,
            note=f"same batches, both stop after block {LAYER}; results agree to {difference:.1e}"),
        row("extraction", "speed-up over a batch-of-one loop", t_single / t_helpers, "x",
            note="the original sparse-probing code runs one prompt at a time"),
    ]


if __name__ == "__main__":
    for r in run(): print(r)
