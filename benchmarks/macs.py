"""Multiply-accumulates per image of the zoo's image classifiers, counted two ways (`export.macs`):
from the ops and tensor shapes of the fp32 TFLite export (parity-checked on 32 test images of the
weights' dataset) and from the Keras model's layers.

Rows: the default weights of every image classifier, then every `ram` and `cnn` tag at 60 and
100 px (the translated60_* and cluttered100_* sets). The *_random tags (uniformly random glimpse
locations, drawn with TensorFlow random ops that TFLite has no builtin for) do not export: their
TFLite column is "-". Only matrix products count (conv, dense,
batched matmul); element-wise ops, gathers and pooling count 0 (see `export.macs`).

    python benchmarks/macs.py
"""

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import zoo  # noqa: E402
from export import to_tflite  # noqa: E402
from export.macs import keras_macs, tflite_macs  # noqa: E402
from recipes import data  # noqa: E402
from zoo import registry  # noqa: E402
from zoo.models.base import ImageClassifier  # noqa: E402


def rows():
    """(model, tag, card) for the default weights of every image classifier, then the RAM and CNN
    tags at 60 and 100 px."""
    records = registry.all_records()
    image_models = [name for name in registry.model_names()
                    if issubclass(registry.entry(name).builder, ImageClassifier)]
    chosen = []
    for name in image_models:
        default = registry.declared()[name]["default_weights"]
        chosen += [(name, r["tag"], r) for r in records if r["model"] == name and r["tag"] == default]
    for name in ("ram", "cnn"):
        chosen += [(name, r["tag"], r) for r in records if r["model"] == name
                   and r["config"]["image_shape"][0] in (60, 100) and (name, r["tag"], r) not in chosen]
    return chosen


def main():
    print(f"{'model':<16} {'weights':<40} {'image':>8} {'parameters':>11} {'MACs (TFLite)':>14} {'MACs (Keras)':>13}")
    with tempfile.TemporaryDirectory() as workdir:
        for name, tag, card in rows():
            model = zoo.load(name, weights=tag)
            lite = "-"
            if not getattr(model, "random_glimpses", False):  # random locations: TF random ops, no TFLite builtin
                images, _ = data.load_arrays(card["data"]["dataset"], card["data"]["test_split"], limit=32)
                path = os.path.join(workdir, f"{name}.{tag}.tflite")
                to_tflite(model, path, check_inputs=images.astype("float32") / 255.0)
                lite = f"{tflite_macs(path):,}"
            side = "×".join(str(s) for s in model.image_shape[:2])
            print(f"{name:<16} {tag:<40} {side:>8} {model.count_params():>11,} {lite:>14} "
                  f"{keras_macs(model):>13,}", flush=True)


if __name__ == "__main__":
    main()
