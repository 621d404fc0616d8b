"""Does a glimpse make the cost independent of the image size? (Mnih et al. 2014's headline claim.)

For image sides 60, 100, 200, 400 (clutter scaled with the area: 8 fragments per 100×100),
prints FLOPs (TensorFlow profiler on the frozen inference graph, batch 1) and median latency
at batch 1 and 64, in Keras (`predict_on_batch`) and in LiteRT (fp32, parity-checked), for
RAM and the same-budget 2-layer CNN as the `*_cluttered100_fashion_mnist` recipes configure them
(RAM: 8 glimpses of 4 scales of 12×12), with every number's ratio to the 60×60 cost.

    python benchmarks/ram_cost_vs_size.py [--runs 60]

Weights are freshly initialised: cost does not depend on their values. The sampler's gathers
count as 0 FLOPs in the profiler; RAM's latency columns include them.
"""

import argparse
import os
import platform
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


import zoo  # noqa: E402
from export import to_tflite  # noqa: E402
from export.runtime import Runtime, median_ms  # noqa: E402
from export.tflite import frozen_concrete_function  # noqa: E402
from recipes import configs, data  # noqa: E402
from recipes.data.variants import cluttered  # noqa: E402

SIDES = (60, 100, 200, 400)
RAM = configs.RECIPES["ram_cluttered100_fashion_mnist"].config
CNN = configs.RECIPES["cnn_cluttered100_fashion_mnist"].config


def flops(model):
    """Float operations of one batch-1 inference, counted by the TensorFlow profiler on the frozen
    graph (every op inline: the profiler does not enter function calls)."""
    from tensorflow.python.profiler import model_analyzer, option_builder

    graph = frozen_concrete_function(model, batch_size=1)[0].graph
    options = option_builder.ProfileOptionBuilder(option_builder.ProfileOptionBuilder.float_operation())
    return model_analyzer.profile(graph, options=options.with_empty_output().build()).total_float_ops


def measure(name, model, images, runs, workdir):
    path = os.path.join(workdir, f"{name}.tflite")
    to_tflite(model, path, check_inputs=images[:8])
    runtime = Runtime(path)
    one, batch = images[:1], images[:64]
    return {
        "flops": flops(model),
        "keras_1": median_ms(lambda: model.predict_on_batch(one), runs),
        "keras_64": median_ms(lambda: model.predict_on_batch(batch), max(3, runs // 4)),
        "lite_1": median_ms(lambda: runtime(images=one), runs),
        "lite_64": median_ms(lambda: runtime(images=batch), max(3, runs // 4)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    items, _ = data.load_arrays("mnist5k", "test", limit=64)
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        for side in SIDES:
            fragments = round(8 * (side / 100) ** 2)
            images = cluttered(items, side, fragments, seed=side).astype("float32") / 255.0
            shape = (side, side, 1)
            results[("RAM", side)] = measure(f"ram{side}", zoo.load("ram", weights=None, image_shape=shape, **RAM), images,
                                             args.runs, workdir)
            results[("CNN", side)] = measure(f"cnn{side}", zoo.load("cnn", weights=None, image_shape=shape, **CNN),
                                             images, args.runs, workdir)
            print(f"measured {side}×{side} ({fragments} clutter fragments)", flush=True)
    print(f"\nCost against image size on {platform.processor() or platform.machine()}, {os.cpu_count()} cores "
          f"(median of {args.runs} runs; ×N = ratio to the 60×60 cost)\n")
    columns = [("flops", "MFLOPs", 1e-6), ("keras_1", "Keras b1 ms", 1), ("keras_64", "Keras b64 ms", 1),
               ("lite_1", "LiteRT b1 ms", 1), ("lite_64", "LiteRT b64 ms", 1)]
    header = f"{'model':<6}{'side':>6}" + "".join(f"{title:>22}" for _, title, _ in columns)
    print(header)
    print("-" * len(header))
    for model in ("RAM", "CNN"):
        for side in SIDES:
            row = results[(model, side)]
            base = results[(model, SIDES[0])]
            cells = "".join(f"{row[key] * scale:>14.2f} (×{row[key] / base[key]:4.2f})" if base[key] else f"{'n/a':>22}"
                            for key, _, scale in columns)
            print(f"{model:<6}{side:>6}{cells}")


if __name__ == "__main__":
    main()
