"""Weights saved on the JAX backend load on TensorFlow with the same outputs (and back)."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import zoo

CONFIG = dict(image_shape=(24, 24, 1), num_classes=3, filters=(4, 8), kernel_size=3, units=8)
SCRIPT = textwrap.dedent("""
    import sys, numpy as np, keras, zoo
    name, weights_path, out_path = sys.argv[1:4]
    keras.utils.set_random_seed(7)
    model = zoo.load(name, weights=None, image_shape=(24, 24, 1), num_classes=3, filters=(4, 8), kernel_size=3, units=8)
    if name == "stn":  # a non-identity transform exercises the sampler
        model.transformer.regressor.bias.assign(np.array([0.8, 0.2, 0.1, -0.15, 0.9, -0.05], "float32"))
    x = np.random.default_rng(0).random((4, 24, 24, 1)).astype("float32")
    model.save_weights(weights_path)
    np.save(out_path, np.asarray(model(x)))
    print(keras.backend.backend())
""")


@pytest.mark.parametrize("name", ["cnn", "stn"])
def test_jax_weights_load_on_the_active_backend_with_equal_outputs(name, tmp_path):
    pytest.importorskip("jax")
    import keras

    weights, outputs = tmp_path / "m.weights.h5", tmp_path / "out.npy"
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2"}
    run = subprocess.run([sys.executable, "-c", SCRIPT, name, str(weights), str(outputs)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == "jax"
    model = zoo.load(name, weights=str(weights), **CONFIG)
    x = np.random.default_rng(0).random((4, 24, 24, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(model(x)), np.load(outputs), atol=1e-5)
    assert keras.backend.backend() in ("tensorflow", "jax")
