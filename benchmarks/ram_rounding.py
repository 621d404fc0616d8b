"""Are RAM's quantized-export losses the converter's or the model's? Rounding of int8 size, in Keras.

For each RAM weights tag, prints the Keras test accuracy (mean locations, as `zoo eval` and the
export matrix measure it), then the change when every weight matrix is perturbed by uniform
noise of ±½ an int8 step (per output channel: step = max |W[:, j]| / 127; biases kept), for
`--draws` seeds, with how many test predictions each draw turns right / wrong, beside the
changes the card's dynamic-range and int8 files measured. If the files' changes lie within the
draws', the loss is the model's sensitivity to any rounding of that size (the glimpse loop takes
another path), not a fault of the conversion.

    python benchmarks/ram_rounding.py [--draws 6] [--weights TAG ...]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import zoo  # noqa: E402
from recipes.testset import test_arrays  # noqa: E402
from zoo import registry  # noqa: E402

TAGS = ("cluttered100_mnist5k", "cluttered100_mnist5k_4g", "cluttered100_mnist5k_lstm", "cluttered100_mnist5k_lstm_6g",
        "translated60_mnist5k", "cluttered100_fashion_mnist")


def rounded_like_int8(weights, rng):
    """`weights` with every matrix (ndim ≥ 2) moved by U(−½, ½) int8 steps of its output channel."""
    moved = []
    for w in weights:
        if w.ndim >= 2:
            step = np.abs(w).max(axis=tuple(range(w.ndim - 1)), keepdims=True) / 127.0
            w = w + rng.uniform(-0.5, 0.5, w.shape).astype(w.dtype) * step
        moved.append(w)
    return moved


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=6)
    parser.add_argument("--weights", nargs="+", default=TAGS)
    args = parser.parse_args()
    print(f"{'weights':<30}{'test':>7}{'Keras':>8}  {'accuracy change under int8-sized rounding (right / wrong)':<60}"
          f"{'dynamic':>9}{'int8':>7}")
    for tag in args.weights:
        record = registry.record("ram", tag)
        images, labels = test_arrays(record)
        model = zoo.load("ram", weights=tag)
        before = np.asarray(model.predict(images, batch_size=250, verbose=0)).argmax(1)
        accuracy = 100 * (before == labels).mean()
        weights = model.get_weights()
        draws = []
        for seed in range(args.draws):
            model.set_weights(rounded_like_int8(weights, np.random.default_rng(seed)))
            after = np.asarray(model.predict(images, batch_size=250, verbose=0)).argmax(1)
            won = int(((after == labels) & (before != labels)).sum())
            lost = int(((after != labels) & (before == labels)).sum())
            draws.append(f"{100 * (after == labels).mean() - accuracy:+.2f} ({won}/{lost})")
        model.set_weights(weights)
        cells = record.get("export", {})
        files = [cells.get(key, {}).get("accuracy_change_points") for key in ("tflite_dynamic", "tflite_int8")]
        print(f"{tag:<30}{len(labels):>7}{accuracy:>7.2f}%  {' '.join(draws):<60}"
              + "".join(f"{'–' if f is None else f'{f:+.2f}':>{w}}" for f, w in zip(files, (9, 7))))


if __name__ == "__main__":
    main()
