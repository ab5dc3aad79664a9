"""SAE training: tokens per second of `helpers.sae.train_sae` with the reproductions' recipe (TopK, 2,048 latents,
k = 32, batches of 512 SmolLM2 residual vectors of width 576), and the FLOP/s that implies against the measured
matrix-multiply rate of the same machine (float32, the same shapes)."""
from __future__ import annotations

import time

import torch

from common import best_time, row

D, LATENTS, K, BATCH, STEPS = 576, 2048, 32, 512, 200


def matmul_rate(device: str) -> float:
    "FLOP/s of the SAE's encoder product, [BATCH, D] @ [D, LATENTS], in float32."
    a, b = torch.randn(BATCH, D, device=device), torch.randn(D, LATENTS, device=device)
    def once():
        for _ in range(20): a @ b
        if device == "cuda": torch.cuda.synchronize()
    return 20 * 2 * BATCH * D * LATENTS / best_time(once)


def run(device: str = "cpu") -> list[dict]:
    from helpers.sae import SAETraining, train_sae
    acts = torch.randn(50_000, D)  # the throughput does not depend on the data's content
    train_sae(acts, SAETraining(n_latents=LATENTS, k=K, steps=5, batch_size=BATCH), device=device, progress=False)  # warm-up
    start = time.perf_counter()
    train_sae(acts, SAETraining(n_latents=LATENTS, k=K, steps=STEPS, batch_size=BATCH), device=device, progress=False)
    if device == "cuda": torch.cuda.synchronize()
    tokens_per_s = STEPS * BATCH / (time.perf_counter() - start)
    # The two dense products (encoder, decoder: 2*D*LATENTS each per token), and the backward pass twice that.
    achieved = tokens_per_s * 3 * (2 * D * LATENTS) * 2
    peak = matmul_rate(device)
    return [
        row("sae", f"training throughput ({device})", tokens_per_s, "tokens/s", note=f"TopK {LATENTS} latents, k={K}, batch {BATCH}"),
        row("sae", f"achieved FLOP/s ({device})", achieved / 1e9, "GFLOP/s", note="matmul FLOPs of forward + backward"),
        row("sae", f"matmul rate, same shapes ({device})", peak / 1e9, "GFLOP/s"),
        row("sae", f"achieved / matmul rate ({device})", achieved / peak, "ratio",
            note="the rest: top-k, scatter, Adam, decoder renormalisation"),
    ]


if __name__ == "__main__":
    for r in run(): print(r)
