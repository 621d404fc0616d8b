"""Does the sampling bias make the handwriting model readable? Graves' bias b (eqs. 61–62: sharper
mixture weights, narrower Gaussians) against Tesseract's character error rate.

Writes the first --lines texts of the weights' dataset's --split (default test) at each bias (seed
0, as the card's `recipes.evaluate.readability`, which measures test texts at bias 1) and prints the
CER of what was written beside the CER of the same texts' ground-truth strokes, with the window's
measures; first, the test NLL (as `zoo eval`), so that weights can be compared on both. A bias to
write with is chosen on the training texts (`--split train`), not the test's.

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/handwriting_bias.py [--weights TAG or FILE.weights.h5] [--biases 0.5 1 2 3 5]
        [--split train]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import zoo  # noqa: E402
from recipes import evaluate  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default=None,
                        help="handwriting weights: a tag, or a .weights.h5 file with the card `zoo train` wrote "
                             "beside it (default: the default weights)")
    parser.add_argument("--biases", type=float, nargs="+", default=[0.0, 0.5, 1.0, 2.0, 3.0, 5.0])
    parser.add_argument("--lines", type=int, default=evaluate.READABILITY_LINES)
    parser.add_argument("--split", default="test", choices=("train", "test"))
    args = parser.parse_args()
    weights = args.weights or "default"
    model, card = zoo.load("handwriting", weights=weights), zoo.info("handwriting", weights=weights)
    tag, dataset = card["tag"], card["data"]["dataset"]
    nll = evaluate.evaluate_strokes(model, dataset, "test")
    print(f"handwriting:{tag}: test NLL {nll['nll']:.2f} nats a line, {nll['nll_per_point']:.4f} a point "
          f"({nll['examples']} test lines); the first {args.lines} {dataset} {args.split} texts, seed 0\n")
    print("| bias | OCR CER, written | OCR CER, ground truth | window forward | lines stopped by the window |")
    print("|---:|---:|---:|---:|---:|")
    for bias in args.biases:
        r = evaluate.readability(model, dataset, split=args.split, limit=args.lines, bias=bias)
        print(f"| {bias:g} | {r['cer']:.2f}% | {r['cer_ground_truth']:.2f}% | {r['window_monotone_percent']:.2f}% "
              f"| {r['stopped_percent']:.1f}% |", flush=True)


if __name__ == "__main__":
    main()
