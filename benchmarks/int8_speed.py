"""Int8 against fp32 in LiteRT, and why int8 is not faster on this CPU.

For the default weights of each image classifier, exports fp32 and full int8 files (parity-checked,
int8 calibrated on 500 training images, as `zoo export` does) and prints, at batch 1 and 32 with 1
and 2 threads, the median ms per call of each, and int8 without LiteRT's default XNNPACK delegate
(the builtin int8 kernels); then what runs in the int8 file, read from its op list
(`export.tflite.op_counts`): ops computing in int8, ops left in float, and the QUANTIZE / DEQUANTIZE
ops between them.

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/int8_speed.py [--runs 50] [--models NAME ...]
"""

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import zoo  # noqa: E402
from export import to_tflite  # noqa: E402
from export.runtime import Runtime, median_ms  # noqa: E402
from export.tflite import op_counts  # noqa: E402
from recipes.testset import TestSet  # noqa: E402
from recipes.train import hardware  # noqa: E402
from zoo import registry  # noqa: E402

BATCHES = (1, 32)
THREADS = (1, 2)
SHAPE_OPS = {"RESHAPE", "STRIDED_SLICE", "SHAPE", "PACK", "UNPACK", "SPLIT", "TRANSPOSE", "CONCATENATION",
             "EXPAND_DIMS", "FILL", "GATHER"}  # move data, compute nothing


def image_classifiers():
    return [name for name in zoo.list_models() if registry.task(name) == "classifier"
            and "images" in registry.record(name)["input_spec"]]


def without_xnnpack(path, threads):
    """A Runtime on LiteRT's builtin kernels only (no default XNNPACK delegate)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    runtime = Runtime(path, num_threads=threads)
    runtime.interpreter = Interpreter(model_path=str(path), num_threads=threads,
                                      experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    runtime.runner = runtime.interpreter.get_signature_runner(runtime.signature)
    return runtime


def measure(name, runs, workdir):
    rec = registry.record(name)
    model, test = zoo.load(name), TestSet(rec)
    images = test.examples(32)[0]
    paths = {q: Path(workdir) / f"{name}.{q}.tflite" for q in ("fp32", "int8")}
    to_tflite(model, paths["fp32"], check_inputs=images)
    to_tflite(model, paths["int8"], quantize="int8", representative=test.calibration(500), check_inputs=images)
    times = {}
    for threads in THREADS:
        files = {"fp32": Runtime(paths["fp32"], num_threads=threads), "int8": Runtime(paths["int8"], num_threads=threads),
                 "int8, no XNNPACK": without_xnnpack(paths["int8"], threads)}
        for column, runtime in files.items():
            for batch in BATCHES:
                x = images[:batch]
                times[(column, threads, batch)] = median_ms(lambda r=runtime, x=x: r(images=x), runs)
    counts = op_counts(paths["int8"])
    edges = sum(n for (op, _), n in counts.items() if op in ("QUANTIZE", "DEQUANTIZE"))
    int8_ops = sum(n for (op, dtype), n in counts.items() if dtype == "int8" and op != "QUANTIZE")
    float_ops = sum(n for (op, dtype), n in counts.items() if dtype == "float32" and op != "DEQUANTIZE")
    float_compute = sorted({op for (op, dtype) in counts if dtype == "float32" and op not in SHAPE_OPS | {"DEQUANTIZE"}})
    return times, (int8_ops, float_ops, edges, float_compute), {q: p.stat().st_size / 1024 for q, p in paths.items()}


def int8_extensions():
    """The CPU's instruction-set extensions that XNNPACK's int8 kernels use, as /proc/cpuinfo lists them."""
    try:
        flags = next(line for line in open("/proc/cpuinfo") if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return "unknown"
    return ", ".join(f for f in flags if f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")) or "none"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--models", nargs="*", default=image_classifiers())
    args = parser.parse_args()
    print(f"Machine: {hardware()}; int8 extensions: {int8_extensions()}; load average "
          f"{os.getloadavg()[0]:.1f} at the start. "
          f"Median ms per call of {args.runs}.\n")
    print("| model | batch | threads | fp32 | int8 | int8, no XNNPACK | int8 / fp32 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    ops_rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            times, (int8_ops, float_ops, edges, float_compute), sizes = measure(name, args.runs, tmp)
            for batch in BATCHES:
                for threads in THREADS:
                    fp32, q8, plain = (times[(c, threads, batch)] for c in ("fp32", "int8", "int8, no XNNPACK"))
                    print(f"| `{name}` | {batch} | {threads} | {fp32:.3f} | {q8:.3f} | {plain:.3f} | {q8 / fp32:.2f} |")
            ops_rows.append(f"| `{name}` | {sizes['fp32']:,.0f} | {sizes['int8']:,.0f} | {int8_ops} | {float_ops} | {edges} | "
                            f"{', '.join(float_compute)} |")
    print("\n| model | fp32 KiB | int8 KiB | int8 ops | float ops | QUANTIZE + DEQUANTIZE | float ops that compute |")
    print("|---|---:|---:|---:|---:|---:|---|")
    print("\n".join(ops_rows))


if __name__ == "__main__":
    main()
