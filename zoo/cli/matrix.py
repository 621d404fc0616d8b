"""zoo matrix: the export matrix (every pretrained model × SavedModel, TFLite fp32, float16, dynamic
range, int8) from the cards; --run measures the missing cells as `zoo export --write` does."""

from export.matrix import FORMATS

HELP = ("the export matrix (every pretrained model × SavedModel, TFLite fp32, float16, dynamic range, int8) from "
        "the cards; --run measures the missing cells with `zoo export --write`")


def add_arguments(parser):
    parser.add_argument("--run", action="store_true", dest="measure",
                        help="export and measure the cells the cards do not hold yet")
    parser.add_argument("--again", action="store_true", help="with --run: measure every selected cell again")
    parser.add_argument("--models", nargs="*", help="only these models")
    parser.add_argument("--weights", nargs="*", help="only these weights tags")
    parser.add_argument("--formats", nargs="*", default=list(FORMATS), choices=FORMATS, help="only these formats")
    parser.add_argument("--update-readme", action="store_true", help="write the table into the Markdown file between its markers")
    parser.add_argument("--readme", default="docs/deployment.md", help="the Markdown file --update-readme writes (default: docs/deployment.md)")


def run(args):
    from export import matrix, records
    from recipes.testset import TestSet
    from zoo import registry
    from zoo.tables import replace_block

    selected = [rec for rec in registry.all_records()
                if (not args.models or rec["model"] in args.models) and (not args.weights or rec["tag"] in args.weights)]
    if args.measure:
        keys = [matrix.export_key("saved_model" if f == "saved_model" else "tflite", f) for f in args.formats]
        records.run_cells(selected, TestSet, keys, only_missing=not args.again)
        selected = [registry.record(rec["model"], rec["tag"]) for rec in selected]
    text = matrix.markdown(selected)
    if args.update_readme:
        print(f"updated {replace_block(args.readme, matrix.README_MARKERS, text)}")
    else:
        print(text)
    missing = matrix.missing_cells(selected)
    if missing:
        print(f"{len(missing)} cells not run yet (`zoo matrix --run` runs them), e.g. "
              + ", ".join(f"{rec['model']}:{rec['tag']} {key}" for rec, key in missing[:3]))
