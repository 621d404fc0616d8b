"""Where does the handwriting model's dynamic-range file lose its nats? Its weight rounding, in Keras.

A dynamic-range TFLite file stores each weight matrix in int8 (one scale per output channel:
W ≈ s_j round(W[:, j] / s_j), s_j = max |W[:, j]| / 127) and quantizes each matrix product's input
to int8 on the fly. This script rounds the matrices the same way in Keras, one at a time, all
together, and all but one (what keeping that one in float could save at most), and prints the
test NLL change (teacher-forced, nats a line, `recipes.evaluate.evaluate_strokes`) beside the
change the card's dynamic-range file measured on the same lines. What the Keras rounding does not
account for is the on-the-fly int8 of the products' inputs.

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/handwriting_dynamic.py [--weights TAG ...] [--lines 1000]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import zoo  # noqa: E402
from recipes import evaluate  # noqa: E402
from zoo import registry  # noqa: E402


def rounded_per_channel(w):
    """`w` (in, out) rounded to int8 with one scale per output channel, as dynamic range stores it."""
    step = np.abs(w).max(0, keepdims=True) / 127.0
    step = np.where(step > 0, step, 1.0)
    return (np.round(w / step) * step).astype(w.dtype)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", nargs="+", default=[registry.entry("handwriting").default_weights])
    parser.add_argument("--lines", type=int, default=None, help="the first N test lines (default: all)")
    args = parser.parse_args()
    for tag in args.weights:
        record = registry.record("handwriting", tag)
        model = zoo.load("handwriting", weights=tag)
        dataset = record["data"]["dataset"]

        def nll():
            return evaluate.evaluate_strokes(model, dataset, limit=args.lines)["nll"]

        base = nll()
        matrices = [v for v in model.weights if len(v.shape) == 2]
        original = {v.path: v.numpy() for v in matrices}

        def change(rounded):
            for v in matrices:
                v.assign(rounded_per_channel(original[v.path]) if v.path in rounded else original[v.path])
            result = nll() - base
            for v in matrices:
                v.assign(original[v.path])
            return result

        cell = (record.get("export") or {}).get("tflite_dynamic") or {}
        print(f"\nhandwriting:{tag}, {dataset} test lines: {args.lines or 'all'}, Keras NLL {base:.2f} nats a line")
        print(f"dynamic-range file (card, all test lines): {cell.get('nll_change', '–'):+} nats a line" if cell else
              "dynamic-range file: no card cell")
        print("\n| weight matrix | shape | rounded alone (nats a line) | all rounded but this one |")
        print("|---|---|---:|---:|")
        every = {v.path for v in matrices}
        for v in matrices:
            print(f"| `{v.path.split('/', 1)[1]}` | {tuple(v.shape)} | {change({v.path}):+.2f} | {change(every - {v.path}):+.2f} |",
                  flush=True)
        print(f"| every matrix | | {change(every):+.2f} | |", flush=True)


if __name__ == "__main__":
    main()
