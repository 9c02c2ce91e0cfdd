#!/usr/bin/env python3
"""Deterministic CSV for bench/factors.sh (a fixed seed: the same bytes on every run).

Columns x1..x8 (uniform on [-100, 100], 4 decimals), then categorical columns, then y.
  --levels 10,100   one categorical column per number: c10 with levels g00..g09 and c100 with
                    levels h000..h099; level j of a column with L levels (L >= 100) may occur
                    only from row j * rows / L on, so new levels keep appearing through the whole
                    file (the live accumulator grows all along); columns of fewer levels use
                    every level from the start.
y = 3 + sum_j b_j x_j + effect(level) + N(0, 1) noise, b_j = (-1)^(j+1) (1 + j % 4) / 4.
usage: gen_factors.py --rows N [--levels 10,100] [--seed S] > FILE
"""
import argparse
import random
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--rows", type=int, required=True)
ap.add_argument("--levels", default="10,100")
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()
levels = [int(v) for v in a.levels.split(",")]
rng = random.Random(a.seed)
names = [f"c{L}" for L in levels]
prefix = "ghijk"
out = sys.stdout
out.write(",".join([f"x{j}" for j in range(1, 9)] + names + ["y"]) + "\n")
b = [(-1) ** (j + 1) * (1 + j % 4) / 4 for j in range(1, 9)]
width = [len(str(L - 1)) for L in levels]
buf = []
for i in range(a.rows):
    x = [rng.randrange(-1000000, 1000001) / 10000 for _ in range(8)]
    y = 3 + sum(bj * xj for bj, xj in zip(b, x)) + rng.gauss(0, 1)
    cells = []
    for c, L in enumerate(levels):
        avail = L if L < 100 else max(1, min(L, (i * L) // a.rows + 1))
        lv = rng.randrange(avail)
        y += ((lv * 37) % 11 - 5) * 0.1
        cells.append(f"{prefix[c % 5]}{lv:0{width[c]}d}")
    buf.append(",".join([f"{v:.4f}" for v in x] + cells + [f"{y:.4f}"]))
    if len(buf) == 10000:
        out.write("\n".join(buf) + "\n")
        buf = []
if buf:
    out.write("\n".join(buf) + "\n")
