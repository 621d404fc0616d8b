"""A fair speed table: LiteRT fp32 against the Keras model's own call, a compiled call and `predict`.

For the default weights of each classifier (`zoo.registry.task(name) == "classifier"`), exports
the model to a parity-checked fp32 `.tflite` file and prints, at batch 1 and 32, the median ms per
call (after a warm-up call) of: LiteRT with 1 and 2 threads (`export.runtime.Runtime(num_threads=)`),
the eager Keras call `model(x, training=False)`, the same call compiled as a TensorFlow graph
(`tf.function(jit_compile=False)`), and `model.predict(x, verbose=0)`; then LiteRT's speed-up (1
thread) over the compiled call and over `predict`, and the speed-up the export matrix records at
batch 1 (from the model card). Inputs are the first 32 examples of the test split. Ends with the
edge runtime's import time and peak memory (VmHWM), each in a fresh process.

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/fair_speed.py [--runs 50] [--models NAME ...]
"""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import zoo  # noqa: E402
from export import to_tflite  # noqa: E402
from export.matrix import latency  # noqa: E402
from export.runtime import Runtime, median_ms  # noqa: E402
from recipes.testset import TestSet  # noqa: E402
from zoo import registry  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BATCHES = (1, 32)
THREADS = (1, 2)

# Run in a fresh process: the edge runtime's import, and a run of one file. Its peak memory is the
# process's own peak RSS (VmHWM), not `getrusage`'s maxrss: Linux carries maxrss over from the
# parent across fork and exec, so a child of this TensorFlow process would report the parent's ~1 GiB.
IMPORT_CHECK = """
import sys, time
start = time.perf_counter()
from export.runtime import Runtime
seconds = time.perf_counter() - start
print(f"{seconds:.3f}", "tensorflow" in sys.modules, "keras" in sys.modules)
"""
RUN_CHECK = """
import sys
import numpy as np
from export.runtime import Runtime
runtime = Runtime(sys.argv[1])
(name,) = runtime.input_details
detail = runtime.input_details[name]
shape = [1 if d == -1 else int(d) for d in detail["shape_signature"]]
runtime(**{name: np.zeros(shape, detail["dtype"])})
peak_kib = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(int(peak_kib) / 1024, "tensorflow" in sys.modules)
"""


def classifiers():
    return [name for name in zoo.list_models() if registry.task(name) == "classifier"]


def measure(name, runs, workdir):
    """{(column, batch): median ms} of the default weights of `name`, and the path of its file."""
    import tensorflow as tf

    rec = registry.record(name)
    model = zoo.load(name)
    inputs = TestSet(rec).examples(32)[0]
    path = Path(workdir) / f"{name}.tflite"
    to_tflite(model, path, check_inputs=inputs)
    lite = {threads: Runtime(path, num_threads=threads) for threads in THREADS}
    (input_name,) = lite[1].input_details
    compiled = tf.function(lambda x: model(x, training=False), jit_compile=False)
    calls = {**{f"litert_{t}": (lambda x, r=r: r(**{input_name: x})) for t, r in lite.items()},
             "call": lambda x: model(x, training=False),
             "compiled": compiled,
             "predict": lambda x: model.predict(x, verbose=0)}
    times = {}
    for b in BATCHES:
        x = inputs[:b]
        for column, fn in calls.items():
            times[column, b] = median_ms(lambda: fn(x), runs if b == 1 else max(10, runs // 2))
    return times, path


def fresh_process(code, *args):
    """(the words `code` printed, the process's wall seconds) of a fresh Python running `code`."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    return out.stdout.split(), time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="timed calls at batch 1 (half of them at batch 32)")
    parser.add_argument("--models", nargs="*", help="only these models (default: every classifier)")
    args = parser.parse_args()
    import keras

    print(f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; Keras {keras.__version__} on "
          f"{keras.backend.backend()}; compiled call = tf.function(jit_compile=False). Median ms per call.\n")
    print("| model | batch | LiteRT 1 thread | LiteRT 2 threads | Keras call | compiled call | predict | "
          "LiteRT (1 thread) speed-up over compiled | over predict | export matrix's speed-up, batch 1 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as workdir:
        files = []
        for name in args.models or classifiers():
            times, path = measure(name, args.runs, workdir)
            files.append(path)
            ours, theirs = latency(registry.record(name).get("export", {}).get("tflite_fp32", {}))
            for b in BATCHES:
                t = {column: times[column, b] for column in ("litert_1", "litert_2", "call", "compiled", "predict")}
                matrix = f"{theirs / ours:,.0f}× ({theirs:.2f} / {ours:.2f} ms)" if b == 1 and ours else ""
                print(f"| `{name}` | {b} | {t['litert_1']:.3f} | {t['litert_2']:.3f} | {t['call']:.2f} | "
                      f"{t['compiled']:.2f} | {t['predict']:.2f} | {t['compiled'] / t['litert_1']:,.1f}× | "
                      f"{t['predict'] / t['litert_1']:,.0f}× | {matrix} |", flush=True)
        (seconds, tf_loaded, keras_loaded), wall = fresh_process(IMPORT_CHECK)
        print(f"\nEdge runtime: `from export.runtime import Runtime` takes {seconds} s in a fresh process "
              f"({wall:.2f} s for the whole `python -c` process; TensorFlow imported: {tf_loaded}; "
              f"Keras imported: {keras_loaded}).")
        largest = max(files, key=lambda p: p.stat().st_size)
        (peak_mib, tf_loaded), _ = fresh_process(RUN_CHECK, str(largest))
        print(f"Peak memory (VmHWM) of a fresh process that loads `{largest.name}` "
              f"({largest.stat().st_size / 1024:,.0f} KiB) and runs it once at batch 1: {float(peak_mib):.0f} MiB "
              f"(TensorFlow imported: {tf_loaded}).")


if __name__ == "__main__":
    main()
