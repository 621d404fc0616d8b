"""The `zoo` command: list, info, data, train, eval, export, predict, demo.

Heavy imports (TensorFlow, Keras) happen inside the commands that need them, so that
`zoo predict FILE.tflite INPUT` runs with only NumPy and ai-edge-litert.
"""

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from zoo.inputs import check_image_values
from zoo.matrix import FORMATS as MATRIX_FORMATS

QUANT_CHOICES = ("fp32", "float16", "dynamic", "int8")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter off the terminal


def _table(rows, headers):
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths))  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def _metric(rec):
    from recipes.evaluate import headline

    m = (rec or {}).get("metrics")
    return headline(m) if m else "not evaluated"


def cmd_list(args):
    import zoo
    from zoo import registry

    rows = []
    for name in zoo.list_models():
        entry = registry.entry(name)
        tags = sorted(registry.records(name))
        shown = [f"{t}*" if t == entry.default_weights else t for t in tags]
        rows.append([name, entry.summary, ", ".join(shown) or "(no pretrained weights)"])
    print(_table(rows, ["model", "summary", "weights tags (* = default)"]))


def cmd_info(args):
    import zoo
    from zoo import matrix, registry

    card = zoo.info(args.name)
    print(f"{card['name']}: {card['summary']}\ntask: {card['task']} ({registry.TASKS[card['task']]})\n"
          f"paper: {card['paper']}\ndefault weights: {card['default_weights']}")
    print("options: " + ", ".join(f"{k}={v!r}" for k, v in card["options"].items()))
    for tag, rec in card["weights"].items():
        print(f"\n[{args.name}:{tag}]  {rec['data']['dataset']} ({rec['data']['description']})")
        print(f"  test: {_metric(rec)}  ({rec.get('eval_command', 'run zoo eval to measure')})")
        if rec.get("baseline"):
            base = rec["baseline"]
            base_rec = registry.records(base["model"]).get(base["tag"])
            print(f"  baseline {base['model']}:{base['tag']}: {_metric(base_rec)}  (same recipe, same data)")
        print(f"  parameters: {rec['parameters']:,}   file: {rec['file']}   sha256: {rec['sha256']}")
        print(f"  trained by: {rec['train_command']}  ({rec['training']['epochs']} epochs, "
              f"{rec['training']['seconds'] / 60:.1f} min on {rec['training']['hardware']}, {rec['training']['backend']})")
        for key in matrix.KEYS:  # size · test metric change · batch-1 latency, or why not (`zoo matrix`)
            cell = (rec.get("export") or {}).get(key)
            if cell is None:
                print(f"  export {key}: not measured yet (zoo matrix --run --models {args.name} --weights {tag})")
            elif "failed" in cell:
                print(f"  export {key}: not available: {cell['failed']}")
            else:
                print(f"  export {key}: {matrix.cell_text(cell, {})}  ({cell['command']})"
                      + (f"\n    why: {cell['why']}" if cell.get("why") else ""))
    if args.json:
        print(json.dumps(card, indent=2, default=str))


def cmd_data(args):
    from recipes import data

    if args.name is None:
        print("\n".join(data.list_datasets()))
        return
    info = data.info(args.name)
    print(json.dumps(info, indent=2, default=str, ensure_ascii=False))
    if args.preview and info["kind"] == "text":
        for source, target in zip(*data.load_texts(args.name, args.split, limit=12)):
            print(f"  {source!r:>40} -> {target!r}")
    elif args.preview and info["kind"] == "captions":  # a grid of scenes, their references printed
        drawn = data.load_scenes(args.name, args.split, limit=12)
        for i, refs in enumerate(drawn.references):
            print(f"  scene {i}: " + "\n            ".join(refs))
        out = args.out or f"{args.name}.png"
        from recipes.data.preview import write_grid

        write_grid(drawn.images, [f"scene {i}" for i in range(len(drawn))], out, title=f"{args.name} ({args.split})")
        print(f"wrote {out}")
    elif args.preview and info["kind"] == "corpus":  # the split's first lines
        for line in data.CORPORA[args.name].text(args.split).splitlines()[:12]:
            print(f"  {line}")
    elif args.preview and info["kind"] == "vector":  # parity bits: the strings and their labels
        vectors, labels = data.load_arrays(args.name, args.split, limit=12)
        for vector, label in zip(vectors, labels):
            print(f"  {''.join(str(int(b)) for b in vector)} -> {info['labels'][label]}")
    elif args.preview:
        out = args.out or f"{args.name}.png"
        data.preview(args.name, out, split=args.split)
        print(f"wrote {out}")


def cmd_train(args):
    from recipes import configs, train

    if args.recipe is None:
        for name, recipe in sorted(configs.RECIPES.items()):
            print(f"{name}: {recipe.description}")
        return
    card = train.train(args.recipe, out_dir=args.out, epochs=args.epochs, limit=args.limit, strategy=args.strategy,
                       mixed_precision=args.mixed_precision, run_dir=args.run_dir, force=args.force)
    print(f"wrote {card['file']} (sha256 {card['sha256'][:12]}…, {card['parameters']:,} parameters) "
          f"in {card['training']['seconds'] / 60:.1f} min")
    print(f"next: zoo eval {card['model']} --weights {card['tag']} --write (with the files in zoo/weights or "
          f"$ATTENTION_ZOO_HOME)")


def cmd_eval(args):
    from recipes.evaluate import HEADLINE_KEYS, evaluate_record, headline
    from zoo import registry

    rec = registry.record(args.name, args.weights)
    metrics = evaluate_record(args.name, rec["tag"], write=args.write, limit=args.limit)
    print(f"{args.name}:{rec['tag']} on {rec['data']['dataset']} {metrics['split']} ({metrics['examples']} examples): "
          f"{headline(metrics)}")
    if "by_length" in metrics:
        print(f"  beam 3: {metrics['exact_match_beam3']:.2f}% exact match; by source length (characters): "
              + ", ".join(f"{k}: {v['exact_match']:.2f}% of {v['examples']}" for k, v in metrics["by_length"].items()))
    if rec.get("metrics") and not args.write and "bleu4" not in metrics:
        key = next(k for k in HEADLINE_KEYS if k in metrics)
        print(f"card says {headline(rec['metrics'])}: difference {metrics[key] - rec['metrics'][key]:+.2f} points")
    if args.write:
        print(f"wrote the metrics into {registry.record_path(args.name, rec['tag'])}")


def _test_scenes(rec, limit=None):
    """A captioner's test scenes: (images float32 in [0, 1], their reference captions)."""
    from recipes import data

    drawn = data.load_scenes(rec["data"]["dataset"], rec["data"]["test_split"], limit=limit)
    return data.for_model(drawn.images), drawn.references


def _test_arrays(rec, limit=None):
    from recipes import data

    images, labels = data.load_arrays(rec["data"]["dataset"], rec["data"]["test_split"], limit=limit)
    return data.for_model(images), labels


def export_record(name, tag, fmt, quantize, out=None, write_card=False, eval_limit=None):
    """Export pretrained `name:tag`, check it, measure it; returns a result dict (used by the CLI and demo)."""
    import zoo
    from export import evaluate_tflite, to_tflite
    from export.runtime import Runtime, median_ms
    from export.tflite import gpu_delegate_report
    from recipes import data
    from recipes.evaluate import evaluate
    from zoo import registry
    from zoo import weights as store

    if write_card and eval_limit:
        raise ValueError("refusing to write export results measured on a subset (--eval-limit) into the card")
    rec = registry.record(name, tag)
    model, task = zoo.load(name, weights=rec["tag"]), registry.task(name)
    if task in ("translator", "captioner"):
        return _export_decoding_loop(model, rec, fmt, quantize, out, write_card, eval_limit)
    if task == "generator":
        return _export_generator(model, rec, fmt, quantize, out, write_card)
    if task == "language_model":
        return _export_language_model(model, rec, fmt, quantize, out, write_card, eval_limit)
    test_images, test_labels = _test_arrays(rec, eval_limit)
    check = test_images[:256]
    dataset, split = rec["data"]["dataset"], rec["data"]["test_split"]
    keras_accuracy = _keras_metrics(rec, eval_limit, lambda: evaluate(model, dataset, split, limit=eval_limit))["accuracy"]
    if fmt == "saved_model":
        return _export_saved_model(model, rec, check, out, write_card,
                                   lambda served: _accuracy_change(keras_accuracy, evaluate(served, dataset, split, limit=eval_limit)))
    path = _tflite_path(rec, quantize, out)
    representative = None
    if quantize == "int8":  # calibrate on the training split, never on the test split
        representative = data.for_model(data.load_arrays(dataset, "train", limit=500)[0])
    report = to_tflite(model, path, quantize=None if quantize == "fp32" else quantize,
                       representative=representative, check_inputs=check)
    lite_accuracy = round(100 * evaluate_tflite(path, test_images, test_labels), 2)
    runtime = Runtime(path)
    (input_name,) = runtime.input_details
    one = test_images[:1]
    result = {
        "path": str(path),
        "size_kib": round(report.size_bytes / 1024, 1),
        "parity_max_abs_diff": float(f"{report.max_abs_diff:.3g}"),
        "top1_agreement_percent": round(100 * report.top1_agreement, 2),
        **gpu_delegate_report(path),
        "test_accuracy_keras": keras_accuracy,
        "test_accuracy_tflite": lite_accuracy,
        "accuracy_change_points": round(lite_accuracy - keras_accuracy, 2),
        "test_examples": len(test_images),
        "latency_ms_batch1_litert": round(median_ms(lambda: runtime(**{input_name: one})), 3),
        "latency_ms_batch1_keras": round(median_ms(lambda: model(one, training=False)), 3),
    }
    # Metadata beside the file, so `zoo predict FILE.tflite` can name classes without TensorFlow.
    sidecar = {"model": name, "tag": rec["tag"], "quantize": quantize, "class_names": model.class_names,
               "input_spec": rec["input_spec"], "check": result}
    store.atomic_write_text(Path(str(path) + ".json"), json.dumps(sidecar, indent=2) + "\n")
    if write_card:
        _write_export(rec, export_key(fmt, quantize), result)
    return result


_KERAS_METRICS = {}


def _keras_metrics(rec, eval_limit, compute):
    """`compute()`: the Keras model's test metrics for `rec`'s weights, run once per process and
    weights file (an export matrix run compares several formats with them)."""
    key = (rec["model"], rec["tag"], rec.get("sha256"), eval_limit)
    if key not in _KERAS_METRICS:
        _KERAS_METRICS[key] = compute()
    return _KERAS_METRICS[key]


def export_key(fmt, quantize):
    """The model card's `export` entry of a format: "saved_model" or "tflite_<quantize>"."""
    return "saved_model" if fmt == "saved_model" else f"tflite_{quantize}"


def export_format(key):
    """(format, quantize) of a card's `export` entry `key`: the inverse of `export_key`."""
    return ("saved_model", None) if key == "saved_model" else ("tflite", key.removeprefix("tflite_"))


def export_command(rec, key):
    """The command that measures export entry `key` of `rec` and writes it into its card."""
    fmt, quantize = export_format(key)
    return (f"zoo export {rec['model']} --weights {rec['tag']} --format {fmt}"
            + (f" --quantize {quantize}" if quantize else "") + " --write")


def _write_export(rec, key, result):
    """Record an export result (without its local path) in the model card under `key`
    (`export_key`), with why it loses more than the budget where it does (`zoo.matrix.loss_note`)."""
    from zoo import registry
    from zoo import weights as store
    from zoo.matrix import loss_note

    fresh = registry.record(rec["model"], rec["tag"])
    entry = {k: v for k, v in result.items() if k != "path"}
    why = loss_note(rec["model"], key, entry)
    if why:
        entry["why"] = why
    entry["command"] = export_command(rec, key)
    fresh["export"] = {**(fresh.get("export") or {}), key: entry}
    store.atomic_write_text(registry.record_path(rec["model"], rec["tag"]),
                            json.dumps(fresh, indent=2, ensure_ascii=False) + "\n")


def _accuracy_change(keras_accuracy, served_metrics):
    """A SavedModel cell's test accuracy beside Keras's (same split)."""
    return {"test_accuracy_keras": keras_accuracy, "test_accuracy_saved_model": served_metrics["accuracy"],
            "accuracy_change_points": round(served_metrics["accuracy"] - keras_accuracy, 2)}


def _export_saved_model(model, rec, check, out, write_card, metrics=None):
    """A SavedModel export (signatures "serving_default", dynamic batch, and "serving_batch1"),
    reloaded and compared with Keras on `check`; `metrics(served)` measures the task metric through
    the reloaded signature called like the model."""
    from export import to_saved_model
    from export.runtime import median_ms
    from export.saved_model import open_signatures

    path = Path(out or f"{rec['model']}.{rec['tag']}_saved_model")
    report = to_saved_model(model, path, check_inputs=check)
    served = open_signatures(path)("serving_default")
    (input_name,) = model.serving_signature()[0]
    keras = model.serving_signature()[1]
    one = check[:1]
    output_name = sorted(keras(**{input_name: one}))[0]
    result = {
        "path": str(path),
        "size_kib": round(report.size_bytes / 1024, 1),
        "parity_max_abs_diff": float(f"{report.max_abs_diff:.3g}"),
        "check_inputs": report.checked_examples,
        **(metrics(_Outputs(served, input_name, output_name)) if metrics else {}),
        "latency_ms_batch1_saved_model": round(median_ms(lambda: served(**{input_name: one})), 3),
        "latency_ms_batch1_keras": round(median_ms(lambda: keras(**{input_name: one})), 3),
    }
    if write_card:
        _write_export(rec, export_key("saved_model", None), result)
    return result


def _tflite_path(rec, quantize, out):
    """`out` (a file, or a folder to put the default file in), or the default file of an export:
    MODEL.TAG[.QUANTIZE].tflite."""
    default = f"{rec['model']}.{rec['tag']}" + ("" if quantize == "fp32" else f".{quantize}") + ".tflite"
    path = Path(out) / default if out and Path(out).is_dir() else Path(out or default)
    if path.exists():
        print(f"replacing {path} (once the new export passes its check)")
    return path


def _export_decoding_loop(model, rec, fmt, quantize, out, write_card, eval_limit):
    """A translator's or captioner's export: `encode` + `step` signatures (TFLite file or
    SavedModel), checked by decoding 200 test inputs with its driver (`export.seq2seq.Translator`,
    `export.captioner.Captioner`), then measured on the test split beside Keras."""
    from export import captioner, seq2seq
    from export.runtime import median_ms
    from export.saved_model import open_signatures
    from export.tflite import gpu_delegate_report
    from recipes import data
    from recipes.evaluate import evaluate_captions, evaluate_translation
    from zoo import registry

    dataset, split = rec["data"]["dataset"], rec["data"]["test_split"]
    # Per kind: the driver, the test metrics (the first also as a change), the latency measured
    # (one input, decoded as the method does by default), 200 check inputs and the exporters.
    if registry.task(rec["model"]) == "translator":
        driver, evaluate, method = seq2seq.Translator, evaluate_translation, "translate"
        metrics, latency = ["exact_match"], "one_text_greedy"
        inputs = data.load_texts(dataset, split, limit=200)[0]
        to_tflite, to_saved_model = seq2seq.to_tflite_translator, seq2seq.to_saved_model_translator
    else:
        driver, evaluate, method = captioner.Captioner, evaluate_captions, "caption"
        metrics, latency = ["bleu4", "caption_accuracy"], "one_image_beam3"
        inputs = _test_scenes(rec, limit=200)[0]
        to_tflite, to_saved_model = captioner.to_tflite_captioner, captioner.to_saved_model_captioner
    extra = {"model": rec["model"], "tag": rec["tag"]}
    if fmt == "saved_model":
        path = Path(out or f"{rec['model']}.{rec['tag']}_saved_model")
        report = to_saved_model(model, path, inputs, extra_metadata=extra)
        exported = driver(path, signatures=open_signatures(path))
        side, runner, checks = "saved_model", "saved_model", {}
    else:
        path = _tflite_path(rec, quantize, out)
        report = to_tflite(model, path, inputs, quantize=None if quantize == "fp32" else quantize, extra_metadata=extra)
        exported = driver(path)
        side, runner, checks = "tflite", "litert", gpu_delegate_report(path)
    keras_metrics = _keras_metrics(rec, eval_limit, lambda: evaluate(model, dataset, split, limit=eval_limit))
    measured = evaluate(exported, dataset, split, limit=eval_limit)
    result = {"path": str(path), **report, **checks}
    for i, name in enumerate(metrics):
        result[f"test_{name}_keras"], result[f"test_{name}_{side}"] = keras_metrics[name], measured[name]
        if i == 0:
            result[f"{name}_change_points"] = round(measured[name] - keras_metrics[name], 2)
    one = inputs[:1]
    result["test_examples"] = keras_metrics["examples"]
    result[f"latency_ms_{latency}_{runner}"] = round(median_ms(lambda: getattr(exported, method)(one), runs=20), 3)
    result[f"latency_ms_{latency}_keras"] = round(median_ms(lambda: getattr(model, method)(one), runs=20), 3)
    if write_card:
        _write_export(rec, export_key(fmt, quantize), result)
    return result


def _export_generator(model, rec, fmt, quantize, out, write_card):
    """A generator's export: noise (B, T, latent_dim) → the canvases and the final images, checked
    on 256 noise draws (int8 calibrated on 256 other draws)."""
    from export import to_tflite
    from export.runtime import Runtime, median_ms
    from export.tflite import gpu_delegate_report
    from zoo import decoding
    from zoo import weights as store

    check = {"noise": decoding.standard_noise(256, model.steps, model.latent_dim, seed=0)}
    if fmt == "saved_model":
        return _export_saved_model(model, rec, check["noise"], out, write_card)
    path = _tflite_path(rec, quantize, out)
    representative = {"noise": decoding.standard_noise(256, model.steps, model.latent_dim, seed=1)} if quantize == "int8" else None
    report = to_tflite(model, path, quantize=None if quantize == "fp32" else quantize, representative=representative,
                       check_inputs=check)
    runtime, one = Runtime(path), check["noise"][:1]
    serve = model.serving_signature()[1]
    result = {
        "path": str(path),
        "size_kib": round(report.size_bytes / 1024, 1),
        "parity_max_abs_diff": float(f"{report.max_abs_diff:.3g}"),
        "check_inputs": report.checked_examples,
        **gpu_delegate_report(path),
        "latency_ms_batch1_litert": round(median_ms(lambda: runtime(noise=one)), 3),
        "latency_ms_batch1_keras": round(median_ms(lambda: serve(one)), 3),
    }
    meta = {"steps": model.steps, "latent_dim": model.latent_dim, "image_shape": list(model.image_shape)}
    sidecar = {"model": rec["model"], "tag": rec["tag"], "quantize": quantize, "generator": meta, "check": result}
    store.atomic_write_text(Path(str(path) + ".json"), json.dumps(sidecar, indent=2) + "\n")
    if write_card:
        _write_export(rec, export_key(fmt, quantize), result)
    return result


def _export_language_model(model, rec, fmt, quantize, out, write_card, eval_limit):
    """A character language model's export: a window of `context` ids (int32) → p(next character)
    at every position; checked on 256 test windows, then the test BPC measured through LiteRT."""
    from export import to_tflite
    from export.runtime import Runtime, median_ms
    from export.tflite import gpu_delegate_report
    from recipes import data
    from recipes.evaluate import evaluate_language_model
    from zoo import weights as store

    dataset, split = rec["data"]["dataset"], rec["data"]["test_split"]
    check = data.for_model(data.load_arrays(dataset, split, limit=256)[0])
    keras_bpc = _keras_metrics(rec, eval_limit, lambda: evaluate_language_model(model, dataset, split, limit=eval_limit))
    if fmt == "saved_model":
        def bpc(served):
            measured = evaluate_language_model(served, dataset, split, limit=eval_limit)["bpc"]
            return {"test_bpc_keras": keras_bpc["bpc"], "test_bpc_saved_model": measured,
                    "bpc_change": round(measured - keras_bpc["bpc"], 4)}

        return _export_saved_model(model, rec, check, out, write_card, bpc)
    path = _tflite_path(rec, quantize, out)
    representative = data.for_model(data.load_arrays(dataset, "train", limit=256)[0]) if quantize == "int8" else None
    report = to_tflite(model, path, quantize=None if quantize == "fp32" else quantize, representative=representative,
                       check_inputs=check)
    runtime, one = Runtime(path), check[:1]
    lite = _Outputs(runtime, "ids", "probabilities")
    lite_bpc = evaluate_language_model(lite, dataset, split, limit=eval_limit)
    result = {
        "path": str(path),
        "size_kib": round(report.size_bytes / 1024, 1),
        "parity_max_abs_diff": float(f"{report.max_abs_diff:.3g}"),
        "top1_agreement_percent": round(100 * report.top1_agreement, 2),
        **gpu_delegate_report(path),
        "test_bpc_keras": keras_bpc["bpc"],
        "test_bpc_tflite": lite_bpc["bpc"],
        "bpc_change": round(lite_bpc["bpc"] - keras_bpc["bpc"], 4),
        "test_characters": lite_bpc["characters"],
        "latency_ms_batch1_litert": round(median_ms(lambda: runtime(ids=one)), 3),
        "latency_ms_batch1_keras": round(median_ms(lambda: model(one, training=False)), 3),
    }
    meta = {"tokens": model.tokens, "context": model.context}
    sidecar = {"model": rec["model"], "tag": rec["tag"], "quantize": quantize, "language_model": meta, "check": result}
    store.atomic_write_text(Path(str(path) + ".json"), json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n")
    if write_card:
        _write_export(rec, export_key(fmt, quantize), result)
    return result


class _Outputs:
    """An exported serving function (LiteRT or SavedModel: named inputs → dict of arrays) called
    like the Keras model it came from: one input → one named output."""

    def __init__(self, serve, input_name, output_name):
        self.serve, self.input_name, self.output_name = serve, input_name, output_name

    def __call__(self, inputs, training=False):
        return self.serve(**{self.input_name: inputs})[self.output_name]


def cmd_export(args):
    result = export_record(args.name, args.weights, args.format, args.quantize, args.out, args.write, args.eval_limit)
    if "test_bleu4_tflite" in result:
        print(f"wrote {result['path']} (+ .json vocabulary): {result['size_kib']} KiB; on {result['check_inputs']} test "
              f"scenes LiteRT captions {result['identical_outputs_percent']}% identically to Keras (beam 3: "
              f"{result['identical_beam3_outputs_percent']}%), max |Δ log p| {result['max_abs_log_prob_diff']:.2e}")
        print(f"test BLEU-4 (beam 3): Keras {result['test_bleu4_keras']:.2f}, LiteRT {result['test_bleu4_tflite']:.2f}; "
              f"correct captions: Keras {result['test_caption_accuracy_keras']:.2f}%, LiteRT "
              f"{result['test_caption_accuracy_tflite']:.2f}% ({result['test_examples']} scenes)")
        print(f"latency, one image beam 3: LiteRT {result['latency_ms_one_image_beam3_litert']:.2f} ms, "
              f"Keras {result['latency_ms_one_image_beam3_keras']:.2f} ms")
        return
    if "test_exact_match_tflite" in result:
        print(f"wrote {result['path']} (+ .json vocabularies): {result['size_kib']} KiB; on {result['check_inputs']} test texts "
              f"LiteRT decodes {result['identical_outputs_percent']}% identically to Keras (beam 3: "
              f"{result['identical_beam3_outputs_percent']}%), max |Δ log p| {result['max_abs_log_prob_diff']:.2e}")
        print(f"test exact match: Keras {result['test_exact_match_keras']:.2f}%, LiteRT {result['test_exact_match_tflite']:.2f}% "
              f"({result['exact_match_change_points']:+.2f} points, {result['test_examples']} examples)")
        print(f"latency, one text greedy: LiteRT {result['latency_ms_one_text_greedy_litert']:.2f} ms, "
              f"Keras {result['latency_ms_one_text_greedy_keras']:.2f} ms")
        return
    if args.format == "saved_model":
        print(f"wrote {result['path']}: {result['size_kib']} KiB, reloaded and checked against Keras")
        for key, value in result.items():
            if key not in ("path", "size_kib"):
                print(f"  {key}: {value}")
        return
    if "test_bpc_tflite" in result:
        print(f"wrote {result['path']} (+ .json vocabulary): {result['size_kib']} KiB, parity max |LiteRT - Keras| "
              f"{result['parity_max_abs_diff']:.2e}, next-character agreement {result['top1_agreement_percent']}%")
        print(f"test bits per character: Keras {result['test_bpc_keras']:.4f}, LiteRT {result['test_bpc_tflite']:.4f} "
              f"({result['bpc_change']:+.4f}, {result['test_characters']:,} characters)")
        print(f"latency, one window: LiteRT {result['latency_ms_batch1_litert']:.2f} ms, Keras {result['latency_ms_batch1_keras']:.2f} ms")
        return
    if "test_accuracy_tflite" not in result:  # a generator: no test metric runs on its exported decoder
        print(f"wrote {result['path']}: {result['size_kib']} KiB, parity max |LiteRT - Keras| "
              f"{result['parity_max_abs_diff']:.2e} on {result['check_inputs']} noise draws")
        print(f"latency batch 1: LiteRT {result['latency_ms_batch1_litert']:.2f} ms, Keras {result['latency_ms_batch1_keras']:.2f} ms")
        return
    print(f"wrote {result['path']}: {result['size_kib']} KiB, parity max |LiteRT - Keras| {result['parity_max_abs_diff']:.2e}, "
          f"top-1 agreement {result['top1_agreement_percent']}%")
    print(f"test accuracy: Keras {result['test_accuracy_keras']:.2f}%, LiteRT {result['test_accuracy_tflite']:.2f}% "
          f"({result['accuracy_change_points']:+.2f} points, {result['test_examples']} examples)")
    print(f"latency batch 1: LiteRT {result['latency_ms_batch1_litert']:.2f} ms, Keras {result['latency_ms_batch1_keras']:.2f} ms")


def _read_input(path, shape, resize):
    """An image file or .npy as float32 (1, H, W, C) in [0, 1]."""
    path = Path(path)
    if not path.exists():
        raise SystemExit(f"zoo predict: input {path} does not exist")
    if path.suffix == ".npy":
        array = np.load(path)
        if array.dtype == np.uint8:
            array = array.astype("float32") / 255.0
    else:
        from PIL import Image

        try:
            image = Image.open(path).convert("L" if shape[-1] == 1 else "RGB")
        except OSError as error:  # not an image, or a truncated one
            raise ValueError(f"cannot read {path} as an image ({error}); give a PNG, JPEG or .npy file") from None
        if resize:
            image = image.resize((shape[1], shape[0]))
        array = np.asarray(image, dtype="float32") / 255.0
    array = np.asarray(array, dtype="float32")
    check_image_values(f"the model reading {path}", array)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim == 3:
        array = array[None]
    if tuple(array.shape[1:]) != tuple(shape):
        raise SystemExit(f"zoo predict: the model expects images of {shape[0]}×{shape[1]}×{shape[2]}; "
                         f"{path} is {'×'.join(map(str, array.shape[1:]))}" + ("" if resize else " (add --resize to scale it)"))
    return array


def _print_translation(result, text):
    print(result["text"])
    print(f"  log p = {result['score']:.4f}; alignment peaks: "
          + " ".join(f"{tok}←{text[int(np.argmax(a))]!r}" for tok, a in zip(result["tokens"], result["alignments"]) if len(text)))


def _print_caption(result):
    print(result["text"])
    grid = result["attention"].shape[1:]
    peaks = [np.unravel_index(np.argmax(a), grid) for a in result["attention"]]
    print(f"  log p = {result['score']:.4f}; attention peak (row, column of the {grid[0]}×{grid[1]} grid) per word: "
          + " ".join(f"{w}@{int(r)},{int(c)}" for w, (r, c) in zip(result["words"], peaks)))


def _write_samples(images, path):
    """Generated images (n, H, W, 1) in [0, 1] as one PNG row, 2 px apart (PIL, no matplotlib)."""
    from PIL import Image

    from zoo.weights import atomic_path

    n, height, width = images.shape[:3]
    sheet = np.zeros((height, n * (width + 2) - 2), np.uint8)
    for i, image in enumerate(images):
        sheet[:, i * (width + 2) : i * (width + 2) + width] = np.round(255 * image[..., 0]).astype(np.uint8)
    with atomic_path(path) as tmp:
        Image.fromarray(sheet).save(tmp, format="PNG")
    print(f"wrote {n} generated images to {path}")


def cmd_predict(args):
    if args.name.endswith(".tflite") and not Path(args.name).is_file():
        raise FileNotFoundError(f"{args.name}: no such file (zoo export writes MODEL.TAG[.QUANTIZE].tflite)")
    if args.name.endswith(".tflite"):
        from export.runtime import Runtime

        sidecar = Path(args.name + ".json")
        meta = json.loads(sidecar.read_text()) if sidecar.exists() else {}
        if "translator" in meta:  # INPUT is the text to translate
            from export.seq2seq import Translator

            _print_translation(Translator(args.name).translate([args.input], beam_size=args.beam)[0], args.input)
            return
        if "generator" in meta:  # INPUT is the PNG to write
            from zoo import decoding

            noise = decoding.standard_noise(args.samples, meta["generator"]["steps"], meta["generator"]["latent_dim"], args.seed)
            images = Runtime(args.name)(noise=noise)["images"]
            _write_samples(images, args.input)
            return
        if "language_model" in meta:  # INPUT is the text to continue
            from zoo import decoding

            tokens, context = meta["language_model"]["tokens"], meta["language_model"]["context"]
            runtime = Runtime(args.name)
            unknown = sorted(set(args.input) - set(tokens))
            if unknown:
                raise SystemExit(f"characters {unknown} are not in the model's vocabulary: {''.join(tokens)!r}")
            ids = [tokens.index(c) for c in args.input]
            pad = tokens.index("\n") if "\n" in tokens else 0
            print(args.input + decoding.continue_text(lambda w: runtime(ids=w)["probabilities"][0, -1], ids, tokens,
                                                      context, pad, args.length, args.temperature, args.seed))
            return
        if "captioner" in meta:  # INPUT is an image to caption
            from export.captioner import Captioner

            captioner = Captioner(args.name)
            image = _read_input(args.input, tuple(meta["captioner"]["image_shape"]), args.resize)
            _print_caption(captioner.caption(image, beam_size=args.beam)[0])
            return
        runtime = Runtime(args.name)
        shape = tuple(runtime.input_details["images"]["shape_signature"][1:])
        probs = runtime(images=_read_input(args.input, shape, args.resize))["probabilities"][0]
        names = meta.get("class_names") or [str(i) for i in range(len(probs))]
    else:
        import zoo

        from zoo import registry

        model, task = zoo.load(args.name, weights=args.weights), registry.task(args.name)
        if task == "translator":
            _print_translation(model.translate([args.input], beam_size=args.beam)[0], args.input)
            return
        if task == "captioner":
            _print_caption(model.caption(_read_input(args.input, model.image_shape, args.resize), beam_size=args.beam)[0])
            return
        if task == "generator":
            _write_samples(model.generate(args.samples, seed=args.seed)[0][:, -1], args.input)
            return
        if task == "language_model":
            print(args.input + model.complete(args.input, args.length, args.temperature, args.seed))
            return
        probs = np.asarray(model(_read_input(args.input, model.image_shape, args.resize)))[0]
        names = model.class_names
    for i in np.argsort(-probs)[: args.top]:
        print(f"{names[i]:>14}  {100 * probs[i]:6.2f}%")


README_MARKERS = ("<!-- results:start (generated by `zoo results --update-readme`) -->", "<!-- results:end -->")


def results_markdown():
    """Markdown tables of every record's measured test metrics, one table per dataset."""
    from zoo import registry

    by_data = {}
    for rec in registry.all_records():
        by_data.setdefault(rec["data"]["dataset"], []).append(rec)
    blocks = []
    for dataset, recs in sorted(by_data.items()):
        text = "exact_match" in (recs[0].get("metrics") or {})
        captions = "bleu4" in (recs[0].get("metrics") or {})
        generator = "nll_bound" in (recs[0].get("metrics") or {})
        corpus = "bpc" in (recs[0].get("metrics") or {})
        examples = recs[0].get("metrics", {}).get("examples", "?")
        if corpus:
            lines = [f"**{dataset}** ({recs[0]['data']['train_examples']:,} training characters, read in windows of 100; bits per "
                     f"character on {recs[0]['metrics']['characters']:,} test characters; lower is better)", "",
                     "| model | weights | BPC | next-character accuracy | cell | parameters | epochs | train time | "
                     "TFLite BPC change |", "|---|---|---|---|---|---|---|---|---|"]
        elif generator:
            lines = [f"**{dataset}** ({recs[0]['data']['train_examples']:,} training images, negative variational "
                     f"bound on {examples} test images, nats per image; lower is better)", "",
                     "| model | weights | NLL bound | reconstruction | KL | steps | parameters | epochs | train time | "
                     "TFLite parity |", "|---|---|---|---|---|---|---|---|---|---|"]
        elif captions:
            lines = [f"**{dataset}** ({recs[0]['data']['train_examples']:,} new training scenes an epoch, "
                     f"{examples} test scenes; beam 3)", "",
                     "| model | weights | BLEU-4 | correct captions | grounding | greedy BLEU-4 | parameters | epochs | "
                     "train time | TFLite parity |", "|---|---|---|---|---|---|---|---|---|---|"]
        elif text:
            lines = [f"**{dataset}** ({recs[0]['data']['train_examples']:,} training examples, "
                     f"exact match on {examples} unseen test dates)", "",
                     "| model | weights | exact match (greedy) | beam 3 | parameters | epochs | train time | TFLite parity |",
                     "|---|---|---|---|---|---|---|---|"]
        else:
            lines = [f"**{dataset}** ({recs[0]['data']['train_examples']:,} training examples, "
                     f"test error on {examples} test examples)", "",
                     "| model | weights | test error | parameters | epochs | train time | TFLite int8 Δ accuracy |",
                     "|---|---|---|---|---|---|---|"]
        for rec in sorted(recs, key=lambda r: (r["model"] == "cnn", r["model"], r["tag"].endswith("none"), r["tag"])):
            export, m = rec.get("export") or {}, rec.get("metrics") or {}
            fp32 = export.get("tflite_fp32")
            common = f"| `{rec['model']}` | `{rec['tag']}` | {_metric(rec).replace(' error', '').replace(' exact match', '')} | "
            trained = f"{rec['parameters']:,} | {rec['training']['epochs']} | {rec['training']['seconds'] / 60:.0f} min |"
            if corpus:
                cell = f"{'tied ' if rec['config'].get('tied') else ''}{rec['config']['cell']}, {rec['config']['depth']} × {rec['config']['units']}"
                lines.append(f"| `{rec['model']}` | `{rec['tag']}` | {m.get('bpc', '–')} | {m.get('accuracy', '–')}% | {cell} | "
                             f"{trained} " + (f"{fp32['bpc_change']:+.4f} |" if fp32 else "– |"))
            elif generator:
                lines.append(f"| `{rec['model']}` | `{rec['tag']}` | {m.get('nll_bound', '–')} | {m.get('reconstruction', '–')} | "
                             f"{m.get('kl', '–')} | {rec['config']['steps']} | {trained} "
                             + (f"{fp32['parity_max_abs_diff']:.1e} |" if fp32 else "– |"))
            elif captions:
                grounding = m.get("grounding_accuracy")
                lines.append(f"| `{rec['model']}` | `{rec['tag']}` | {m.get('bleu4', '–')} | {m.get('caption_accuracy', '–')}% | "
                             + ("–" if grounding is None else f"{grounding:.2f}%")
                             + f" | {m.get('greedy', {}).get('bleu4', '–')} | {trained} "
                             + (f"{fp32['identical_outputs_percent']:.0f}% identical |" if fp32 else "– |"))
            elif text:
                beam = m.get("exact_match_beam3")
                parity = f"{fp32['identical_outputs_percent']:.0f}% identical" if fp32 else "–"
                lines.append(f"{common}{'–' if beam is None else f'{beam:.2f}%'} | {trained} {parity} |")
            else:
                int8 = export.get("tflite_int8")
                change = "–" if not int8 else "no TFLite file (see the export matrix)" if "failed" in int8 \
                    else f"{int8['accuracy_change_points']:+.2f} points"
                lines.append(common + trained + f" {change} |")
        blocks.append("\n".join(lines))
    hardware = sorted({rec["training"]["hardware"] for rec in registry.all_records()})
    return "\n\n".join(blocks) + f"\n\nTrained on: {'; '.join(hardware)}. Measured by `zoo eval` / `zoo export`.\n"


def write_figures(directory):
    """For text datasets: exact match by source length from the cards (one PNG per dataset) and
    the alignments of each translator on the first 6 test texts; the per-word attention of each
    captioner with attention on the first 4 test scenes; for RAM with learned glimpses
    (8), the glimpse paths and patches on the first 6 test images; the DRAW classifier's reads on
    the first 6; DRAW generating (PNG and GIF); Grid LSTM's parity accuracy against k and its
    language models' surprisal on the first 4 test windows. Returns the paths."""
    import zoo
    from recipes import data
    from zoo import registry
    from zoo.pictures import by_length_picture, parity_accuracy_picture

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    curves, paths = {}, []
    for rec in registry.all_records():
        if rec["model"] == "ram" and rec["config"].get("glimpses") == 8 and not rec["config"].get("random_glimpses"):
            images, labels = _test_arrays(rec, limit=6)
            model = zoo.load(rec["model"], weights=rec["tag"])
            paths.append(model.picture(images, labels, directory / f"{rec['model']}.{rec['tag']}.glimpses.png"))
        if rec["model"] == "grid_lstm_lm":
            ids, targets = _test_arrays(rec, limit=4)
            model = zoo.load(rec["model"], weights=rec["tag"])
            paths.append(model.picture(ids, targets, directory / f"{rec['model']}.{rec['tag']}.surprisal.png"))
        if rec["model"] == "draw_classifier":
            images, labels = _test_arrays(rec, limit=6)
            model = zoo.load(rec["model"], weights=rec["tag"])
            paths.append(model.picture(images, labels, directory / f"{rec['model']}.{rec['tag']}.reads.png"))
        if rec["model"] == "draw":
            from zoo.pictures import drawing_animation

            model = zoo.load(rec["model"], weights=rec["tag"])
            paths.append(model.picture(None, None, directory / f"{rec['model']}.{rec['tag']}.drawing.png"))
            paths.append(drawing_animation(model, directory / f"{rec['model']}.{rec['tag']}.drawing.gif"))
        if rec["model"] == "show_attend_tell" and rec["config"]["attention"] != "none":
            images, references = _test_scenes(rec, limit=4)
            model = zoo.load(rec["model"], weights=rec["tag"])
            paths.append(model.picture(images, references, directory / f"{rec['model']}.{rec['tag']}.attention.png"))
        by_length = (rec.get("metrics") or {}).get("by_length")
        if not by_length:
            continue
        dataset = rec["data"]["dataset"]
        curves.setdefault(dataset, {})[rec["tag"]] = {k: v["exact_match"] for k, v in by_length.items()}
        texts, references = data.load_texts(dataset, rec["data"]["test_split"], limit=6)
        model = zoo.load(rec["model"], weights=rec["tag"])
        paths.append(model.picture(texts, references, directory / f"{rec['model']}.{rec['tag']}.alignments.png"))
    parity = [rec for rec in registry.all_records() if rec["model"] == "grid_lstm" and rec.get("metrics")]
    if parity:
        paths.append(parity_accuracy_picture(parity, directory / "parity.accuracy_vs_k.png"))
    for dataset, by_tag in curves.items():
        paths.append(by_length_picture(dict(sorted(by_tag.items())), directory / f"{dataset}.by_length.png",
                                       title=f"{dataset}: test exact match by source length (greedy decoding)"))
    return paths


def cmd_results(args):
    if args.figures:
        for path in write_figures(args.figures):
            print(f"wrote {path}")
        return
    text = results_markdown()
    if not args.update_readme:
        print(text)
        return
    _update_readme(Path(args.readme), README_MARKERS, text)


def _update_readme(readme, markers, text):
    """Replace what lies between the two `markers` in `readme` by `text` (atomically)."""
    from zoo import weights as store

    start, end = markers
    old = readme.read_text()
    if start not in old or end not in old:
        raise ValueError(f"{readme} has no markers {start} … {end}")
    head, rest = old.split(start, 1)
    store.atomic_write_text(readme, head + start + "\n" + text + end + rest.split(end, 1)[1])
    print(f"updated {readme}")


def cmd_matrix(args):
    from zoo import matrix, registry

    records = [rec for rec in registry.all_records()
               if (not args.models or rec["model"] in args.models) and (not args.weights or rec["tag"] in args.weights)]
    if args.run:
        keys = [export_key("saved_model" if f == "saved_model" else "tflite", f) for f in args.formats]
        matrix.run(records, keys, only_missing=not args.again)
        records = [registry.record(rec["model"], rec["tag"]) for rec in records]
    text = matrix.markdown(records)
    if args.update_readme:
        _update_readme(Path(args.readme), matrix.README_MARKERS, text)
    else:
        print(text)
    missing = matrix.missing_cells(records)
    if missing:
        print(f"{len(missing)} cells not run yet (`zoo matrix --run` runs them), e.g. "
              + ", ".join(f"{rec['model']}:{rec['tag']} {key}" for rec, key in missing[:3]))


def cmd_demo(args):
    import zoo
    from zoo import registry

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in zoo.list_models():
        for tag, rec in registry.records(name).items():
            if tag != registry.entry(name).default_weights and not args.all:
                continue
            model, task = zoo.load(name, weights=tag), registry.task(name)
            if task == "translator":
                from recipes import data

                inputs, references = data.load_texts(rec["data"]["dataset"], rec["data"]["test_split"], limit=6)
            elif task == "captioner":
                inputs, references = _test_scenes(rec, limit=4)
            elif task == "generator":  # draws from noise: no inputs
                inputs, references = None, None
            else:
                inputs, references = _test_arrays(rec, limit=16)
            picture = model.picture(inputs, references, out / f"{name}.{tag}.png")
            result = export_record(name, tag, "tflite", "fp32", out=out / f"{name}.{tag}.tflite", eval_limit=1000)
            parity = result.get("parity_max_abs_diff", result.get("max_abs_log_prob_diff"))
            lite = result.get("test_accuracy_tflite", result.get("test_exact_match_tflite", result.get("test_bleu4_tflite")))
            rows.append([name, tag, rec["data"]["dataset"], _metric(rec), f"{parity:.1e}", "–" if lite is None else f"{lite:.2f}",
                         f"{result['size_kib']:.0f} KiB", picture.name])
            print(f"  {name}:{tag} done", flush=True)
    if not rows:
        print("no pretrained weights in the zoo yet")
        return
    print()
    print(_table(rows, ["model", "weights", "data", "test (card)", "TFLite parity", "TFLite metric (1k): accuracy, exact match %, BLEU-4",
                        "TFLite size", "picture"]))
    print(f"\npictures and .tflite files in {out}/")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="zoo", description="Attention Zoo: classic attention models for Keras 3.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list models and their weights tags").set_defaults(func=cmd_list)
    p = sub.add_parser("info", help="model card")
    p.add_argument("name")
    p.add_argument("--json", action="store_true", help="also print the full card as JSON")
    p.set_defaults(func=cmd_info)
    p = sub.add_parser("data", help="list datasets, describe one, --preview writes a PNG grid (text: prints examples)")
    p.add_argument("name", nargs="?")
    p.add_argument("--preview", action="store_true")
    p.add_argument("--split", default="train")
    p.add_argument("--out")
    p.set_defaults(func=cmd_data)
    p = sub.add_parser("train", help="run a training recipe (no name: list recipes)")
    p.add_argument("recipe", nargs="?", help="a recipe name, or the MODEL.TAG.recipe.json a run wrote (to rerun it)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--limit", type=int, help="train on the first N examples only (quick runs)")
    p.add_argument("--out", help="directory for the weights, card and recipe (default: the run directory)")
    p.add_argument("--force", action="store_true", help="replace a weights file of the same name in --out")
    p.add_argument("--strategy", choices=["default", "mirrored", "multi_worker", "tpu"],
                   help="data parallelism: this machine's devices, several machines (TF_CONFIG), or a TPU")
    p.add_argument("--mixed-precision", choices=["mixed_float16", "mixed_bfloat16"], help="compute in 16 bits")
    p.add_argument("--run-dir", help="backups (a killed run resumes from them) and TensorBoard logs "
                                     "(default: runs/RECIPE)")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("eval", help="measure pretrained weights on their test split")
    p.add_argument("name")
    p.add_argument("--weights", default="default")
    p.add_argument("--write", action="store_true", help="write the metrics into the model card")
    p.add_argument("--limit", type=int)
    p.set_defaults(func=cmd_eval)
    p = sub.add_parser("export", help="export pretrained weights, parity-checked")
    p.add_argument("name")
    p.add_argument("--weights", default="default")
    p.add_argument("--format", choices=("tflite", "saved_model"), default="tflite")
    p.add_argument("--quantize", choices=QUANT_CHOICES, default="fp32")
    p.add_argument("--out")
    p.add_argument("--write", action="store_true", help="record the result in the model card")
    p.add_argument("--eval-limit", type=int, help="measure accuracy on the first N test examples only")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("predict", help="classify or caption an image (.png/.jpg/.npy), translate a text, "
                       "generate images (DRAW) or continue a text (language models), with a model name or a .tflite file")
    p.add_argument("name", help="model name, or path to a .tflite file exported by `zoo export`")
    p.add_argument("input", help="image file; the text for a translator or language model; the PNG to write for a generator")
    p.add_argument("--beam", type=int, default=1, help="beam size for translators and captioners (1: greedy)")
    p.add_argument("--weights", default="default")
    p.add_argument("--resize", action="store_true", help="resize the image to the model's input size")
    p.add_argument("--top", type=int, default=3, help="classes to print")
    p.add_argument("--samples", type=int, default=8, help="images a generator draws")
    p.add_argument("--seed", type=int, default=0, help="seed of a generator's noise or a language model's sampling")
    p.add_argument("--length", type=int, default=200, help="characters a language model adds")
    p.add_argument("--temperature", type=float, default=0.8, help="a language model's sampling temperature (0: most likely)")
    p.set_defaults(func=cmd_predict)
    p = sub.add_parser("results", help="markdown tables of every card's measured metrics")
    p.add_argument("--update-readme", action="store_true", help="write them into README.md between the markers")
    p.add_argument("--readme", default="README.md")
    p.add_argument("--figures", metavar="DIR", help="write the figures (by-length and alignments of text models, RAM glimpse paths, DRAW reads and drawings) to DIR")
    p.set_defaults(func=cmd_results)
    p = sub.add_parser("matrix", help="the export matrix (every pretrained model × SavedModel, TFLite fp32, float16, "
                       "dynamic range, int8) from the cards; --run measures the missing cells with `zoo export --write`")
    p.add_argument("--run", action="store_true", help="export and measure the cells the cards do not hold yet")
    p.add_argument("--again", action="store_true", help="with --run: measure every selected cell again")
    p.add_argument("--models", nargs="*", help="only these models")
    p.add_argument("--weights", nargs="*", help="only these weights tags")
    p.add_argument("--formats", nargs="*", default=list(MATRIX_FORMATS), choices=MATRIX_FORMATS)
    p.add_argument("--update-readme", action="store_true", help="write the table into README.md between its markers")
    p.add_argument("--readme", default="README.md")
    p.set_defaults(func=cmd_matrix)
    p = sub.add_parser("demo", help="load each model's default weights, draw its attention, export and check it")
    p.add_argument("--out", default="demo_out")
    p.add_argument("--all", action="store_true", help="every weights tag, not only the defaults (slow)")
    p.set_defaults(func=cmd_demo)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (ValueError, OSError) as e:  # bad names, options, inputs, weights, files: what was wrong, no traceback
        message = str(e).strip().splitlines()
        raise SystemExit(f"zoo {args.command}: {message[-1] if message else type(e).__name__}") from None


if __name__ == "__main__":
    sys.exit(main())
