"""Where an int8 file's bytes go, beside fp32's: why the loop models' int8 files are not a quarter
of their fp32 files.

For the default weights of every model that exports to full int8, writes fp32 and int8 files as
`zoo export` does (int8 calibrated on 500 training inputs, its float choice kept, internal tensor
names dropped) and prints each file's bytes by part (`export.tflite.file_bytes`): the constants
(weights), their quantization parameters, the tensor names, and the graph (the tables of tensors
and ops, repeated per step in an unrolled loop). The ratio the issue budgets (int8 file / fp32 file,
≤ 0.35) is printed beside the ratio of the weights alone (int8 constants and scales / fp32 constants).

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/int8_size.py [--models NAME ...]
"""

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import zoo  # noqa: E402
from export import to_tflite  # noqa: E402
from export.tflite import file_bytes  # noqa: E402
from recipes.testset import TestSet  # noqa: E402
from zoo import registry  # noqa: E402

BUDGET = 0.35


def int8_defaults():
    """Models whose default weights' card holds a measured int8 cell."""
    names = []
    for name in zoo.list_models():
        if registry.entry(name).default_weights is None:
            continue
        cell = (registry.record(name).get("export") or {}).get("tflite_int8") or {}
        if cell and "failed" not in cell:
            names.append(name)
    return names


def measure(name, workdir):
    rec = registry.record(name)
    model, test = zoo.load(name), TestSet(rec)
    check, calibration = test.examples(32)[0], test.calibration(500)
    parts = {}
    for quantize in (None, "int8"):
        path = Path(workdir) / f"{name}.{quantize or 'fp32'}.tflite"
        to_tflite(model, path, quantize=quantize, check_inputs=check, representative=calibration if quantize else None)
        parts[quantize or "fp32"] = file_bytes(path)
    return rec["tag"], parts


def kib(n):
    return f"{n / 1024:,.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="*", help="models (default: every default weights with an int8 cell)")
    args = parser.parse_args()
    print("| model | weights | fp32 file KiB (constants · names · graph) | int8 file KiB (constants · scales · graph) "
          "| int8 / fp32 file | int8 / fp32 weights | tensors fp32 → int8 | ops fp32 → int8 |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.models or int8_defaults():
            tag, p = measure(name, workdir)
            f, q = p["fp32"], p["int8"]
            file_ratio = q["file"] / f["file"]
            weights_ratio = (q["constants"] + q["quantization"]) / f["constants"]
            print(f"| `{name}` | `{tag}` | {kib(f['file'])} ({kib(f['constants'])} · {kib(f['names'])} · "
                  f"{kib(f['graph'])}) | {kib(q['file'])} ({kib(q['constants'])} · {kib(q['quantization'])} · "
                  f"{kib(q['graph'] + q['names'])}) | {file_ratio:.2f}{' ✗' if file_ratio > BUDGET else ''} | "
                  f"{weights_ratio:.2f} | {f['tensors']:,} → {q['tensors']:,} | {f['ops']:,} → {q['ops']:,} |",
                  flush=True)
    print(f"\n✗: over the budget of {BUDGET} of the fp32 file. Weights: int8 constants and their scales and zero "
          "points against fp32 constants.")


if __name__ == "__main__":
    main()
