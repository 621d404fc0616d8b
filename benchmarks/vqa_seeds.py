"""The VQA ladder over seeds: each model's accuracies as mean ± standard deviation over its seeds
(the cards of TAG, TAG_seed1, TAG_seed2, … that `zoo eval vqa --weights … --write` wrote), then
for each rung of the ladder (the tags in the order given, best first) the margin of the means
beside the larger of the two models' spreads, and the margin seed by seed.

    python benchmarks/vqa_seeds.py --weights scenes_mnist5k_mlp_60e scenes_mnist5k_1hop_mlp_60e \
        scenes_mnist5k_none_mlp_60e scenes_mnist5k_blind_mlp_60e [--seeds 3]

The spread is the sample standard deviation over the seeds (ddof 1; none with one seed). "Without
counting" leaves out the compositional split's counting questions, all in its held-out phrasing,
whose all-or-nothing answers by seed dominate that split's spread.
"""

import argparse

import numpy as np

from recipes import data
from zoo import registry

COLUMNS = ("test", "compositional", "compositional, without counting", "relational, test",
           "relational, compositional", "grounding (last hop)")


def seed_tags(known, tag, seeds):
    """{seed: card} for TAG (seed 0) and TAG_seedN, N < seeds, among the cards `known` (tag → card)."""
    return {s: known[name] for s, name in enumerate([tag] + [f"{tag}_seed{s}" for s in range(1, seeds)]) if name in known}


def card_values(card, type_counts):
    """The COLUMNS of one card (None where the model has no attention)."""
    m = card["metrics"]
    if "compositional_accuracy" not in m:
        raise SystemExit(f"expected a card with compositional metrics; run `zoo eval vqa --weights {card['tag']} --write`")
    count = type_counts["count"]
    total = sum(type_counts.values())
    without_count = (m["compositional_accuracy"] * total - m["compositional_per_type"]["count"] * count) / (total - count)
    grounding = m.get("grounding_accuracy")
    return (m["accuracy"], m["compositional_accuracy"], without_count, m["per_type"]["relational"],
            m["compositional_per_type"]["relational"], grounding)


def spread(values):
    """'mean ± sd (v0, v1, …)' of the seeds' values; one seed has no spread."""
    v = np.asarray(values, dtype=float)
    if v.size == 1:
        return f"{v[0]:.2f} (one seed)"
    return f"{v.mean():.2f} ± {v.std(ddof=1):.2f} (" + ", ".join(f"{x:.2f}" for x in v) + ")"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", nargs="+", required=True, help="seed-0 vqa weights tags, best model first")
    parser.add_argument("--seeds", type=int, default=3, help="look for seeds 0 … N−1 (default 3)")
    args = parser.parse_args()
    known = registry.records("vqa")
    models = {tag: seed_tags(known, tag, args.seeds) for tag in args.weights}
    missing = [tag for tag, found in models.items() if not found]
    if missing:
        raise SystemExit(f"expected vqa weights tags with cards; none found for {missing}")
    datasets = {card["data"]["dataset"] for found in models.values() for card in found.values()}
    if len(datasets) != 1:
        raise SystemExit(f"expected weights trained on one dataset; got {sorted(datasets)}")
    dataset = datasets.pop()
    questions = data.load_questions(dataset, "compositional")
    type_counts = dict(zip(questions.question_types, np.bincount(questions.types, minlength=len(questions.question_types))))
    values = {tag: {s: card_values(card, type_counts) for s, card in found.items()} for tag, found in models.items()}

    print(f"vqa on {dataset}: mean ± sample standard deviation over the seeds (each seed's value in brackets)\n")
    print("| model | seeds | " + " | ".join(COLUMNS) + " |")
    print("|---|---|" + "---|" * len(COLUMNS))
    for tag, by_seed in values.items():
        columns = list(zip(*by_seed.values()))
        cells = [spread(column) if None not in column else "–" for column in columns]
        print(f"| `{tag}` | {', '.join(map(str, by_seed))} | " + " | ".join(cells) + " |")

    print("\nThe ladder: margin of the means (by seed) against the larger spread of the two models\n")
    print("| rung | " + " | ".join(COLUMNS[:5]) + " |")
    print("|---|" + "---|" * 5)
    for upper, lower in zip(args.weights, args.weights[1:]):
        shared = sorted(set(values[upper]) & set(values[lower]))
        cells = []
        for c in range(5):
            a = np.array([values[upper][s][c] for s in values[upper]])
            b = np.array([values[lower][s][c] for s in values[lower]])
            margin = a.mean() - b.mean()
            by_seed = ", ".join(f"{values[upper][s][c] - values[lower][s][c]:+.2f}" for s in shared)
            if min(a.size, b.size) < 2:
                cells.append(f"{margin:+.2f} ({by_seed}): one seed, no spread")
                continue
            larger = max(a.std(ddof=1), b.std(ddof=1))
            cells.append(f"{margin:+.2f} ({by_seed}) vs {larger:.2f}: {'beyond' if margin > larger else 'within'}")
        print(f"| `{upper}` > `{lower}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
