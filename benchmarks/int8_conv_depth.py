"""Does an int8 convolution pay over a thin input? One convolution in LiteRT, fp32 against int8.

Converts a single 5×5 convolution (ReLU) of a 42×42 map to 32 channels, for each number of input
channels, to fp32 and to full int8 (calibrated on 20 random maps) and prints the median ms per
call at batch 1 on one thread: fp32, int8, and int8 on LiteRT's builtin kernels without XNNPACK.
Where int8 is slower than fp32 the export keeps such a convolution float
(`export.tflite.THIN_CONVOLUTION_CHANNELS`).

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/int8_conv_depth.py [--channels 1 2 3 4 8 16] [--runs 40]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from export.runtime import median_ms  # noqa: E402
from recipes.train import hardware  # noqa: E402

SIZE, OUT, KERNEL = 42, 32, 5


def convolution(channels, int8):
    """TFLite bytes of conv(5×5, `channels` → 32) + ReLU on a 42×42 map, fp32 or full int8."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    kernel = tf.constant((rng.standard_normal((KERNEL, KERNEL, channels, OUT)) / np.sqrt(KERNEL * KERNEL * channels))
                         .astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([None, SIZE, SIZE, channels], tf.float32)])
    def conv(x):
        return tf.nn.relu(tf.nn.conv2d(x, kernel, 1, "SAME"))

    converter = tf.lite.TFLiteConverter.from_concrete_functions([conv.get_concrete_function()], tf.Module())
    if int8:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([rng.random((1, SIZE, SIZE, channels), np.float32)] for _ in range(20))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return converter.convert()


def time_ms(content, runs, xnnpack=True):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = {} if xnnpack else {"experimental_op_resolver_type": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
    interpreter = Interpreter(model_content=content, num_threads=1, **resolver)
    interpreter.allocate_tensors()
    (source,) = interpreter.get_input_details()
    x = np.random.default_rng(1).random((1, *source["shape"][1:]), np.float32)

    def call():
        interpreter.set_tensor(source["index"], x)
        interpreter.invoke()

    return median_ms(call, runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--channels", type=int, nargs="+", default=[1, 2, 3, 4, 8, 16])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    print(f"Machine: {hardware()}; load average {os.getloadavg()[0]:.1f} at the start. "
          f"{KERNEL}×{KERNEL} convolution, {SIZE}×{SIZE} → {OUT} channels, batch 1, 1 thread, median ms of {args.runs}.\n")
    rows = {"fp32 ms": [], "int8 ms": [], "int8, no XNNPACK ms": []}
    for channels in args.channels:
        fp32, int8 = convolution(channels, False), convolution(channels, True)
        rows["fp32 ms"].append(time_ms(fp32, args.runs))
        rows["int8 ms"].append(time_ms(int8, args.runs))
        rows["int8, no XNNPACK ms"].append(time_ms(int8, args.runs, xnnpack=False))
    print("| input channels | " + " | ".join(map(str, args.channels)) + " |")
    print("|---|" + "---:|" * len(args.channels))
    for name, values in rows.items():
        print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in values) + " |")


if __name__ == "__main__":
    main()
