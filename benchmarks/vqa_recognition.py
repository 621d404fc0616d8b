"""Do the VQA model's answers stop where telling the items apart stops? Its "what is at …?" answers,
class by class, beside a classifier's accuracy on the same classes as single full-size images.

A "what" answer is right only if the attended item's class is read right, and a relational answer
("what is left of the bag?") needs two items read right: so a model's "what" accuracy sits near the
classifier's, and its relational accuracy near the classifier's accuracy squared. The table gives
both, per class and in total, the model's by the asked item's size (28 px, 16 px, an empty cell),
and the share of wrong answers that confuse two of the classes the classifier confuses most (its
top five by errors).

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/vqa_recognition.py [--weights TAG] [--classifier cnn:mnist5k]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import zoo  # noqa: E402
from recipes import data, evaluate  # noqa: E402
from recipes.data import scenes  # noqa: E402
from zoo import registry  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default=None, help="vqa weights tag (default: the default)")
    parser.add_argument("--classifier", default=None,
                        help="MODEL:TAG classifying the scenes' items (default: the CNN of the scenes' items, cnn:BASE)")
    args = parser.parse_args()
    tag = args.weights or registry.entry("vqa").default_weights
    dataset = registry.record("vqa", tag)["data"]["dataset"]
    questions = data.load_questions(dataset, "test")
    classifier = args.classifier or f"cnn:{data.info(dataset)['base']}"
    predicted, _ = evaluate.answer_questions(zoo.load("vqa", weights=tag), questions)
    words = questions.answer_words

    name, classifier_tag = classifier.split(":")
    base = data.info(registry.record(name, classifier_tag)["data"]["dataset"])["base"]
    images, labels = data.load_arrays(base, "test")[:2]
    classified = np.argmax(np.asarray(zoo.load(name, weights=classifier_tag).predict(data.for_model(images), verbose=0)), -1)
    nouns = scenes.NOUNS[base]
    confused = np.bincount(labels[classified != labels], minlength=len(nouns))
    most_confused = np.argsort(-confused, kind="stable")[:5]
    most = {nouns[c] for c in most_confused}

    right = predicted == questions.answers
    what = questions.types == questions.question_types.index("what")
    relational = questions.types == questions.question_types.index("relational")
    print(f"vqa:{tag} on the {what.sum()} \"what\" questions of {dataset}'s test split; "
          f"{name}:{classifier_tag} on {len(labels)} single {base} test images\n")
    print("| class | vqa, \"what\" answers | classifier |")
    print("|---|---:|---:|")
    for c, noun in enumerate(nouns):
        asked = what & (questions.answers == words.index(noun))
        print(f"| {noun} | {100 * right[asked].mean():.1f}% | {100 * (classified[labels == c] == c).mean():.1f}% |")
    accuracy = 100 * (classified == labels).mean()
    print(f"| all (\"what\" also asks of empty cells) | {100 * right[what].mean():.2f}% | {accuracy:.2f}% |")
    drawn = data.load_scenes(f"scenes_{base}", "test")  # the questions' scenes: which answering item is small
    box = questions.boxes[:, 1]  # the answering item's (−1 for an empty cell)
    matches = np.all(drawn.boxes[questions.scene] == box[:, None], -1)  # (Q, items): the slot holding that box
    small = np.any(matches & drawn.small[questions.scene], -1)
    empty = box[:, 0] < 0
    for asked, label in ((~small & ~empty, f"large items ({scenes.LARGE} px)"), (small, f"small items ({scenes.SMALL} px)"),
                         (empty, "empty cells")):
        print(f"| {label}: {(what & asked).sum()} questions | {100 * right[what & asked].mean():.2f}% | |")
    print(f"| relational questions (two items) | {100 * right[relational].mean():.2f}% | {accuracy ** 2 / 100:.2f}% (squared) |")
    wrong = what & ~right
    among = [words[a] in most and words[p] in most for a, p in zip(questions.answers[wrong], predicted[wrong])]
    mistaken = (classified != labels) & np.isin(labels, most_confused) & np.isin(classified, most_confused)
    print(f"\nWrong answers confusing two of {', '.join(sorted(most))}: vqa {sum(among)} of {wrong.sum()} "
          f"({100 * np.mean(among):.0f}%); classifier {mistaken.sum()} of {(classified != labels).sum()} "
          f"({100 * mistaken.sum() / (classified != labels).sum():.0f}%).")


if __name__ == "__main__":
    main()
