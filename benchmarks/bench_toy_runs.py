"""Many small runs trained as one batched model against the same runs one by one in the authors' loop, interleaved in
one process: the 33 runs of the grokking notebook's Fig 3 / 4b sweep (11 training sizes, 3 seeds, a few hundred steps
each; `helpers.grokking`), and the harmonic-loss notebook's ten MLP runs of one seed (five datasets, both losses, a few
epochs; `helpers.harmonic`). The figures are the speed-ups; the runs' accuracies agree (the helper notebooks test it)."""
from __future__ import annotations

import torch

from common import best_times, row

STEPS = 200
SIZES, SEEDS = (5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 54), (0, 1, 2)
EPOCHS = 5


def run() -> list[dict]:
    from helpers.grokking import ToyRun, train_many, train_one
    runs = [ToyRun(train_num=n, seed=s) for n in SIZES for s in SEEDS]
    batched, looped = best_times(lambda: train_many(runs, steps=STEPS, progress=False),
                                 lambda: [train_one(r, steps=STEPS) for r in runs], repeats=2)
    same = torch.equal(train_many(runs, steps=STEPS, progress=False)["acc_test"],
                       torch.stack([train_one(r, steps=STEPS)["acc_test"] for r in runs]))
    return [row("toy runs", "batched / one-by-one training speed", looped / batched, "x",
                note=f"{len(runs)} grokking toy runs of {STEPS} steps: {batched:.2f} s batched, {looped:.2f} s one by one; "
                     f"test accuracies {'identical' if same else 'differ'}"), harmonic()]


def harmonic() -> dict:
    from helpers.harmonic import DATASETS, HarmonicRun, train_grid, train_one
    runs = [HarmonicRun(d, m, 0) for d in DATASETS for m in ("standard_MLP", "H_MLP")]
    batched, looped = best_times(lambda: train_grid(runs, EPOCHS, progress=False), lambda: [train_one(r, EPOCHS) for r in runs], repeats=2)
    gap = max((g["test_acc"] - train_one(r, EPOCHS)["test_acc"]).abs().max().item() for g, r in zip(train_grid(runs, EPOCHS, progress=False), runs))
    return row("toy runs", "harmonic-loss MLPs: batched / the authors' loop speed", looped / batched, "x",
               note=f"{len(runs)} MLP runs (5 datasets, 2 losses) of {EPOCHS} epochs: {batched:.2f} s batched, {looped:.2f} s one by one "
                    f"(the authors' DataLoader and AdamW); largest test-accuracy difference {gap:.3g}")


if __name__ == "__main__":
    for r in run(): print(r)
