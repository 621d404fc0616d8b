"""Which tensors full int8 breaks: TFLite's quantization debugger on a model's int8 export.

Converts MODEL's weights (default: its default tag) to full int8 the way `zoo export --quantize
int8` does (`export.tflite.int8_debugger`: calibrated on the first --calibration inputs of the
training split, the model's own float choice unless --float-ops / --float-nodes replace it; a model
that refuses int8 is converted anyway), runs
the debugger on those inputs and prints the worst quantized tensors by RMSE / scale (the
error of each op's int8 output against the same op in float on the same inputs, in units of its
int8 step: > 1 is an op that int8 cannot resolve), then the ops by type and dtype in the file, its
size against fp32, and the task metric's change measured through it on the first --eval-limit
test examples (`export.records.export_record`, as the export matrix measures it).

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/int8_debug.py draw_classifier [--weights TAG]
        [--float-ops ADD MUL ...] [--float-nodes 'read_1/attention_head' ...] [--top 15]
"""

import argparse
import csv
import io
import os
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import zoo  # noqa: E402
from export import records  # noqa: E402
from export.tflite import convert, int8_debugger, op_counts  # noqa: E402
from recipes.testset import TestSet  # noqa: E402
from zoo import registry  # noqa: E402


def worst_tensors(debugger, top):
    """[(RMSE / scale, op, tensor name, scale)] of the `top` worst quantized tensors."""
    debugger.run()
    dump = io.StringIO()
    debugger.layer_statistics_dump(dump)
    rows = []
    for row in csv.DictReader(io.StringIO(dump.getvalue())):
        scale = float(row["scale"])
        rmse = np.sqrt(float(row["mean_squared_error"]))
        rows.append((rmse / scale if scale else np.inf, row["op_name"], row["tensor_name"], scale))
    return sorted(rows, key=lambda r: -r[0])[:top]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--weights", default="default")
    parser.add_argument("--float-ops", nargs="*", help="op types kept in float besides INT8_FLOAT_OPS (default: the model's int8_float_ops)")
    parser.add_argument("--float-nodes", nargs="*", help="node-name patterns kept in float (default: the model's int8_float_nodes)")
    parser.add_argument("--calibration", type=int, default=500, help="calibration inputs (the export uses 500; generators 256)")
    parser.add_argument("--eval-limit", type=int, default=2000, help="test examples the metric change is measured on")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()

    rec = registry.record(args.model, args.weights)
    model = zoo.load(rec["model"], weights=rec["tag"])
    calibration = TestSet(rec).calibration(args.calibration)
    # Try another float choice, or diagnose a refused model: the export reads these off the class.
    cls = type(model)
    cls.int8_alternative = None
    cls.int8_float_ops = getattr(model, "int8_float_ops", ()) if args.float_ops is None else args.float_ops
    cls.int8_float_nodes = getattr(model, "int8_float_nodes", ()) if args.float_nodes is None else args.float_nodes
    debugger, nodes, thin = int8_debugger(model, calibration)
    print(f"{rec['model']}:{rec['tag']}: {len(nodes)} nodes kept float by name" + (f", e.g. {nodes[0]}" if nodes else "")
          + f"; {len(thin)} thin convolutions kept float")
    print(f"\nworst quantized tensors (RMSE / scale on the {args.calibration} calibration inputs):")
    for ratio, op, name, scale in worst_tensors(debugger, args.top):
        print(f"  {ratio:9.3g}  scale {scale:.2e}  {op:16s} {name[:110]}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "int8.tflite"
        path.write_bytes(debugger.get_nondebug_quantized_model())
        counts = op_counts(path)
        fp32_kib = len(convert(model)) / 1024
        print(f"\nops by type and output dtype ({sum(counts.values())} in all):")
        print("  " + ", ".join(f"{op} {dtype} {n}" for (op, dtype), n in counts.most_common()))
        print(f"size: {path.stat().st_size / 1024:,.0f} KiB int8, {fp32_kib:,.0f} KiB fp32 "
              f"({path.stat().st_size / 1024 / fp32_kib:.2f} of fp32)")
    limit = None if registry.task(rec["model"]) == "generator" else args.eval_limit
    with tempfile.TemporaryDirectory() as tmp:
        result = records.export_record(rec, "tflite", "int8", TestSet(rec, limit), out=str(Path(tmp) / "m.tflite"))
    shown = {k: v for k, v in result.items() if "change" in k or k in ("size_kib", "parity_max_abs_diff",
                                                                      "top1_agreement_percent", "int8_float")}
    print(f"measured through the file on {limit or 'all'} test examples: {shown}")


if __name__ == "__main__":
    main()
