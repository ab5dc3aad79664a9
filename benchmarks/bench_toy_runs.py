"""Many small runs trained as one batched model (`helpers.grokking.train_many`) against the same runs one by one in
the authors' loop (`train_one`): the 33 runs of the grokking notebook's Fig 3 / 4b sweep (11 training sizes, 3 seeds),
a few hundred steps each, interleaved in one process. The figure is the speed-up; the runs' accuracies agree (the
helper notebook tests that they are identical)."""
from __future__ import annotations

import torch

from common import best_times, row

STEPS = 200
SIZES, SEEDS = (5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 54), (0, 1, 2)


def run() -> list[dict]:
    from helpers.grokking import ToyRun, train_many, train_one
    runs = [ToyRun(train_num=n, seed=s) for n in SIZES for s in SEEDS]
    batched, looped = best_times(lambda: train_many(runs, steps=STEPS, progress=False),
                                 lambda: [train_one(r, steps=STEPS) for r in runs], repeats=2)
    same = torch.equal(train_many(runs, steps=STEPS, progress=False)["acc_test"],
                       torch.stack([train_one(r, steps=STEPS)["acc_test"] for r in runs]))
    return [row("toy runs", "batched / one-by-one training speed", looped / batched, "x",
                note=f"{len(runs)} grokking toy runs of {STEPS} steps: {batched:.2f} s batched, {looped:.2f} s one by one; "
                     f"test accuracies {'identical' if same else 'differ'}")]


if __name__ == "__main__":
    for r in run(): print(r)
