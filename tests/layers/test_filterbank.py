"""DRAW's Gaussian filterbank: grid geometry, normalised Gaussian rows, read/write, gradients, export."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from layers.filterbank import GaussianReader, GaussianWriter, filterbank
from tests.helpers import gradient


def raw_params(height, width, N, centre, stride, sigma2, gamma=1.0):
    """Invert the paper's equations: the (g̃_X, g̃_Y, log σ², log δ̃, log γ) that give these values."""
    g_x, g_y = centre
    delta_tilde = stride * (N - 1) / (max(height, width) - 1)
    g_x_tilde, g_y_tilde = 2 * g_x / (width + 1) - 1, 2 * g_y / (height + 1) - 1
    return [g_x_tilde, g_y_tilde, math.log(sigma2), math.log(delta_tilde), math.log(gamma)]


def set_head(head, bias):
    """A zero kernel and this bias: the head outputs `bias` whatever h is."""
    head.kernel.assign(np.zeros(head.kernel.shape, "float32"))
    head.bias.assign(np.asarray(bias, "float32"))


def rand(shape, seed=0):
    return np.random.default_rng(seed).random(shape).astype("float32")


def test_grid_centre_stride_and_gaussian_rows():
    height, width, N = 30, 40, 4
    centre, stride, sigma2 = (18.0, 14.5), 3.0, 2.25
    params = np.array([raw_params(height, width, N, centre, stride, sigma2, gamma=1.5)], "float32")
    F_X, F_Y, gamma, plot = filterbank(params, height, width, N)
    F_X, F_Y = ops.convert_to_numpy(F_X)[0], ops.convert_to_numpy(F_Y)[0]
    assert F_X.shape == (N, width) and F_Y.shape == (N, height)
    np.testing.assert_allclose(ops.convert_to_numpy(gamma), [1.5], rtol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(plot["centre"]), [centre], rtol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(plot["stride"]), [stride], rtol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(plot["sigma2"]), [sigma2], rtol=1e-6)

    offsets = np.arange(1, N + 1) - N / 2 - 0.5  # 1-based i: −1.5, −0.5, 0.5, 1.5
    for F, g, size in [(F_X, centre[0], width), (F_Y, centre[1], height)]:
        a = np.arange(1, size + 1)  # 1-based pixel centres
        mu = g + offsets * stride  # every filter well inside the image
        np.testing.assert_allclose(F.sum(axis=1), 1.0, rtol=1e-6)
        mean = F @ a
        variance = (F * np.square(a[None] - mean[:, None])).sum(axis=1)
        np.testing.assert_allclose(mean, mu, atol=1e-4)
        np.testing.assert_allclose(variance, sigma2, rtol=1e-4)
        # Each row is exactly exp(−(a − μ)²/(2σ²)) up to normalisation.
        expected = np.exp(-np.square(a[None] - mu[:, None]) / (2 * sigma2))
        np.testing.assert_allclose(F, expected / expected.sum(1, keepdims=True), atol=1e-6)


def test_zero_head_output_centres_the_grid_on_the_image():
    for height, width, N in [(28, 28, 5), (30, 41, 4), (7, 12, 1)]:
        F_X, F_Y, _, plot = filterbank(np.zeros((1, 5), "float32"), height, width, N)
        np.testing.assert_allclose(ops.convert_to_numpy(plot["centre"]), [[(width + 1) / 2, (height + 1) / 2]])
        np.testing.assert_allclose(ops.convert_to_numpy(plot["stride"]), [(max(height, width) - 1) / max(N - 1, 1)])
        # The grid is symmetric about the centre: the filters mirror each other.
        np.testing.assert_allclose(ops.convert_to_numpy(F_X)[0], ops.convert_to_numpy(F_X)[0, ::-1, ::-1], atol=1e-6)
        np.testing.assert_allclose(ops.convert_to_numpy(F_Y)[0], ops.convert_to_numpy(F_Y)[0, ::-1, ::-1], atol=1e-6)


def test_a_fresh_writer_writes_a_constant_patch_at_its_own_value():
    """Before training (h = 0: the heads output their biases) the grid spans the canvas and
    1/γ̂ = δ₀², so a patch of 3s paints ≈ 3 inside the grid, not 3/δ₀² (δ₀ = 27/7 on 28 × 28)."""
    writer = GaussianWriter(8, (28, 28, 1))
    writer.build((1, 16))
    set_head(writer.patch_head, np.full(64, 3.0))
    canvas = ops.convert_to_numpy(writer(np.zeros((1, 16), "float32")))[0, ..., 0]
    assert abs(float(canvas[4:24, 4:24].mean()) - 3.0) < 0.3
    assert ops.convert_to_numpy(writer.attention_head.bias)[4] == pytest.approx(-2 * math.log(27 / 7))


def test_read_of_a_delta_image_peaks_at_the_nearest_filter():
    height, width, N = 20, 24, 5
    centre, stride = (12.0, 9.0), 3.0
    reader = GaussianReader(N, return_params=True)
    reader.build((None, height, width, 1), (None, 6))
    set_head(reader.attention_head, raw_params(height, width, N, centre, stride, sigma2=1.0))
    offsets = np.arange(1, N + 1) - N / 2 - 0.5
    mu_x, mu_y = centre[0] + offsets * stride, centre[1] + offsets * stride
    for r, c in [(9, 13), (2, 5), (14, 19)]:  # 0-based array indices → 1-based coordinates (r + 1, c + 1)
        image = np.zeros((1, height, width, 1), "float32")
        image[0, r, c, 0] = 1.0
        glimpse, _ = reader(image, np.ones((1, 6), "float32"))
        glimpse = ops.convert_to_numpy(glimpse)[0, ..., 0]
        peak = np.unravel_index(np.argmax(glimpse), glimpse.shape)
        assert peak == (np.argmin(np.abs(mu_y - (r + 1))), np.argmin(np.abs(mu_x - (c + 1))))


def test_error_image_channels_and_gamma():
    x, x_hat, h = rand((2, 12, 10, 3), 1), rand((2, 12, 10, 3), 2), rand((2, 6), 3)
    reader = GaussianReader(4)
    both = ops.convert_to_numpy(reader(x, h, x_hat))
    assert both.shape == (2, 4, 4, 6)
    np.testing.assert_allclose(both[..., :3], ops.convert_to_numpy(reader(x, h)), atol=1e-6)
    np.testing.assert_allclose(both[..., 3:], ops.convert_to_numpy(reader(x_hat, h)), atol=1e-6)
    bias = np.asarray(reader.attention_head.bias)
    reader.attention_head.bias.assign(bias + np.array([0, 0, 0, 0, math.log(3.0)], "float32"))
    np.testing.assert_allclose(ops.convert_to_numpy(reader(x, h, x_hat)), 3 * both, rtol=1e-5)


def test_write_after_read_with_identity_parameters_reconstructs_the_image():
    size, channels = 10, 2
    identity = raw_params(size, size, size, centre=((size + 1) / 2, (size + 1) / 2), stride=1.0, sigma2=0.05)
    assert np.allclose(identity, [0, 0, math.log(0.05), 0, 0])
    image = rand((3, size, size, channels))
    reader = GaussianReader(size)
    reader.build(image.shape, (None, 1))
    set_head(reader.attention_head, identity)
    glimpse = reader(image, np.zeros((3, 1), "float32"))
    np.testing.assert_allclose(ops.convert_to_numpy(glimpse), image, atol=1e-3)

    units = size * size * channels
    writer = GaussianWriter(size, (size, size, channels))
    writer.build((None, units))
    set_head(writer.attention_head, identity)
    writer.patch_head.kernel.assign(np.eye(units, dtype="float32"))  # w = h
    canvas = writer(ops.reshape(glimpse, (3, units)))
    assert canvas.shape == image.shape
    np.testing.assert_allclose(ops.convert_to_numpy(canvas), image, atol=2e-3)


def test_gradients_are_finite_for_extreme_parameters():
    height, width, N, channels = 16, 16, 3, 2
    extreme = np.array(
        [
            [0.1, -0.2, 0.3, -0.1, 0.2],  # ordinary: gradients must also be non-zero
            [50.0, -50.0, 0.0, 0.0, 0.0],  # centre ~25 images off: every filter misses the image
            [1e6, -1e30, 0.0, 0.0, 0.0],  # beyond the clip
            [0.0, 0.0, 80.0, 80.0, 80.0],  # huge σ², δ̃, γ
            [0.0, 0.0, -80.0, -80.0, -80.0],  # tiny σ², δ̃, γ
            [0.05, 0.0, -15.0, 0.0, 0.0],  # σ ≈ 5e-4 between pixel centres: every exp underflows
            [0.0, 0.0, 15.0, -15.0, 0.0],
        ],
        "float32",
    )
    reader, writer = GaussianReader(N), GaussianWriter(N, (height, width, channels))
    reader.build((None, height, width, channels), (None, 5))
    writer.build((None, 5))
    for head in (reader.attention_head, writer.attention_head):  # raw parameters = h
        head.kernel.assign(np.eye(5, dtype="float32"))
    set_head(writer.patch_head, np.ones(N * N * channels))  # w = 1: h only places the filters

    def loss(h, x):
        return ops.sum(ops.square(reader(x, h, x))) + ops.sum(ops.square(writer(h) * x))

    grads, _ = gradient(lambda xs: (loss(*xs), None), [extreme, rand((len(extreme), height, width, channels))])
    for g in grads:
        assert np.all(np.isfinite(g))
    assert np.all(np.abs(grads[0][0]) > 0)


def tiny_model(height=12, width=10, channels=2, units=6, N=3):
    x, x_hat, h = keras.Input((height, width, channels)), keras.Input((height, width, channels)), keras.Input((units,))
    glimpse, params = GaussianReader(N, return_params=True)(x, h, x_hat)
    features = keras.layers.Concatenate()([keras.layers.Flatten()(glimpse), h])
    canvas = GaussianWriter(N, (height, width, channels))(features)
    return keras.Model([x, x_hat, h], [canvas, glimpse, params["centre"]])


def test_weights_exist_after_build_and_bad_inputs_are_named():
    reader, writer = GaussianReader(4), GaussianWriter(3, (8, 8, 2))
    reader.build((None, 8, 8, 1), (None, 6))
    writer.build((None, 6))
    assert [tuple(w.shape) for w in reader.weights] == [(6, 5), (5,)]
    assert [tuple(w.shape) for w in writer.weights] == [(6, 5), (5,), (6, 18), (18,)]
    with pytest.raises(ValueError, match="batch, height, width, channels"):
        GaussianReader(4)(np.zeros((2, 8, 8), "float32"), np.zeros((2, 3), "float32"))
    x, h, x_hat = np.zeros((2, 8, 8, 1), "float32"), np.zeros((2, 3), "float32"), np.zeros((2, 8, 9, 1), "float32")
    with pytest.raises(ValueError, match="x_hat must have the shape of x"):
        GaussianReader(4)(x, h, x_hat)
    with pytest.raises(ValueError, match="N must be a positive int"):
        GaussianReader(0)
    with pytest.raises(ValueError, match="image_shape"):
        GaussianWriter(3, (8, 8))


def test_keras_file_round_trip_in_safe_mode(tmp_path):
    model = tiny_model()
    path = tmp_path / "draw.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    inputs = [rand((2, 12, 10, 2), 1), rand((2, 12, 10, 2), 2), rand((2, 6), 3)]
    for a, b in zip(model(inputs), loaded(inputs)):
        np.testing.assert_allclose(ops.convert_to_numpy(b), ops.convert_to_numpy(a), atol=1e-6)


def test_tflite_export_with_builtin_ops_matches_keras():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("TFLite conversion needs the TensorFlow backend")
    tf = pytest.importorskip("tensorflow")
    interpreter_module = pytest.importorskip("ai_edge_litert.interpreter")
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    model = tiny_model()
    inputs = [rand((2, 12, 10, 2), 1), rand((2, 12, 10, 2), 2), rand((2, 6), 3)]
    fn = tf.function(
        lambda x, x_hat, h: model([x, x_hat, h]),
        input_signature=[tf.TensorSpec(a.shape, tf.float32) for a in inputs],
    )
    frozen = convert_variables_to_constants_v2(fn.get_concrete_function())
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen], tf.Module())
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    interpreter = interpreter_module.Interpreter(model_content=converter.convert())
    runner = interpreter.get_signature_runner()
    outputs = runner(x=inputs[0], x_hat=inputs[1], h=inputs[2])
    expected = [ops.convert_to_numpy(t) for t in model(inputs)]
    for i, e in enumerate(expected):  # canvas, glimpse, centre
        got = outputs[f"output_{i}"]
        assert got.shape == e.shape
        assert np.max(np.abs(got - e)) <= 1e-4
