"""Switch SAEs: what routing buys. Time per token of a forward pass (and tokens per second of a training step) of
TopK against FLOP-matched and width-matched Switch SAEs, routed (each expert encodes its own tokens) and as the
authors compute them (every expert on every token, then a mask), each as a ratio to TopK timed in the same process.
CPU: the cpu profile's sizes (width 576, 2,304 latents, k = 32); CUDA: the paper's (width 768, 24,576 latents)."""
from __future__ import annotations

import sys

import torch

from common import best_time, row

SIZES = {"cpu": dict(d=576, latents=2304, k=32, flop=(2, 4), width=(4, 8, 16), tokens=8192, batch=1024),
         "cuda": dict(d=768, latents=24_576, k=32, flop=(2, 4, 8), width=(16, 32, 64, 128), tokens=65_536, batch=8192)}


def run(device: str = "cpu") -> list[dict]:
    from helpers.switch_sae import SwitchSAE, flops_per_token, load_balancing_loss
    s = SIZES[device]
    torch.manual_seed(0)
    x = torch.randn(s["tokens"], s["d"], device=device)  # the routing is near uniform at initialisation, as after training

    def sync():
        if device == "cuda": torch.cuda.synchronize()

    def forward_time(sae, dense=False):
        def once():
            with torch.inference_mode():
                for start in range(0, len(x), s["batch"]):
                    (sae.forward_dense(x[start:start + s["batch"]]) if dense else sae(x[start:start + s["batch"]])[0])
            sync()
        return best_time(once) / len(x)

    def train_rate(sae):
        optimizer = torch.optim.Adam(sae.parameters(), lr=1e-4)
        batch = x[:s["batch"]]
        def once():
            for _ in range(5):
                x_hat, codes = sae(batch)
                loss = ((batch - x_hat) ** 2).sum(-1).mean() + 3 * s["d"] * load_balancing_loss(codes["probs"], codes["expert"])
                optimizer.zero_grad(); loss.backward(); optimizer.step()
            sync()
        return 5 * len(batch) / best_time(once)

    topk = SwitchSAE(s["d"], s["latents"], 1, s["k"]).to(device)
    t_topk, r_topk = forward_time(topk), train_rate(topk)
    rows = [row("switch", f"TopK forward ({device})", t_topk * 1e6, "µs/token", note=f"{s['latents']:,} latents, k = {s['k']}, width {s['d']}"),
            row("switch", f"TopK training ({device})", r_topk, "tokens/s")]
    for family, experts in (("FLOP-matched", s["flop"]), ("width-matched", s["width"])):
        for n in experts:
            latents = n * s["latents"] if family == "FLOP-matched" else s["latents"]
            sae = SwitchSAE(s["d"], latents, n, s["k"]).to(device)
            routed, dense = forward_time(sae), forward_time(sae, dense=True)
            flops = flops_per_token(s["d"], latents, n, s["k"]) / flops_per_token(s["d"], s["latents"], 1, s["k"])
            rows += [row("switch", f"{family}, {n} experts: TopK's time / routed ({device})", t_topk / routed, "ratio",
                         note=f"FLOPs per token {flops:.2f}x TopK's"),
                     row("switch", f"{family}, {n} experts: dense / routed ({device})", dense / routed, "ratio",
                         note="the authors' computation against routing"),
                     row("switch", f"{family}, {n} experts: training speed / TopK's ({device})", train_rate(sae) / r_topk, "ratio")]
            del sae
    return rows


if __name__ == "__main__":
    for r in run(sys.argv[1] if len(sys.argv) > 1 else "cpu"): print(f"{r['figure']:<60} {r['value']:>10.3g} {r['unit']:<9} {r['note']}")
