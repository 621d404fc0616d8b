"""How far a translator's `confidence` separates the texts it can read from those it cannot.

`translate` answers every readable text with a date, "hello world" included; its `confidence`,
the output's probability under the model, is what a caller thresholds. This prints the
confidence on the test split of the dates data beside phrases that are no dates (greedy decoding),
and the share of each above a few thresholds:

    python benchmarks/translator_confidence.py [--weights dates_bahdanau] [--limit 1000]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import zoo  # noqa: E402
from recipes import data  # noqa: E402

NOT_DATES = ["hello world", "the quick brown fox", "banana", "zzzz", "what day is it", "seven", "monday",
             "good morning", "tuesday june", "on the 5th", "march march", "12345678", "2020", "31", "xmas", "july"]
THRESHOLDS = (0.5, 0.7, 0.9)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default="default")
    parser.add_argument("--limit", type=int, default=1000, help="test texts of the dates data")
    args = parser.parse_args()
    model = zoo.load("seq2seq", weights=args.weights)
    sources, _ = data.load_texts("dates", "test", limit=args.limit)
    dates = np.array([r["confidence"] for r in model.translate(list(sources))])
    others = model.translate(NOT_DATES)
    print(f"seq2seq:{args.weights}, greedy. Confidence = Π p(y_t | y_<t, x) of the output.\n")
    print("| inputs | n | min | 1st percentile | median | " + " | ".join(f"share ≥ {t}" for t in THRESHOLDS) + " |")
    print("|---|---|---|---|---|" + "---|" * len(THRESHOLDS))
    other = np.array([r["confidence"] for r in others])
    for name, c in (("dates test split", dates), ("phrases that are no dates", other)):
        shares = " | ".join(f"{100 * np.mean(c >= t):.1f}%" for t in THRESHOLDS)
        print(f"| {name} | {len(c)} | {c.min():.3f} | {np.percentile(c, 1):.3f} | {np.median(c):.3f} | {shares} |")
    print("\n| phrase | output | confidence |\n|---|---|---|")
    for text, r in sorted(zip(NOT_DATES, others), key=lambda pair: -pair[1]["confidence"]):
        print(f"| {text!r} | {r['text']} | {r['confidence']:.3f} |")


if __name__ == "__main__":
    main()
