"""Where a VQA model's attention peaks, question type by question type: of the test questions whose
answer is held by an item, the share whose peak (each hop's) lies in that item's box, and the last
hop's share among the questions answered right and wrong. The card's grounding is the last hop over
all these questions; this splits it, to show which questions are answered without looking at the
answer's item.

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/vqa_grounding.py [--weights TAG] [--split test]
"""

import argparse

import zoo
from recipes import data
from recipes.evaluate import answer_questions, peaks_in_item
from zoo import registry


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default="default", help="vqa weights tag with attention (default: the default)")
    parser.add_argument("--split", default="test", choices=("test", "compositional"))
    args = parser.parse_args()
    rec = registry.record("vqa", args.weights)
    if not rec["config"].get("hops", 0):
        raise SystemExit(f"expected vqa weights with attention hops; {rec['tag']!r} has none")
    questions = data.load_questions(rec["data"]["dataset"], args.split)
    predicted, maps = answer_questions(zoo.load("vqa", weights=rec["tag"]), questions)
    hops, peaks = maps.shape[1], peaks_in_item(maps, questions, 1)
    print(f"vqa:{rec['tag']} on {rec['data']['dataset']}'s {args.split} split: the attention peak in the box of "
          f"the item that holds the answer\n")
    print("| type | questions | answered | " + " | ".join(f"peak on it, hop {h + 1}" for h in range(hops))
          + " | last hop on it, right answers | wrong answers |")
    print("|---|---:|---:|" + "---:|" * (hops + 2))
    for t, name in enumerate(questions.question_types):
        chosen = (questions.types == t) & (questions.boxes[:, 1, 0] >= 0)
        if not chosen.any():
            continue
        right = predicted[chosen] == questions.answers[chosen]
        on = peaks[chosen]
        by_answer = [f"{100 * on[which, -1].mean():.1f}%" if which.any() else "–" for which in (right, ~right)]
        print(f"| {name} | {chosen.sum()} | {100 * right.mean():.2f}% | "
              + " | ".join(f"{100 * share:.1f}%" for share in on.mean(0)) + f" | {' | '.join(by_answer)} |")


if __name__ == "__main__":
    main()
