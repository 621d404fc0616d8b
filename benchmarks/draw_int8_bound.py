"""DRAW's variational bound through an int8 file: does full int8 keep it within 1 nat?

The exported DRAW (`zoo export draw`) is the generator (noise → canvases), which has no bound.
This converts the whole model as a function of (images, posterior noise) → L = L^x + L^z per image
(Gregor et al. 2015, eqs. 10–12), in fp32 and in full int8 as `zoo export --quantize int8` would
(`export.tflite.convert`: calibrated on training images with their noise draws, the model's float
choice), and prints the mean bound in nats on the first --limit test images with the same noise
through Keras and through each file.

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/draw_int8_bound.py [--weights TAG] [--limit 1000]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import zoo  # noqa: E402
from export.runtime import Runtime  # noqa: E402
from export.tflite import convert  # noqa: E402
from recipes import data  # noqa: E402
from zoo import decoding, registry  # noqa: E402

BUDGET = 1.0  # nats per image (issue 35)


class Bound:
    """`draw` served as (images, noise) → {"bound": L^x + L^z (B,)}: what `export.tflite.convert` takes
    (a serving signature, and the model's int8 float choice)."""

    def __init__(self, draw):
        self.draw = draw
        self.int8_float_ops = getattr(draw, "int8_float_ops", ())
        self.int8_float_nodes = getattr(draw, "int8_float_nodes", ())

    def serving_signature(self):
        def serve(images, noise):
            out = self.draw(images, noise=noise)
            return {"bound": out["reconstruction"] + out["kl"]}

        draw = self.draw
        return {"images": (None, *draw.image_shape), "noise": (None, draw.steps, draw.latent_dim)}, serve


def mean_bound(run, images, noise, batch=100):
    return float(np.mean(np.concatenate([run(images[i : i + batch], noise[i : i + batch])
                                         for i in range(0, len(images), batch)])))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default="default")
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--calibration", type=int, default=256)
    args = parser.parse_args()
    rec = registry.record("draw", args.weights)
    model = zoo.load("draw", weights=rec["tag"])
    dataset = rec["data"]["dataset"]
    images = data.for_model(data.load_arrays(dataset, rec["data"]["test_split"], limit=args.limit)[0])
    noise = decoding.standard_noise(len(images), model.steps, model.latent_dim, seed=0)
    train = data.for_model(data.load_arrays(dataset, "train", limit=args.calibration)[0])
    calibration = {"images": train, "noise": decoding.standard_noise(len(train), model.steps, model.latent_dim, seed=1)}

    def keras(x, e):
        out = model(x, noise=e)
        return np.asarray(out["reconstruction"] + out["kl"])

    keras_bound = mean_bound(keras, images, noise)
    print(f"DRAW {rec['tag']}: mean bound on {len(images)} test images, the same posterior noise\n")
    print("| run | bound (nats) | change | within 1 nat |")
    print("|---|---|---|---|")
    print(f"| Keras | {keras_bound:.2f} | – | – |")
    for quantize in (None, "dynamic", "int8"):
        try:
            lite = Runtime(model_content=convert(Bound(model), quantize, calibration if quantize == "int8" else None))
        except RuntimeError as e:  # the conversion's own error, in one line
            print(f"| LiteRT {quantize or 'fp32'} | failed: {str(e).splitlines()[0][:200]} | – | – |", flush=True)
            continue
        bound = mean_bound(lambda x, e: lite(images=x, noise=e.astype("float32"))["bound"], images, noise)
        print(f"| LiteRT {quantize or 'fp32'} | {bound:.2f} | {bound - keras_bound:+.2f} | "
              f"{'yes' if abs(bound - keras_bound) <= BUDGET else 'no'} |", flush=True)


if __name__ == "__main__":
    main()
