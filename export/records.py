"""Export records: a card's pretrained weights exported to one format (SavedModel, or a TFLite
file: fp32, float16, dynamic range, int8), checked against Keras before it is kept, measured
beside Keras on the card's test split (task metric change, size, batch-1 latency, GPU-delegate
check), and written into the card's `export` cell by `write_cell`, the one writer of those cells.

The test split comes from the caller (`recipes.testset.TestSet`: examples, calibration inputs,
the task's metrics of anything called like the model), so export does not import recipes. What
differs between tasks is looked up by task name (`EXPORTERS`, `LOOPS`).

    rec = registry.record("stn", "default")
    export_record(rec, "tflite", "int8", TestSet(rec), out="stn.int8.tflite", write_card=True)
"""

import json
import tempfile
import time
import traceback
from pathlib import Path

import zoo
from export import captioner, decoding_loop, question_answerer, seq2seq, stroke_writer
from export.matrix import KEYS, export_format, export_key, loss_note, measured
from export.question_answerer import Answerer
from export.runtime import Runtime, median_ms
from export.tflite import check_int8_holds, evaluate_tflite, gpu_delegate_report, to_tflite
from zoo import cards, registry
from zoo import weights as store


def export_command(rec, key):
    """The command that measures export cell `key` of `rec` and writes it into its card."""
    fmt, quantize = export_format(key)
    return (f"zoo export {rec['model']} --weights {rec['tag']} --format {fmt}"
            + (f" --quantize {quantize}" if quantize else "") + " --write")


def write_cell(rec, key, result):
    """Record `result` (a measurement, without its local path, or {"failed": why}) in the card of
    `rec` under `key`, with the command that measures it and why it loses more than the budget
    where it does (`export.matrix.loss_note`). The only code that writes a card's export cells."""
    entry = {k: v for k, v in result.items() if k != "path"}
    why = loss_note(rec["model"], key, entry)
    if why:
        entry["why"] = why
    entry["command"] = export_command(rec, key)
    card = cards.get(rec["model"], rec["tag"])
    card.set_export(key, entry)
    card.save()


def tflite_path(rec, quantize, out):
    """`out` (a file, or a folder to put the default file in: one that exists, or a name ending in
    "/", made), or the default file of an export: MODEL.TAG[.QUANTIZE].tflite."""
    default = f"{rec['model']}.{rec['tag']}" + ("" if quantize == "fp32" else f".{quantize}") + ".tflite"
    if out and str(out).endswith(("/", "\\")):
        Path(out).mkdir(parents=True, exist_ok=True)
    path = Path(out) / default if out and Path(out).is_dir() else Path(out or default)
    if path.exists():
        print(f"replacing {path} (once the new export passes its check)")
    return path


def export_record(rec, fmt, quantize, test, out=None, write_card=False):
    """Export the weights of card `rec` as `fmt` ("tflite" with `quantize` fp32, float16, dynamic
    or int8; or "saved_model"), check the file, measure it on `test` (the card's
    `recipes.testset.TestSet`; its `limit` is the --eval-limit) and return the result; with
    `write_card`, also write it into the card (never from a subset of the test split)."""
    if write_card and test.limit:
        raise ValueError("refusing to write export results measured on a subset (--eval-limit) into the card")
    model = zoo.load(rec["model"], weights=rec["tag"])
    if quantize == "int8":
        check_int8_holds(model)  # before measuring Keras on the test split
    result = EXPORTERS[registry.task(rec["model"])](model, rec, fmt, quantize, test, out)
    if write_card:
        write_cell(rec, export_key(fmt, quantize), result)
    return result


_KERAS_METRICS = {}


def _keras_metrics(rec, test, model):
    """The Keras model's test metrics for `rec`'s weights, run once per process, weights file and
    limit (a matrix run compares several formats with them)."""
    key = (rec["model"], rec["tag"], rec.get("sha256"), test.limit)
    if key not in _KERAS_METRICS:
        _KERAS_METRICS[key] = test.metrics(model)
    return _KERAS_METRICS[key]


def _write_sidecar(path, rec, quantize, meta, result):
    """Metadata beside the file, so `zoo predict FILE.tflite` runs it without TensorFlow."""
    sidecar = {"model": rec["model"], "tag": rec["tag"], "quantize": quantize, **meta, "check": result}
    store.atomic_write_text(Path(str(path) + ".json"), json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n")


class _Outputs:
    """An exported serving function (LiteRT or SavedModel: named inputs → dict of arrays) called
    like the Keras model it came from: one input → one named output."""

    def __init__(self, serve, input_name, output_name):
        self.serve, self.input_name, self.output_name = serve, input_name, output_name

    def __call__(self, inputs, training=False):
        return self.serve(**{self.input_name: inputs})[self.output_name]


def _saved_model(model, rec, check, out, metrics=None):
    """A SavedModel export (signatures "serving_default", dynamic batch, and "serving_batch1"),
    reloaded and compared with Keras on `check` (an array, or a dict by input name); `metrics(served)`
    measures the task metric through the reloaded signature called like the model."""
    from export.saved_model import open_signatures, to_saved_model

    path = Path(out or f"{rec['model']}.{rec['tag']}_saved_model")
    report = to_saved_model(model, path, check_inputs=check)
    served = open_signatures(path)("serving_default")
    input_names, keras = model.serving_signature()
    first = next(iter(input_names))
    feed = check if isinstance(check, dict) else {first: check}  # several inputs: by name
    one = {name: values[:1] for name, values in feed.items()}
    output_name = sorted(keras(**one))[0]
    return {
        "path": str(path),
        "size_kib": round(report.size_bytes / 1024, 1),
        "parity_max_abs_diff": float(f"{report.max_abs_diff:.3g}"),
        "check_inputs": report.checked_examples,
        **(metrics(_Outputs(served, first, output_name)) if metrics else {}),
        "latency_ms_batch1_saved_model": round(median_ms(lambda: served(**one)), 3),
        "latency_ms_batch1_keras": round(median_ms(lambda: keras(**one)), 3),
    }


def _int8_float(report):
    """An int8 file's record of what stayed float (`export.tflite.ExportReport.int8_float`)."""
    return {"int8_float": report.int8_float} if report.int8_float is not None else {}


def _accuracy_cell(path, report, keras_accuracy, lite_accuracy, examples, lite_once, keras_once):
    """The export cell of a model ranked by accuracy: the file's size (and what stayed float), its
    parity with Keras, the test accuracy through it beside Keras's, and the batch-1 latency of each
    (`lite_once`, `keras_once`: one call on one example)."""
    return {
        "path": str(path),
        "size_kib": round(report.size_bytes / 1024, 1),
        **_int8_float(report),
        "parity_max_abs_diff": float(f"{report.max_abs_diff:.3g}"),
        "top1_agreement_percent": round(100 * report.top1_agreement, 2),
        **gpu_delegate_report(path),
        "test_accuracy_keras": keras_accuracy,
        "test_accuracy_tflite": lite_accuracy,
        "accuracy_change_points": round(lite_accuracy - keras_accuracy, 2),
        "test_examples": examples,
        "latency_ms_batch1_litert": round(median_ms(lite_once), 3),
        "latency_ms_batch1_keras": round(median_ms(keras_once), 3),
    }


def _classifier(model, rec, fmt, quantize, test, out):
    """Images (or bit vectors) → class probabilities: checked on 256 test inputs, int8 calibrated
    on 500 training inputs, test accuracy measured through the file."""
    images, labels = test.examples()
    check = images[:256]
    keras_accuracy = _keras_metrics(rec, test, model)["accuracy"]
    if fmt == "saved_model":
        def accuracy(served):
            served_accuracy = test.metrics(served)["accuracy"]
            return {"test_accuracy_keras": keras_accuracy, "test_accuracy_saved_model": served_accuracy,
                    "accuracy_change_points": round(served_accuracy - keras_accuracy, 2)}

        return _saved_model(model, rec, check, out, accuracy)
    path = tflite_path(rec, quantize, out)
    report = to_tflite(model, path, quantize=None if quantize == "fp32" else quantize,
                       representative=test.calibration(500) if quantize == "int8" else None, check_inputs=check)
    lite_accuracy = round(100 * evaluate_tflite(path, images, labels), 2)
    runtime = Runtime(path)
    (input_name,) = runtime.input_details
    one = images[:1]
    result = _accuracy_cell(path, report, keras_accuracy, lite_accuracy, len(images),
                            lambda: runtime(**{input_name: one}), lambda: model(one, training=False))
    _write_sidecar(path, rec, quantize, {"class_names": model.class_names, "input_spec": rec["input_spec"]}, result)
    return result


# Per decoding loop: its driver and graphs, the test metrics (the first also as a change), and the
# latency measured (one input, decoded as the method does by default).
LOOPS = {
    "translator": (seq2seq.Translator, seq2seq.signatures, ("exact_match",), "one_text_greedy"),
    "captioner": (captioner.Captioner, captioner.signatures, ("bleu4", "caption_accuracy"), "one_image_beam3"),
}


def _decoding_loop(model, rec, fmt, quantize, test, out):
    """A translator's or captioner's export: `encode` + `step` signatures (TFLite file or
    SavedModel), checked by decoding 200 test inputs with its driver, then measured on the test
    split beside Keras."""
    from export.saved_model import open_signatures

    driver, signatures, metrics, latency = LOOPS[registry.task(rec["model"])]
    inputs = test.examples(200)[0]
    extra = {"model": rec["model"], "tag": rec["tag"]}
    if fmt == "saved_model":
        path = Path(out or f"{rec['model']}.{rec['tag']}_saved_model")
        report = decoding_loop.to_saved_model(driver, signatures(model), model, path, inputs, extra_metadata=extra)
        exported = driver(path, signatures=open_signatures(path))
        side, runner, checks = "saved_model", "saved_model", {}
    else:
        path = tflite_path(rec, quantize, out)
        report = decoding_loop.to_tflite(driver, signatures(model), model, path, inputs,
                                         quantize=None if quantize == "fp32" else quantize, extra_metadata=extra)
        exported = driver(path)
        side, runner, checks = "tflite", "litert", gpu_delegate_report(path)
    keras_metrics = _keras_metrics(rec, test, model)
    measured_metrics = test.metrics(exported)
    result = {"path": str(path), **report, **checks}
    for i, name in enumerate(metrics):
        result[f"test_{name}_keras"], result[f"test_{name}_{side}"] = keras_metrics[name], measured_metrics[name]
        if i == 0:
            result[f"{name}_change_points"] = round(measured_metrics[name] - keras_metrics[name], 2)
    one = inputs[:1]
    result["test_examples"] = keras_metrics["examples"]
    result[f"latency_ms_{latency}_{runner}"] = round(median_ms(lambda: getattr(exported, driver.method)(one), runs=20), 3)
    result[f"latency_ms_{latency}_keras"] = round(median_ms(lambda: getattr(model, driver.method)(one), runs=20), 3)
    return result


def _generator(model, rec, fmt, quantize, test, out):
    """Noise (B, T, latent_dim) → the canvases and the final images, checked on 256 noise draws
    (int8 calibrated on 256 other draws); no test metric runs through the file."""
    check = test.examples(256)[0]
    if fmt == "saved_model":
        return _saved_model(model, rec, check["noise"], out)
    path = tflite_path(rec, quantize, out)
    representative = test.calibration(256) if quantize == "int8" else None
    report = to_tflite(model, path, quantize=None if quantize == "fp32" else quantize, representative=representative,
                       check_inputs=check)
    runtime, one = Runtime(path), check["noise"][:1]
    serve = model.serving_signature()[1]
    result = {
        "path": str(path),
        "size_kib": round(report.size_bytes / 1024, 1),
        **_int8_float(report),
        "parity_max_abs_diff": float(f"{report.max_abs_diff:.3g}"),
        "check_inputs": report.checked_examples,
        **gpu_delegate_report(path),
        "latency_ms_batch1_litert": round(median_ms(lambda: runtime(noise=one)), 3),
        "latency_ms_batch1_keras": round(median_ms(lambda: serve(one)), 3),
    }
    meta = {"steps": model.steps, "latent_dim": model.latent_dim, "image_shape": list(model.image_shape)}
    _write_sidecar(path, rec, quantize, {"generator": meta}, result)
    return result


def _language_model(model, rec, fmt, quantize, test, out):
    """A window of `context` ids (int32) → p(next character) at every position; checked on 256
    test windows, then the test bits per character measured through the file."""
    check = test.examples(256)[0]
    keras_bpc = _keras_metrics(rec, test, model)["bpc"]
    if fmt == "saved_model":
        def bpc(served):
            served_bpc = test.metrics(served)["bpc"]
            return {"test_bpc_keras": keras_bpc, "test_bpc_saved_model": served_bpc,
                    "bpc_change": round(served_bpc - keras_bpc, 4)}

        return _saved_model(model, rec, check, out, bpc)
    path = tflite_path(rec, quantize, out)
    report = to_tflite(model, path, quantize=None if quantize == "fp32" else quantize,
                       representative=test.calibration(256) if quantize == "int8" else None, check_inputs=check)
    runtime, one = Runtime(path), check[:1]
    lite = test.metrics(_Outputs(runtime, "ids", "probabilities"))
    result = {
        "path": str(path),
        "size_kib": round(report.size_bytes / 1024, 1),
        **_int8_float(report),
        "parity_max_abs_diff": float(f"{report.max_abs_diff:.3g}"),
        "top1_agreement_percent": round(100 * report.top1_agreement, 2),
        **gpu_delegate_report(path),
        "test_bpc_keras": keras_bpc,
        "test_bpc_tflite": lite["bpc"],
        "bpc_change": round(lite["bpc"] - keras_bpc, 4),
        "test_characters": lite["characters"],
        "latency_ms_batch1_litert": round(median_ms(lambda: runtime(ids=one)), 3),
        "latency_ms_batch1_keras": round(median_ms(lambda: model(one, training=False)), 3),
    }
    _write_sidecar(path, rec, quantize, {"language_model": {"tokens": model.tokens, "context": model.context}}, result)
    return result


def _question_answerer(model, rec, fmt, quantize, test, out):
    """Images and question word ids → answer probabilities (and each hop's attention map): checked
    on 256 test questions, int8 calibrated on 500 training questions, the test accuracy measured
    through the file (`export.question_answerer.Answerer`)."""
    inputs, _ = test.examples()
    check = {name: values[:256] for name, values in inputs.items()}
    if fmt == "saved_model":  # checked against Keras on `check`; no test metric through it
        return _saved_model(model, rec, check, out)
    keras_accuracy = _keras_metrics(rec, test, model)["accuracy"]
    path = tflite_path(rec, quantize, out)
    report = to_tflite(model, path, quantize=None if quantize == "fp32" else quantize,
                       representative=test.calibration(500) if quantize == "int8" else None, check_inputs=check)
    meta = question_answerer.metadata(model)
    answerer = Answerer(path, meta=meta)
    one = {name: values[:1] for name, values in inputs.items()}
    result = _accuracy_cell(path, report, keras_accuracy, test.metrics(answerer)["accuracy"], len(inputs["questions"]),
                            lambda: answerer(one), lambda: model(one, training=False))
    _write_sidecar(path, rec, quantize, {"question_answerer": meta}, result)
    return result


EXPORTERS = {"classifier": _classifier, "translator": _decoding_loop, "captioner": _decoding_loop,
             "generator": _generator, "language_model": _language_model, "question_answerer": _question_answerer,
             "stroke_writer": stroke_writer.export_stroke_writer}


def run_cells(records, test_set, keys=KEYS, only_missing=True, log=print):
    """Export every (record, key) cell of the matrix (skipping those the card holds when
    `only_missing`) with `export_record(..., write_card=True)` into a temporary directory (the
    files are measured, not kept); `test_set(rec)` gives a card's full test split. A cell that
    cannot be made is written with why. Returns the (model, tag, key) cells run."""
    done = []
    for rec in records:
        for key in keys:
            if only_missing and measured((rec.get("export") or {}).get(key), key):
                continue
            fmt, quantize = export_format(key)
            start = time.perf_counter()
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / ("saved_model" if fmt == "saved_model" else "model.tflite")
                try:
                    export_record(rec, fmt, quantize, test_set(rec), out=str(out), write_card=True)
                    status = "measured"
                except Exception as e:  # noqa: BLE001 — the cell records why this format is not available
                    reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                    write_cell(rec, key, {"failed": f"{type(e).__name__}: {reason}"[:300]})
                    status = f"FAILED ({type(e).__name__}: {reason[:120]})"
                    log(traceback.format_exc(limit=3))
            log(f"{rec['model']}:{rec['tag']} {key}: {status} in {time.perf_counter() - start:.0f} s")
            done.append((rec["model"], rec["tag"], key))
    return done
