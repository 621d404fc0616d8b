"""What a TFLite WHILE loop costs in LiteRT time: DRAW's generator, the Grid LSTM image classifier's
patches, the VQA model's question words (and RAM's glimpses, whose loop was tried and reverted)
exported unrolled and as a loop.

The unrolled files come from the code before the loops (commit 1428ea2; dc50e22 for
grid_lstm_image, 0dd8a88 for vqa, whose unrolled int8 file keeps its recurrent products and
attention hops float), DRAW's, grid_lstm_image's and vqa's loops from this tree, RAM's loop from
commit ef1a5d0; the same default weights:

    git worktree add /tmp/unrolled 1428ea2 && cp zoo/weights/*.h5 /tmp/unrolled/zoo/weights/
    (cd /tmp/unrolled && python -m zoo.cli export draw --quantize fp32 --out DIR/unrolled_draw_fp32.tflite)
    python -m zoo.cli export draw --quantize fp32 --out DIR/loop_draw_fp32.tflite
    ... and int8, and ram from the two commits' worktrees
    python benchmarks/loop_vs_unrolled.py DIR [--rounds 5] [--models grid_lstm_image vqa]

Prints the median ms per call (median over interleaved rounds) of each pair at batch 1 (1 and 2
threads) and 32 (1 thread), on the same inputs.
"""

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from export.runtime import Runtime  # noqa: E402

INPUTS = {"ram": lambda b: {"images": np.random.default_rng(0).random((b, 100, 100, 1), dtype="float32")},
          "draw": lambda b: {"noise": np.random.default_rng(0).standard_normal((b, 16, 100)).astype("float32")},
          "grid_lstm_image": lambda b: {"images": np.random.default_rng(0).random((b, 28, 28, 1), dtype="float32")},
          "vqa": lambda b: {"images": np.random.default_rng(0).random((b, 64, 64, 1), dtype="float32"),
                            "questions": np.pad(np.random.default_rng(0).integers(1, 30, (b, 7)), ((0, 0), (0, 3))
                                                ).astype("int32")}}  # 7 words and 3 of padding
CELLS = ((1, 1), (1, 2), (32, 1))  # (batch, threads)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--models", nargs="*", choices=sorted(INPUTS), default=sorted(INPUTS))
    args = parser.parse_args()
    times = {}
    for _ in range(args.rounds):
        for model in args.models:
            for quantize in ("fp32", "int8"):
                for kind in ("unrolled", "loop"):
                    for batch, threads in CELLS:
                        runtime = Runtime(args.directory / f"{kind}_{model}_{quantize}.tflite", num_threads=threads)
                        x = INPUTS[model](batch)
                        runtime(**x)
                        calls = []
                        for _ in range(40 if batch == 1 else 6):
                            start = time.perf_counter()
                            runtime(**x)
                            calls.append(time.perf_counter() - start)
                        times.setdefault((model, quantize, batch, threads, kind), []).append(1000 * np.median(calls))
    print("| model | file | batch | threads | unrolled ms | loop ms | loop / unrolled |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for model in args.models:
        for quantize in ("fp32", "int8"):
            for batch, threads in CELLS:
                unrolled, loop = (np.median(times[(model, quantize, batch, threads, k)]) for k in ("unrolled", "loop"))
                print(f"| `{model}` | {quantize} | {batch} | {threads} | {unrolled:.3f} | {loop:.3f} | {loop / unrolled:.2f} |")


if __name__ == "__main__":
    main()
