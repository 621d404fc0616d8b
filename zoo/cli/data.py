"""zoo data [NAME]: the datasets; one described (JSON), and with --preview a look at its first
examples in the way its kind of data shows best (`recipes.data.preview`: a PNG grid of images or
scenes, texts, bit strings, a corpus's lines)."""

import json

HELP = "list datasets, describe one, --preview writes a PNG grid (texts, bit strings, corpora: prints examples)"


def add_arguments(parser):
    parser.add_argument("name", nargs="?", help="a dataset name (none: list them)")
    parser.add_argument("--preview", action="store_true", help="show the first examples (a PNG grid of images or scenes)")
    parser.add_argument("--split", default="train", help="train or test (default: train)")
    parser.add_argument("--out", help="the PNG to write (default: NAME.png)")


def run(args):
    from recipes import data

    if args.name is None:
        print("\n".join(data.list_datasets()))
        return
    print(json.dumps(data.info(args.name), indent=2, default=str, ensure_ascii=False))
    if args.preview:
        for line in data.preview(args.name, args.out or f"{args.name}.png", args.split):
            print(line)
