"""zoo demo: each model's default weights (every tag with --all) loaded, its attention drawn on
test examples, exported to TFLite and checked; a table of what came out."""

from pathlib import Path

from zoo.cli import common

HELP = "load each model's default weights, draw its attention, export and check it"
EXAMPLES = {"classifier": 16, "language_model": 16, "translator": 6, "captioner": 4, "generator": 0,
            "question_answerer": 6, "stroke_writer": 4}  # drawn per task
LITE_METRIC = {"classifier": "test_accuracy_tflite", "translator": "test_exact_match_tflite",
               "captioner": "test_bleu4_tflite", "language_model": "test_bpc_tflite",
               "question_answerer": "test_accuracy_tflite", "stroke_writer": "test_nll_tflite"}  # a generator's file has none


def add_arguments(parser):
    parser.add_argument("--out", default="demo_out", help="folder for the pictures and .tflite files (default: demo_out)")
    parser.add_argument("--all", action="store_true", help="every weights tag, not only the defaults (slow)")


def run(args):
    import zoo
    from export.records import export_record
    from recipes.testset import TestSet
    from zoo import registry, tasks

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in zoo.list_models():
        for tag, rec in registry.records(name).items():
            if tag != registry.entry(name).default_weights and not args.all:
                continue
            model, task = zoo.load(name, weights=tag), registry.task(name)
            test = TestSet(rec, limit=1000)
            picture = model.picture(*test.examples(EXAMPLES[task]), out / f"{name}.{tag}.png")
            result = export_record(rec, "tflite", "fp32", test, out=out / f"{name}.{tag}.tflite")
            parity = result[tasks.get(task).parity_key]
            lite = result.get(LITE_METRIC.get(task))
            rows.append([name, tag, rec["data"]["dataset"], common.metric(rec), f"{parity:.1e}",
                         "–" if lite is None else f"{lite:.2f}", f"{result['size_kib']:.0f} KiB", picture.name])
            print(f"  {name}:{tag} done", flush=True)
    if not rows:
        print("no pretrained weights in the zoo yet")
        return
    print()
    print(common.table(rows, ["model", "weights", "data", "test (card)", "TFLite parity",
                              "TFLite metric (1k): accuracy %, exact match %, BLEU-4, BPC, NLL nats a line", "TFLite size", "picture"]))
    print(f"\npictures and .tflite files in {out}/")
