"""What makes a compositional question hard for a VQA model: its answers on the compositional
split, question type by question type, apart for the questions that are new by a held-out
class–cell pair (a class named at a cell where training never names it) and those new by the
phrasing training never uses, one column pair per weights tag; then, for the new phrasings, how
many of the answers are not an answer of the question's type at all ("small" to "can you see a
seven?"): the question read as another type. Where types share answer words (every class noun
answers "what" and relational questions; on digit scenes "two" is a class and a count) a misreading
between them does not show: the share is a lower bound.

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/vqa_compositional.py [--weights TAG [TAG ...]]
"""

import argparse

import numpy as np

import zoo
from recipes import data
from recipes.evaluate import answer_questions
from zoo import registry


def cell(hits, chosen):
    """'share %' of the chosen questions that `hits` marks (and how many are chosen), or '–' where
    none is chosen."""
    return f"{100 * hits[chosen].mean():.1f}% ({chosen.sum()})" if chosen.any() else "–"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", nargs="+", default=["default"], help="vqa weights tags of one dataset (default: the default)")
    args = parser.parse_args()
    records = [registry.record("vqa", tag) for tag in args.weights]
    datasets = {rec["data"]["dataset"] for rec in records}
    if len(datasets) != 1:
        raise SystemExit(f"expected weights trained on one dataset; got {sorted(datasets)}")
    questions = data.load_questions(datasets.pop(), "compositional")
    predicted = [answer_questions(zoo.load("vqa", weights=rec["tag"]), questions)[0] for rec in records]
    right = [p == questions.answers for p in predicted]
    print(f"{questions.answers.size} compositional questions of {records[0]['data']['dataset']}: right answers (questions)\n")
    print("| type | " + " | ".join(f"`{rec['tag']}`, new pair | new phrasing" for rec in records) + " |")
    print("|---|" + "---:|---:|" * len(records))
    for t, name in enumerate(questions.question_types):
        kind = questions.types == t
        pair, phrasing = kind & questions.held_out_pair, kind & questions.held_out_phrasing
        print(f"| {name} | " + " | ".join(f"{cell(r, pair)} | {cell(r, phrasing)}" for r in right) + " |")

    print("\nNew phrasing: answers that no question of the type has (the question read as another type)\n")
    print("| type | " + " | ".join(f"`{rec['tag']}`" for rec in records) + " |")
    print("|---|" + "---:|" * len(records))
    for t, name in enumerate(questions.question_types):
        kind = questions.types == t
        phrasing = kind & questions.held_out_phrasing
        own = np.unique(questions.answers[kind])
        print(f"| {name} | " + " | ".join(cell(~np.isin(p, own), phrasing) for p in predicted) + " |")


if __name__ == "__main__":
    main()
