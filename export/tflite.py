"""TFLite (LiteRT) export that never writes an unchecked file.

`to_tflite` freezes the model's serving function (`model.serving_signature()`), converts it
with builtin ops only (no Flex/SELECT_TF_OPS: they do not run in current LiteRT), runs the
result in the LiteRT interpreter on real inputs, compares it with Keras, and only then moves
the file into place. fp32 files must match Keras to `atol` (default 1e-4, max abs diff) with
the same top-1; quantized files are kept with their measured difference reported, and the
task-level change is measured by `evaluate_tflite` on a test split.

Why freeze first: converting a concrete function together with its Keras model keeps the
weights as TFLite resource variables that the interpreter never initialises (outputs NaN);
`convert_variables_to_constants_v2` turns them into constants first.
"""

import dataclasses
import re
import tempfile
from pathlib import Path

import numpy as np

from export.runtime import Runtime
from zoo.weights import atomic_path

QUANTIZATIONS = (None, "float16", "dynamic", "int8")
# Under int8, these ops stay in float: they carry the samplers' coordinate arithmetic and
# gathers (spatial transformer, glimpses), which int8 scales cannot resolve to a pixel
# (measured: ST-CNN on RTS Fashion-MNIST lost 66 points fully quantized, 0 with these kept
# in float), and the Gaussian filterbanks' exponentials, squared distances and row
# normalisation (DRAW: a quantized DIV aborted LiteRT). Convolutions, dense layers and pooling
# stay int8. A model adds its own to these (`int8_float_choice`).
INT8_FLOAT_OPS = ["ADD", "MUL", "SUB", "DIV", "EXP", "NEG", "SQUARED_DIFFERENCE", "SUM", "FLOOR", "CAST",
                  "GATHER", "MINIMUM", "MAXIMUM", "PACK", "SELECT_V2", "LESS", "RESHAPE", "PAD", "STRIDED_SLICE",
                  "EXPAND_DIMS", "RANGE", "SHAPE"]

# A convolution over fewer input channels than this stays float under int8: XNNPACK's int8
# convolution costs about the same per output whatever the input depth, so over a thin input it
# is slower than float (measured on an Intel Xeon with AVX-512 VNNI and AMX, 5×5 kernels on a
# 42×42 map to 32 channels, batch 1: 1 channel int8 0.18 ms against fp32 0.03; 8 channels 0.18
# against 0.17; 16 channels 0.19 against 0.35; `benchmarks/int8_conv_depth.py`). An image model's
# first convolution is one.
THIN_CONVOLUTION_CHANNELS = 8


class Int8Refused(ValueError):
    """The model does not hold full int8 within its task's budget; the message names the alternative."""


class ExportParityError(RuntimeError):
    """The exported file does not reproduce the Keras model; it was not kept."""


@dataclasses.dataclass
class ExportReport:
    path: str
    quantize: str | None
    size_bytes: int
    max_abs_diff: float
    top1_agreement: float
    checked_examples: int
    ops: list
    matching: float  # share of check inputs within `atol` of Keras in every output and with its top-1
    int8_float: dict = None  # int8 only: what stayed float (`convert_int8`)

    def summary(self):
        return (
            f"{self.path}: {self.size_bytes / 1024:.1f} KiB, quantize={self.quantize or 'fp32'}, "
            f"max |LiteRT - Keras| = {self.max_abs_diff:.2e}, top-1 agreement {100 * self.top1_agreement:.2f}% "
            f"on {self.checked_examples} real inputs"
        )


def frozen_concrete_function(model, batch_size=None):
    """(the model's serving function with its weights folded in as constants, its input signature,
    its output names). Its graph holds every op inline (what a FLOP profiler reads); inputs are
    positional in sorted name order, outputs a list in sorted key order."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    inputs, fn = model.serving_signature()
    names = sorted(inputs)
    signature = [tf.TensorSpec((batch_size, *inputs[n][1:]), input_dtype(model, n), name=n) for n in names]

    def serve(*args):
        return fn(**dict(zip(names, args)))

    concrete = tf.function(serve, input_signature=signature, autograph=False).get_concrete_function()
    return convert_variables_to_constants_v2(concrete), signature, sorted(concrete.structured_outputs)


def frozen_serving_function(model, batch_size=None):
    """The model's serving function as a tf.function with named inputs/outputs and constant weights."""
    import tensorflow as tf

    frozen, signature, output_names = frozen_concrete_function(model, batch_size)

    def named(*args):
        return dict(zip(output_names, frozen(*args)))

    return tf.function(named, input_signature=signature, autograph=False)


def frozen_function(fn, signature):
    """`fn` (tensors → dict of tensors) as a tf.function with its variables folded in as constants
    and its outputs named."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    concrete = tf.function(fn, input_signature=signature, autograph=False).get_concrete_function()
    frozen = convert_variables_to_constants_v2(concrete)
    names = sorted(concrete.structured_outputs)
    return tf.function(lambda *args: dict(zip(names, frozen(*args))), input_signature=signature, autograph=False)


def save_signatures(functions, directory):
    """Write a SavedModel to `directory` with one signature per entry of `functions`, a dict
    name -> (fn, input signature), each with its variables folded in as constants: the graphs
    of a decoding loop (encode, step)."""
    import tensorflow as tf

    module = tf.Module()
    signatures = {}
    for name, (fn, signature) in functions.items():
        setattr(module, name, frozen_function(fn, signature))
        signatures[name] = getattr(module, name).get_concrete_function()
    tf.saved_model.save(module, str(directory), signatures=signatures)


def convert_signatures(functions, quantize=None):
    """TFLite bytes (builtin ops only) holding one signature per entry of `functions` (see
    `save_signatures`): the graphs of a decoding loop in one file."""
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as saved:
        save_signatures(functions, saved)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved, signature_keys=list(functions))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantize is not None:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "float16":
            converter.target_spec.supported_types = [tf.float16]
        return converter.convert()


def write_checked_decoder(path, flatbuffer, open_lite, decode, inputs, quantize, atol, sidecar):
    """Keep a decoding-loop export (encode + step signatures) only if it decodes like Keras.

    `open_lite(file)` opens the LiteRT driver; `decode(decoder, inputs, beam_size)` runs Keras's or
    the driver's decoding (dicts with "text" and "score"). fp32 must give identical outputs,
    greedy on `inputs` and beam 3 on the first 50, with |Δ log p| ≤ atol; quantized files report
    their agreement. Writes `path` and its sidecar `path.json` (`sidecar` + "check": the report)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(flatbuffer)
        lite = open_lite(tmp)
        if any("Flex" in op for op in lite.decoder.ops() + lite.encoder.ops()):
            raise ExportParityError(f"{path}: the converted file contains Flex (SELECT_TF_OPS) ops")
        report = check_decoder(lite, decode, inputs, atol, strict=quantize is None, what=f"LiteRT ({path.name})")
    report = {"size_kib": round(len(flatbuffer) / 1024, 1), **report}
    write_decoder_sidecar(path, sidecar, quantize, report)
    return report


def check_decoder(driver, decode, inputs, atol, strict=True, what="the export"):
    """Decode `inputs` with Keras and with `driver` (`decode(None | driver, inputs, beam_size)`):
    greedy on all, beam 3 on the first 50. Returns the agreement; raises `ExportParityError` if
    `strict` and any output differs or |Δ log p| > atol."""

    def compare(batch, beam_size):
        pairs = list(zip(decode(None, batch, beam_size), decode(driver, batch, beam_size)))
        return (float(np.mean([a["text"] == b["text"] for a, b in pairs])),
                float(max(abs(a["score"] - b["score"]) for a, b in pairs)))

    same, score_diff = compare(inputs, 1)
    same_beam, _ = compare(inputs[:50], 3)
    if strict and (same < 1.0 or same_beam < 1.0 or score_diff > atol):
        raise ExportParityError(
            f"{what} decodes differently from Keras: {100 * same:.1f}% identical greedy outputs, "
            f"{100 * same_beam:.1f}% beam-3, max |Δ log p| {score_diff:.2e} (allowed {atol:.0e}); it was not written."
        )
    return {
        "check_inputs": len(inputs),
        "identical_outputs_percent": round(100 * same, 2),
        "identical_beam3_outputs_percent": round(100 * same_beam, 2),
        "max_abs_log_prob_diff": float(f"{score_diff:.3g}"),
    }


def write_decoder_sidecar(path, sidecar, quantize, report):
    """`path.json` beside an exported decoding loop: what its driver needs (vocabularies, lengths)
    and the check it passed."""
    import json

    from zoo.weights import atomic_write_text

    record = {**sidecar, "quantize": quantize or "fp32", "check": report}
    atomic_write_text(Path(str(path) + ".json"), json.dumps(record, indent=2, ensure_ascii=False) + "\n")


def input_dtype(model, name):
    """The dtype of serving input `name`: float32 unless the model's `input_dtypes` says otherwise
    (a language model's int32 character ids)."""
    return getattr(model, "input_dtypes", {}).get(name, "float32")


def _as_feed(model, data):
    """Real inputs as a dict name -> array of the input's dtype (a bare array feeds the single input)."""
    names = sorted(model.serving_signature()[0])
    if not isinstance(data, dict):
        if len(names) != 1:
            raise ValueError(f"model has inputs {names}: give the check inputs as a dict")
        data = {names[0]: data}
    return {n: np.asarray(data[n], input_dtype(model, n)) for n in names}


def int8_float_choice(model):
    """(op types, node patterns) that `model` keeps in float under full int8: `INT8_FLOAT_OPS` and
    the model's own `int8_float_ops`, and its `int8_float_nodes`, regular expressions searched in
    the converted graph's op output names (default none)."""
    own = [op for op in getattr(model, "int8_float_ops", ()) if op not in INT8_FLOAT_OPS]
    return INT8_FLOAT_OPS + own, list(getattr(model, "int8_float_nodes", ()))


def check_int8_holds(model):
    """Raise `Int8Refused` (one line: why, and the export to use instead) if `model` declares that
    full int8 does not hold within its budget (its `int8_alternative`: (quantize, measured why))."""
    refusal = getattr(model, "int8_alternative", None)
    if refusal:
        alternative, why = refusal
        raise Int8Refused(f"{type(model).__name__} does not hold full int8 within its budget ({why}); "
                          f"export it with quantize={alternative!r} instead")


def read_flatbuffer(flatbuffer):
    """(the TFLite model object of `flatbuffer` (bytes), op_type: op → its builtin name, e.g. "WHILE")."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(flatbuffer))
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}

    def op_type(op):  # codes under 127 may sit in the deprecated field only
        code = model.operatorCodes[op.opcodeIndex]
        return names[max(code.builtinCode, code.deprecatedBuiltinCode)]

    return model, op_type


def without_internal_names(flatbuffer):
    """`flatbuffer` with the names of its internal tensors removed (debugging strings: the inputs
    and outputs keep theirs, so signatures still run by name); an unrolled recurrent graph holds
    thousands of them."""
    from tensorflow.lite.tools import flatbuffer_utils

    model, _ = read_flatbuffer(flatbuffer)
    named = {m.tensorIndex for sig in model.signatureDefs or [] for m in (sig.inputs or []) + (sig.outputs or [])}
    for graph in model.subgraphs:
        for i in set(range(len(graph.tensors))) - named - set(graph.inputs) - set(graph.outputs):
            graph.tensors[i].name = None
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def float_edges_uncalibrated(calibrated, float_ops, float_nodes):
    """The calibrated TFLite model `calibrated` with the calibration range removed from every tensor
    that runs from a float-kept op (an op type in `float_ops`, or an op whose output name is in
    `float_nodes`) only into float-kept ops: without a range the quantizer leaves it float instead
    of rounding it through a QUANTIZE/DEQUANTIZE pair whose scale comes from the calibration
    (measured on draw_classifier: such a pair on a clip of the first step's filterbank parameters,
    calibrated on one constant value, turned −0.101 into 0). Returns (model bytes, the names of
    the float-kept ops' outputs)."""
    from tensorflow.lite.tools import flatbuffer_utils

    model, op_type = read_flatbuffer(calibrated)
    float_outputs = []
    for graph in model.subgraphs:  # the main graph, and a WHILE loop's condition and body
        kept, consumers = [], {}
        for op in graph.operators:
            outputs = [graph.tensors[i].name.decode() for i in op.outputs]
            keep = op_type(op) in float_ops or any(any(re.search(p, n) for p in float_nodes) for n in outputs)
            kept.append(keep)
            float_outputs += outputs if keep else []
            for i in op.inputs:
                consumers.setdefault(i, []).append(keep)
        for op, keep in zip(graph.operators, kept):
            for i in op.outputs if keep else ():
                if i not in graph.outputs and all(consumers.get(i, [False])):
                    graph.tensors[i].quantization = None
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model)), float_outputs


def thin_convolutions(flatbuffer):
    """Output names of the CONV_2D ops of a TFLite model (bytes) whose input has fewer than
    `THIN_CONVOLUTION_CHANNELS` channels."""
    model, op_type = read_flatbuffer(flatbuffer)
    return [graph.tensors[op.outputs[0]].name.decode() for graph in model.subgraphs for op in graph.operators
            if op_type(op) == "CONV_2D" and graph.tensors[op.inputs[0]].shape[-1] < THIN_CONVOLUTION_CHANNELS]


def int8_debugger(model, representative, float_ops=None, float_nodes=None):
    """TFLite's QuantizationDebugger over `model`'s serving function, calibrated on `representative`
    (one example at a time), with the op types `float_ops` and the ops whose output name matches a
    pattern of `float_nodes` (see `int8_float_choice`; None: the model's own) kept in float, and
    the edges between float-kept ops left float (`float_edges_uncalibrated`); thin convolutions
    (`thin_convolutions`) stay float too. Returns (debugger, the names of the nodes the patterns
    matched, the names of the thin convolutions); `debugger.get_nondebug_quantized_model()` is the int8 file,
    `debugger.run()` measures each quantized op against float on the same inputs (`layer_statistics`)."""
    import tensorflow as tf

    own_ops, own_nodes = int8_float_choice(model)
    float_ops = own_ops if float_ops is None else list(float_ops)
    float_nodes = own_nodes if float_nodes is None else list(float_nodes)
    feed = _as_feed(model, representative)
    names = sorted(feed)

    def examples():
        for i in range(len(feed[names[0]])):
            yield [feed[n][i : i + 1] for n in names]

    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen_serving_function(model).get_concrete_function()],
                                                                tf.Module())
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = examples
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
    # One scale per weight tensor where the model asks (`int8_per_channel = False`): an unrolled loop
    # stores each step's int32 bias with a scale per channel (12 bytes each), more than the weights.
    converter._experimental_disable_per_channel = not getattr(model, "int8_per_channel", True)
    options = tf.lite.experimental.QuantizationDebugOptions
    debugger = tf.lite.experimental.QuantizationDebugger(converter=converter, debug_dataset=examples,
                                                         debug_options=options(denylisted_ops=float_ops))
    thin = thin_convolutions(debugger.calibrated_model)
    kept_nodes = float_nodes + [f"^{re.escape(n)}$" for n in thin]
    debugger.calibrated_model, float_outputs = float_edges_uncalibrated(debugger.calibrated_model, float_ops, kept_nodes)
    nodes = [n for n in float_outputs if any(re.search(p, n) for p in float_nodes)]
    debugger.options = options(denylisted_ops=float_ops, denylisted_nodes=nodes + thin)
    return debugger, nodes, thin


def convert_int8(model, representative):
    """Full int8 TFLite bytes of `model` (calibrated on `representative`, its float choice kept
    float, internal tensor names dropped) and what stayed float: {"added_ops": the model's own op
    types beyond `INT8_FLOAT_OPS`, "nodes": its node patterns, "nodes_matched": how many ops they
    matched, "thin_convolutions": how many convolutions stayed float for their thin input}, and
    "per_channel": False where the model asked for one scale per tensor. Refuses a model whose int8
    does not hold (`check_int8_holds`)."""
    check_int8_holds(model)
    debugger, nodes, thin = int8_debugger(model, representative)
    ops, patterns = int8_float_choice(model)
    kept = {"added_ops": ops[len(INT8_FLOAT_OPS):], "nodes": patterns, "nodes_matched": len(nodes),
            "thin_convolutions": len(thin)}
    if not getattr(model, "int8_per_channel", True):
        kept["per_channel"] = False
    return without_internal_names(debugger.get_nondebug_quantized_model()), kept


def convert(model, quantize=None, representative=None):
    """Convert `model` to TFLite bytes with builtin ops only (no file, no check)."""
    return _convert(model, quantize, representative)[0]


def _convert(model, quantize, representative):
    """(TFLite bytes, what int8 kept float or None)."""
    import tensorflow as tf

    if quantize not in QUANTIZATIONS:
        raise ValueError(f"quantize must be one of {QUANTIZATIONS}; got {quantize!r}")
    if quantize == "int8":
        check_int8_holds(model)
        if representative is None:
            raise ValueError("int8 quantization needs representative inputs (real examples from the training data)")
    try:
        if quantize == "int8":
            return convert_int8(model, representative)
        converter = tf.lite.TFLiteConverter.from_concrete_functions(
            [frozen_serving_function(model).get_concrete_function()], tf.Module())
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantize is not None:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "float16":
            converter.target_spec.supported_types = [tf.float16]
        return converter.convert(), None
    except Exception as e:
        missing = sorted(set(re.findall(r"'tf\.(\w+)' op is neither a custom op nor a flex op", str(e))))
        why = f"TFLite has no builtin op for {', '.join(missing)}" if missing else str(e)
        raise RuntimeError(f"TFLite conversion with builtin ops only failed for {type(model).__name__}: {why}") from e


def to_tflite(model, path, quantize=None, representative=None, check_inputs=None, atol=None, num_threads=None):
    """Export `model` to `path` as a parity-checked `.tflite` file; returns an `ExportReport`.

    Args:
        quantize: None (fp32), "float16", "dynamic" (dynamic-range int8 weights) or "int8"
            (int8 convolutions, dense layers and pooling calibrated on `representative`;
            sampler coordinate ops stay float, see INT8_FLOAT_OPS, with the model's own float
            choice, `int8_float_choice`, recorded in the report's `int8_float`; float in, float
            out). A model whose int8 does not hold is refused (`Int8Refused` names the alternative).
        representative: real inputs for int8 calibration (array, or dict by input name).
        check_inputs: real inputs the exported file is run on and compared with Keras;
            defaults to `representative`. Required: nothing is written unchecked.
        atol: fp32 tolerance on max |LiteRT − Keras|; default the model's `export_atol` if it has
            one (RAM: its glimpse loop amplifies rounding), else 1e-4. Every check input must
            match Keras within it and in class, or the model's `export_matching` share of them.
    """
    atol = getattr(model, "export_atol", 1e-4) if atol is None else atol
    required = getattr(model, "export_matching", 1.0)
    check_inputs = representative if check_inputs is None else check_inputs
    if check_inputs is None:
        raise ValueError("to_tflite needs real check_inputs to compare the exported file with Keras")
    feed = _as_feed(model, check_inputs)
    flatbuffer, int8_float = _convert(model, quantize, representative)
    path = Path(path)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(flatbuffer)
        runtime = Runtime(tmp, num_threads=num_threads)
        if "FlexDelegate" in str(runtime.ops()):
            raise ExportParityError(f"{path}: the converted file contains Flex (SELECT_TF_OPS) ops")
        report = compare(model, runtime, feed, atol)
        report.path, report.quantize, report.size_bytes = str(path), quantize, len(flatbuffer)
        counts = op_counts(tmp)
        report.ops = sorted({op for op, _ in counts})  # also those inside a WHILE loop's body
        if int8_float is not None:
            report.int8_float = {**int8_float, "float_op_types": sorted({op for (op, dtype), _ in counts.items()
                                                                        if dtype == "float32" and op != "DEQUANTIZE"}),
                                 "quantize_dequantize_ops": sum(n for (op, _), n in counts.items()
                                                                if op in ("QUANTIZE", "DEQUANTIZE"))}
        if quantize is None and report.matching < required:
            raise ExportParityError(
                f"LiteRT output differs from Keras: {100 * report.matching:.2f}% of the {report.checked_examples} "
                f"check inputs match within {atol:.0e} and in class (required {100 * required:g}%); max abs diff "
                f"{report.max_abs_diff:.3e}, top-1 agreement {100 * report.top1_agreement:.2f}%. {path} was not written."
            )
    return report


def same_top1(expected, got):
    """Per position of the first output (sorted by name): is its top-1 over the last axis the same?"""
    first = sorted(expected)[0]
    return np.argmax(np.asarray(got[first]), -1) == np.argmax(np.asarray(expected[first]), -1)


def agreement(expected, got, atol=np.inf):
    """Per input (axis 0 of every output): the max |got − expected| over every output, and whether
    it is within `atol` with the same top-1 (last axis) of the first output, at every position."""
    rows = len(next(iter(expected.values())))
    diff = np.max([np.abs(np.asarray(got[k]) - np.asarray(v)).reshape(rows, -1).max(1) for k, v in expected.items()], 0)
    return diff, (diff <= atol) & same_top1(expected, got).reshape(rows, -1).all(1)


def compare(model, runtime, feed, atol, batch_size=64):
    """Run Keras and LiteRT on the same inputs; max abs diff over every output, top-1 agreement of
    the first (over its last axis: per example, or per position of a sequence) and the share of
    inputs that match within `atol` and in class (`agreement`)."""
    count = len(next(iter(feed.values())))
    diffs, matches, agree, predictions = [], [], 0, 0
    for start in range(0, count, batch_size):
        batch = {n: v[start : start + batch_size] for n, v in feed.items()}
        lite = runtime(**batch)
        keras_out = {k: np.asarray(v) for k, v in model.serving_signature()[1](**batch).items()}
        diff, match = agreement(keras_out, lite, atol)
        same = same_top1(keras_out, lite)
        agree, predictions = agree + int(np.sum(same)), predictions + same.size
        diffs.append(diff)
        matches.append(match)
    return ExportReport("", None, 0, float(np.concatenate(diffs).max()), agree / predictions, count, runtime.ops(),
                        float(np.concatenate(matches).mean()))


def evaluate_tflite(path, images, labels, batch_size=256, output="probabilities"):
    """Top-1 accuracy of a `.tflite` classifier with one input (images, or parity bits) on (images, labels)."""
    runtime = Runtime(path)
    (name,) = runtime.input_details
    correct = 0
    for start in range(0, len(images), batch_size):
        probs = runtime(**{name: images[start : start + batch_size]})[output]
        correct += int(np.sum(np.argmax(probs, -1) == labels[start : start + batch_size]))
    return correct / len(images)


def op_counts(path):
    """{(op name, "int8" | "float32" | …: the dtype of its first output): count} of a `.tflite` file,
    over all its subgraphs (a WHILE loop's body is one): which ops run quantized, which stayed float,
    and the QUANTIZE / DEQUANTIZE ops at their edges."""
    import collections

    from tensorflow.lite.python import schema_py_generated as schema

    model, op_type = read_flatbuffer(Path(path).read_bytes())
    types = {v: k.lower() for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
    return collections.Counter((op_type(op), types[graph.tensors[op.outputs[0]].type] if len(op.outputs) else "?")
                               for graph in model.subgraphs for op in graph.operators)


def file_bytes(path):
    """Where the bytes of a `.tflite` file go: {"file": its size, "constants": the weights and other
    constant tensors' data, "quantization": their scales and zero points (4 + 8 bytes a channel),
    "names": tensor names, "graph": the rest (the tables of tensors, ops and buffers), "tensors",
    "ops": counts over all subgraphs}. An unrolled loop repeats its graph once per step, and int8
    cannot shrink that part."""
    data = Path(path).read_bytes()
    model, _ = read_flatbuffer(data)
    constants = sum(len(b.data) for b in model.buffers if b.data is not None)
    tensors = [t for graph in model.subgraphs for t in graph.tensors]
    channels = sum(len(t.quantization.scale) for t in tensors
                   if t.quantization is not None and t.quantization.scale is not None)
    names = sum(len(t.name or b"") for t in tensors)
    return {"file": len(data), "constants": constants, "quantization": 12 * channels, "names": names,
            "graph": len(data) - constants - 12 * channels - names, "tensors": len(tensors),
            "ops": sum(len(graph.operators) for graph in model.subgraphs)}


def gpu_delegate_report(path):
    """What TensorFlow's model analyzer says of `path` under the TFLite GPU delegate: {"gpu_delegate":
    "compatible"} or {"gpu_delegate": "incompatible", "gpu_delegate_issues": [its warnings, at most 5]}.
    A static check of ops and types (the analyzer cannot promise the delegate runs it)."""
    import contextlib
    import io

    import tensorflow as tf

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        tf.lite.experimental.Analyzer.analyze(model_path=str(path), gpu_compatibility=True)
    text = printed.getvalue()
    if "looks compatible with GPU delegate" in text:
        return {"gpu_delegate": "compatible"}
    warnings = list(dict.fromkeys(line.split("GPU COMPATIBILITY WARNING:", 1)[1].strip()
                                  for line in text.splitlines() if "GPU COMPATIBILITY WARNING:" in line))
    return {"gpu_delegate": "incompatible", "gpu_delegate_issues": warnings[:5]}
