"""Does a glimpse make the cost independent of the image size? (Mnih et al. 2014's headline claim.)

For image sides 60, 100, 200, 400 (clutter scaled with the area: 8 fragments per 100×100),
prints FLOPs (TensorFlow profiler on the frozen inference graph, batch 1) and median latency
at batch 1 and 64, in Keras (`predict_on_batch`) and in LiteRT (fp32, parity-checked), for
RAM and the same-budget 2-layer CNN as the `*_cluttered100_fashion_mnist` recipes configure them
(RAM: 8 glimpses of 4 scales of 12×12), with every number's ratio to the 60×60 cost.

A second table times, in LiteRT, the one part of RAM that reads the whole image: level 1 of the
retina's pyramid (2×2 block means of the one-channel image) as `layers.glimpse.block_mean`
computes it and as LiteRT's AVERAGE_POOL_2D would, beside a mean over the whole image (one read
of the input, the floor any model pays).

    python benchmarks/ram_cost_vs_size.py [--runs 300] [--rounds 5]

Every cell is timed in `--rounds` rounds of runs/rounds calls, the rounds taking every cell in
turn, and reports the median of its round medians: on a shared CPU a burst of other work then
lands on all sizes alike instead of on whichever size was being timed (one 60-run pass per cell
once put RAM's 400-px LiteRT batch-1 cell at 1.41 ms where reruns measured 0.55). About 3 minutes
on a 2-core CPU.

Weights are freshly initialised: cost does not depend on their values. The sampler's gathers
count as 0 FLOPs in the profiler; RAM's latency columns include them.
"""

import argparse
import os
import platform
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

import zoo  # noqa: E402
from export import to_tflite  # noqa: E402
from export.runtime import Runtime, median_ms  # noqa: E402
from export.tflite import convert_signatures, frozen_concrete_function  # noqa: E402
from layers.glimpse import block_mean  # noqa: E402
from recipes import configs, data  # noqa: E402
from recipes.data.variants import cluttered  # noqa: E402

SIDES = (60, 100, 200, 400)
RAM = configs.RECIPES["ram_cluttered100_fashion_mnist"].config
CNN = configs.RECIPES["cnn_cluttered100_fashion_mnist"].config
PASSES = {
    "block_mean": block_mean,
    "AVERAGE_POOL_2D": lambda x: ops.average_pool(x, 2, strides=2, padding="valid"),
    "whole-image mean": lambda x: ops.mean(x, axis=(1, 2, 3)),
}


def flops(model):
    """Float operations of one batch-1 inference, counted by the TensorFlow profiler on the frozen
    graph (every op inline: the profiler does not enter function calls)."""
    from tensorflow.python.profiler import model_analyzer, option_builder

    graph = frozen_concrete_function(model, batch_size=1)[0].graph
    options = option_builder.ProfileOptionBuilder(option_builder.ProfileOptionBuilder.float_operation())
    return model_analyzer.profile(graph, options=options.with_empty_output().build()).total_float_ops


def model_calls(name, model, images, workdir):
    """The four timed calls of one model: Keras and LiteRT (fp32, parity-checked), batch 1 and 64."""
    path = os.path.join(workdir, f"{name}.tflite")
    to_tflite(model, path, check_inputs=images[:8])
    runtime = Runtime(path)
    one, batch = images[:1], images[:64]
    return {
        "keras_1": lambda: model.predict_on_batch(one),
        "keras_64": lambda: model.predict_on_batch(batch),
        "lite_1": lambda: runtime(images=one),
        "lite_64": lambda: runtime(images=batch),
    }


def image_pass_call(fn, images):
    """`fn` (one pass over `images`) converted alone to LiteRT (builtin ops), as a call to time."""
    signature = [tf.TensorSpec(images.shape, tf.float32, name="images")]
    runtime = Runtime(model_content=convert_signatures({"image_pass": (lambda x: {"out": fn(x)}, signature)}))
    return lambda: runtime(images=images)


def interleaved_medians(calls, runs, rounds):
    """{key: median ms}: `rounds` rounds, each timing every call in turn (batch-64 calls a quarter as
    often); a cell's value is the median of its round medians."""
    medians = {key: [] for key in calls}
    for _ in range(rounds):
        for key, call in calls.items():
            per_round = max(1, (runs if key[-1] == 1 else runs // 4) // rounds)
            medians[key].append(median_ms(call, per_round))
    return {key: float(np.median(values)) for key, values in medians.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=300, help="timed calls per batch-1 cell (batch 64: a quarter)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds the runs are split into")
    args = parser.parse_args()
    items, _ = data.load_arrays("mnist5k", "test", limit=64)
    calls, counted = {}, {}
    with tempfile.TemporaryDirectory() as workdir:
        for side in SIDES:
            fragments = round(8 * (side / 100) ** 2)
            images = cluttered(items, side, fragments, seed=side).astype("float32") / 255.0
            for model, config in (("RAM", RAM), ("CNN", CNN)):
                net = zoo.load(model.lower(), weights=None, image_shape=(side, side, 1), **config)
                counted[(model, side)] = flops(net)
                for key, call in model_calls(f"{model}{side}", net, images, workdir).items():
                    column, batch = key.rsplit("_", 1)
                    calls[(model, side, column, int(batch))] = call
            for name, fn in PASSES.items():
                for batch in (1, 64):
                    noise = np.random.default_rng(side).random((batch, side, side, 1), "float32")
                    calls[("pass", side, name, batch)] = image_pass_call(fn, noise)
            print(f"built {side}×{side} ({fragments} clutter fragments)", flush=True)
        ms = interleaved_medians(calls, args.runs, args.rounds)
    print(f"\nCost against image size on {platform.processor() or platform.machine()}, {os.cpu_count()} cores "
          f"(median of {args.rounds} interleaved rounds of {args.runs} runs in all; ×N = ratio to the 60×60 cost)\n")
    columns = [("keras", 1, "Keras b1 ms"), ("keras", 64, "Keras b64 ms"), ("lite", 1, "LiteRT b1 ms"),
               ("lite", 64, "LiteRT b64 ms")]
    header = f"{'model':<6}{'side':>6}{'MFLOPs':>22}" + "".join(f"{title:>22}" for *_, title in columns)
    print(header)
    print("-" * len(header))
    for model in ("RAM", "CNN"):
        for side in SIDES:
            cells = [(counted[(model, side)] * 1e-6, counted[(model, side)] / counted[(model, SIDES[0])])]
            cells += [(ms[(model, side, column, batch)], ms[(model, side, column, batch)] / ms[(model, SIDES[0], column, batch)])
                      for column, batch, _ in columns]
            print(f"{model:<6}{side:>6}" + "".join(f"{value:>14.2f} (×{ratio:4.2f})" for value, ratio in cells))
    print("\nLevel 1 of RAM's pyramid (2×2 block means), LiteRT ms, batch 1 / batch 64\n")
    print(f"{'side':>6}" + "".join(f"{name:>24}" for name in PASSES))
    for side in SIDES:
        print(f"{side:>6}" + "".join(f"{ms[('pass', side, name, 1)]:.3f} / {ms[('pass', side, name, 64)]:.2f}".rjust(24)
                                      for name in PASSES))


if __name__ == "__main__":
    main()
