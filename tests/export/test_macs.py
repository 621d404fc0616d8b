"""Multiply-accumulates per image: counted from the Keras layers and from the TFLite file's ops agree."""

import numpy as np
import pytest

from export import to_tflite
from export.macs import keras_macs, tflite_macs
from export.tflite import convert_signatures, op_counts
from zoo import registry

SMALL = {
    "cnn": {"image_shape": (24, 24, 1), "num_classes": 3, "filters": (4, 8), "kernel_size": 3, "units": 8},
    "stn": {"image_shape": (24, 24, 1), "num_classes": 3, "filters": (4, 8), "kernel_size": 3, "units": 8,
            "output_size": (16, 16)},
    "ram": {"image_shape": (30, 30, 1), "num_classes": 3, "glimpses": 3, "glimpse_size": 4, "scales": 3,
            "glimpse_units": 8, "location_units": 8, "hidden_units": 16, "core": "lstm"},
}


def tiny_model():
    """8×8×1 → Conv2D(4, 3×3, valid) → 6×6×4 → Flatten (144) → Dense(5)."""
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3), keras.layers.Flatten(),
                             keras.layers.Dense(5)])


# conv: out_h · out_w · out_c · k_h · k_w · in_c = 6·6·4·3·3·1; dense: rows · in · units = 1·144·5
TINY_MACS = 6 * 6 * 4 * 3 * 3 * 1 + 144 * 5  # 2016


@pytest.mark.parametrize("batch", [None, 2])
def test_tiny_model_counts_equal_the_hand_count(tmp_path, batch):
    import tensorflow as tf

    model = tiny_model()
    signature = [tf.TensorSpec((batch, 8, 8, 1), tf.float32, name="images")]
    path = tmp_path / "tiny.tflite"
    path.write_bytes(convert_signatures({"serving_default": (lambda x: {"y": model(x)}, signature)}))
    assert keras_macs(model) == TINY_MACS
    assert tflite_macs(path) == TINY_MACS  # a fixed batch of 2 is divided out


@pytest.mark.parametrize("name", sorted(SMALL))
def test_keras_count_matches_the_exported_file(tmp_path, name):
    model = registry.build(name, **SMALL[name])
    images = np.random.default_rng(0).random((4, *model.image_shape), "float32")
    path = tmp_path / f"{name}.tflite"
    to_tflite(model, path, check_inputs=images)
    # Exact, not within 1%: both count the same products (RAM's training-only baseline is in neither).
    assert keras_macs(model) == tflite_macs(path) > 0


def test_bad_inputs_get_one_line_errors(tmp_path):
    text = tmp_path / "model.txt"
    text.write_text("not a model")
    with pytest.raises(ValueError, match="needs an existing .tflite file"):
        tflite_macs(text)
    with pytest.raises(ValueError, match="needs an existing .tflite file"):
        tflite_macs(tmp_path / "missing.tflite")
    with pytest.raises(NotImplementedError, match="'grid_lstm'"):
        keras_macs(registry.entry("grid_lstm").builder())
    with pytest.raises(ValueError, match="got str"):
        keras_macs("cnn")


def test_a_while_loop_counts_its_body_once_per_pass(tmp_path):
    # DRAW's generator exports its steps as one TFLite WHILE (an ops.fori_loop): its body runs T times.
    import keras
    import tensorflow as tf
    from keras import ops

    keras.utils.set_random_seed(0)
    dense = keras.layers.Dense(6)
    dense.build((None, 6))

    def serve(x):
        return {"y": ops.fori_loop(0, 5, lambda t, h: dense(h), x)}

    path = tmp_path / "loop.tflite"
    path.write_bytes(convert_signatures({"serving_default": (serve, [tf.TensorSpec((None, 6), tf.float32, name="x")])}))
    assert "WHILE" in {op for op, _ in op_counts(path)}
    assert tflite_macs(path) == 5 * 6 * 6
