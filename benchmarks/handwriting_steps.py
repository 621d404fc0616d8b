"""Why written lines are hard to read: the pen's steps and the lines' size, written against the data.

For the first --lines test texts of a handwriting model's dataset, prints the length of the pen-down
steps (median and 10th / 90th percentiles, in the data's units) and the median width and height of
the lines, for the ground-truth strokes, for the lines the model writes on its own (`model.write`,
seed 0) at each --biases value, and for points sampled one at a time from the model's predictions
under teacher forcing (the true previous point fed in, as in training). If the teacher-forced steps
match the data and the written ones do not, the model drifts when it reads its own samples
(exposure bias), not because its mixture fits the steps badly.

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/handwriting_steps.py [--weights TAG or FILE.weights.h5] [--lines 100] [--biases 0 1]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import zoo  # noqa: E402
from export.stroke_writer import sample  # noqa: E402
from recipes import data  # noqa: E402


def pen_down_steps(lines):
    """Lengths of the steps taken with the pen down (not the jump after a pen lift)."""
    steps = []
    for s in lines:
        s = np.asarray(s, np.float64)
        steps.append(np.hypot(s[1:, 0], s[1:, 1])[s[:-1, 2] < 0.5])
    return np.concatenate(steps)


def size(lines):
    """Median (width, height) of the lines' pen paths."""
    extents = [np.ptp(np.cumsum(np.asarray(s, np.float64)[:, :2], 0), 0) for s in lines]
    return np.median(extents, 0)


def teacher_forced_steps(model, drawn, bias, rng):
    """Steps sampled from the model's prediction at each point of the true lines (pen down both before
    and at the step, as `pen_down_steps` counts them)."""
    from keras import ops

    inputs = drawn.inputs(np.arange(len(drawn)))
    strokes, lengths = np.asarray(inputs["strokes"]), np.asarray(drawn.lengths)
    serve = model.serving_signature()[1]
    state = {f"state_{k}": v for k, v in model.initial_state(len(strokes)).items()}
    point, steps = np.zeros((len(strokes), 3), np.float32), []
    text = {"text": np.asarray(inputs["text"])} if model.conditional else {}
    for t in range(strokes.shape[1]):
        out = serve(point=point, bias=np.full(len(strokes), bias, np.float32), **text, **state)
        out = {k: ops.convert_to_numpy(v) for k, v in out.items()}
        state = {k: out[k] for k in state}
        x = sample(out, rng)
        counted = (t < lengths - 1) & (point[:, 2] < 0.5) & (t > 0)
        steps.append(np.hypot(x[counted, 0], x[counted, 1]))
        point = strokes[:, t]
    return np.concatenate(steps)


def row(name, steps, extent="–"):
    p10, p50, p90 = np.percentile(steps, [10, 50, 90])
    width, height = ("–", "–") if isinstance(extent, str) else (f"{extent[0]:.1f}", f"{extent[1]:.1f}")
    print(f"| {name} | {p50:.3f} | {p10:.3f} – {p90:.3f} | {width} | {height} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default=None,
                        help="handwriting weights: a tag, or a .weights.h5 file with the card `zoo train` wrote "
                             "beside it (default: the default weights)")
    parser.add_argument("--lines", type=int, default=100)
    parser.add_argument("--biases", type=float, nargs="+", default=[0.0, 1.0])
    args = parser.parse_args()
    weights = args.weights or "default"
    model, card = zoo.load("handwriting", weights=weights), zoo.info("handwriting", weights=weights)
    tag, dataset = card["tag"], card["data"]["dataset"]
    drawn = data.load_strokes(dataset, "test", limit=args.lines)
    texts = list(drawn.texts)
    print(f"handwriting:{tag}, the first {len(texts)} {dataset} test lines (pen-down steps in the data's units)\n")
    print("| lines | median step | 10th – 90th percentile | median width | median height |")
    print("|---|---:|---:|---:|---:|")
    row("ground truth", pen_down_steps(drawn.strokes), size(drawn.strokes))
    for bias in args.biases:
        written = [r["strokes"] for r in model.write(texts, bias=bias, seed=0)]
        row(f"written, bias {bias:g}", pen_down_steps(written), size(written))
    for bias in args.biases:
        row(f"teacher-forced samples, bias {bias:g}", teacher_forced_steps(model, drawn, bias, np.random.default_rng(0)))


if __name__ == "__main__":
    main()
