"""Deployment cost of every model on this machine's CPU: Keras against LiteRT fp32 and int8.

For each model's default weights (every weights tag with --all) prints the parameter count, the
size of the fp32 and int8 `.tflite` files, and median latency at batch 1 and 32 of Keras
(`predict_on_batch`), LiteRT fp32 and LiteRT int8, with LiteRT fp32's speed-up over Keras at
batch 1. The files come from `zoo export` (parity-checked against Keras before they are timed).

Loops are timed as users run them: a translator translates texts (greedy), a captioner captions
images (greedy), both through their LiteRT drivers against `model.translate` / `model.caption`;
their files offer no full int8 (the state fed back each step would be quantized), so their int8
column times the dynamic-range file (marked "dyn"), as it does for a stroke writer (handwriting),
timed writing test texts at bias 1 (`model.write` against the LiteRT `Writer`) and for a model whose
full int8 is refused (its `int8_alternative`, the file it names). A generator (DRAW) is timed on
noise → images through its serving function on both sides.

    python benchmarks/deployment.py [--all] [--runs 20] [--models NAME ...]
"""

import argparse
import os
import platform
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import zoo  # noqa: E402
from export.records import LOOPS, export_record, tflite_path  # noqa: E402
from export.runtime import Runtime, median_ms  # noqa: E402
from recipes.testset import TestSet  # noqa: E402
from zoo import registry  # noqa: E402

BATCHES = (1, 32)


def _translator(model, rec, path):
    from export.seq2seq import Translator

    texts, lite = TestSet(rec).examples(32)[0], Translator(path)
    return (lambda b: model.translate(texts[:b])), (lambda b: lite.translate(texts[:b]))


def _captioner(model, rec, path):
    from export.captioner import Captioner

    images, lite = TestSet(rec).examples(32)[0], Captioner(path)
    return (lambda b: model.caption(images[:b], beam_size=1)), (lambda b: lite.caption(images[:b], beam_size=1))


def _generator(model, rec, path):
    noise, runtime = TestSet(rec).examples(32)[0]["noise"], Runtime(path)
    serve = model.serving_signature()[1]
    return (lambda b: serve(noise[:b])), (lambda b: runtime(noise=noise[:b]))


def _one_graph(model, rec, path):  # classifiers, language models: a batch of test inputs in, one output
    inputs, runtime = TestSet(rec).examples(32)[0], Runtime(path)
    (name,) = runtime.input_details
    return (lambda b: model.predict_on_batch(inputs[:b])), (lambda b: runtime(**{name: inputs[:b]}))


def _stroke_writer(model, rec, path):
    from export.stroke_writer import Writer
    from recipes import data

    texts, lite = data.load_strokes(rec["data"]["dataset"], "test", limit=32).texts, Writer(path)
    return (lambda b: model.write(texts[:b], bias=1.0)), (lambda b: lite.write(texts[:b], bias=1.0))


def _question_answerer(model, rec, path):  # images and question ids in, by name
    inputs, runtime = TestSet(rec).examples(32)[0], Runtime(path)
    return (lambda b: model.predict_on_batch({k: v[:b] for k, v in inputs.items()})), \
        (lambda b: runtime(**{k: v[:b] for k, v in inputs.items()}))


# Per task: (Keras, LiteRT) callables of a batch size, for the file at `path`.
TIMERS = {"translator": _translator, "captioner": _captioner, "generator": _generator,
          "classifier": _one_graph, "language_model": _one_graph, "question_answerer": _question_answerer,
          "stroke_writer": _stroke_writer}


def measure(rec, runs, workdir):
    model, task = zoo.load(rec["model"], weights=rec["tag"]), registry.task(rec["model"])
    # no full int8 for a loop that feeds its state back, nor where the model refuses it: the file named instead
    compressed = "dynamic" if task in LOOPS or task == "stroke_writer" else "int8"
    compressed = (getattr(model, "int8_alternative", None) or (compressed,))[0]
    row = {"params": model.count_params(), "int8_kind": {"dynamic": "dyn"}.get(compressed, compressed)}
    for column, quantize in (("fp32", "fp32"), ("int8", compressed)):
        path = tflite_path(rec, quantize, str(Path(workdir) / f"{rec['model']}.{rec['tag']}.{quantize}.tflite"))
        export_record(rec, "tflite", quantize, TestSet(rec, limit=32), out=str(path))
        row[f"{column}_kib"] = path.stat().st_size / 1024
        keras, lite = TIMERS[task](model, rec, path)
        for b in BATCHES:
            repeats = runs if b == 1 else max(3, runs // 4)
            row[f"{column}_{b}"] = median_ms(lambda: lite(b), repeats)
            if column == "fp32":
                row[f"keras_{b}"] = median_ms(lambda: keras(b), repeats)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="every weights tag, not only each model's default")
    parser.add_argument("--runs", type=int, default=20, help="timed calls at batch 1 (a quarter of them at batch 32)")
    parser.add_argument("--models", nargs="*", help="only these models (default: every registered model)")
    args = parser.parse_args()
    import keras

    print(f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; Keras {keras.__version__} "
          f"on {keras.backend.backend()}; LiteRT with its default threads. Median ms per call.\n")
    header = ("| model | weights | parameters | fp32 KiB | int8 KiB | Keras b1 | LiteRT fp32 b1 | LiteRT int8 b1 | "
              "Keras b32 | LiteRT fp32 b32 | LiteRT int8 b32 | fp32 speed-up b1 |")
    print(header)
    print("|" + "---|" * header.count(" | ") + "---|")
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.models or zoo.list_models(pretrained=True):
            tags = registry.records(name) if args.all else {registry.entry(name).default_weights: None}
            for tag in tags:
                rec = registry.record(name, tag)
                r = measure(rec, args.runs, workdir)
                kind = "" if r["int8_kind"] == "int8" else " (dyn)"
                print(f"| `{name}` | `{tag}` | {r['params']:,} | {r['fp32_kib']:,.0f} | {r['int8_kib']:,.0f}{kind} | "
                      f"{r['keras_1']:.2f} | {r['fp32_1']:.2f} | {r['int8_1']:.2f} | {r['keras_32']:.2f} | "
                      f"{r['fp32_32']:.2f} | {r['int8_32']:.2f} | {r['keras_1'] / r['fp32_1']:,.0f}× |", flush=True)


if __name__ == "__main__":
    main()
