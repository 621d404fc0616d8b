"""Grid LSTM: the block against numpy and Keras's LSTMCell, tying, identity and priority
dimensions, the 1-D and 2-D grids (shapes, a tiny fit), serialisation and TFLite export."""

import keras
import numpy as np
import pytest

from layers.grid_lstm import GridLSTM1D, GridLSTM2D, GridLSTMCell

UNITS = 3
RNG = np.random.default_rng(0)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def lstm(H, m, W, b):
    """The LSTM transform in numpy, gates packed [u, f, c, o]."""
    g_u, g_f, g_c, g_o = np.split(H @ W + b, 4, axis=-1)
    m_new = sigmoid(g_f) * m + sigmoid(g_u) * np.tanh(g_c)
    return sigmoid(g_o) * np.tanh(m_new), m_new


def hand_set(cell):
    """Build `cell` and give every weight random values; returns them by name."""
    cell.build()
    weights = {}
    for w in cell.weights:
        weights[w.name] = (RNG.normal(size=w.shape) * 0.5).astype("float32")
        w.assign(weights[w.name])
    return weights


def random_state(n, batch=2):
    h = [RNG.normal(size=(batch, UNITS)).astype("float32") for _ in range(n)]
    m = [RNG.normal(size=(batch, UNITS)).astype("float32") for _ in range(n)]
    return h, m


def run_block(cell, h, m):
    h_new, m_new = cell.block(h, m)
    return [np.asarray(v) for v in h_new], [np.asarray(v) for v in m_new]


def test_one_lstm_dimension_with_input_is_keras_lstm_cell():
    x = RNG.normal(size=(2, 5, 4)).astype("float32")
    reference = keras.layers.RNN(keras.layers.LSTMCell(UNITS), return_sequences=True, return_state=True)
    grid = keras.layers.RNN(GridLSTMCell(UNITS), return_sequences=True, return_state=True)
    reference(x), grid(x)
    kernel, recurrent_kernel, bias = reference.cell.get_weights()
    bias = RNG.normal(size=bias.shape).astype("float32")
    reference.cell.set_weights([kernel, recurrent_kernel, bias])
    grid.cell.set_weights([np.concatenate([kernel, recurrent_kernel]), bias])  # W = [kernel; recurrent_kernel]
    for expected, got in zip(reference(x), grid(x)):  # outputs, h, m
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected), atol=1e-6)


@pytest.mark.parametrize(
    "dimensions", [("lstm", "lstm"), ("lstm", "lstm", "lstm"), ("lstm", "tanh", "identity")]
)
def test_block_matches_its_equations(dimensions):
    cell = GridLSTMCell(UNITS, dimensions)
    w = hand_set(cell)
    h, m = random_state(len(dimensions))
    H = np.concatenate(h, axis=-1)
    expected_h, expected_m = [], []
    for i, kind in enumerate(dimensions):
        if kind == "lstm":
            h_i, m_i = lstm(H, m[i], w[f"W_{i}"], w[f"b_{i}"])
        elif kind == "tanh":
            h_i, m_i = np.tanh(H @ w[f"V_{i}"] + w[f"c_{i}"]), m[i]
        else:
            h_i, m_i = h[i], m[i]
        expected_h.append(h_i), expected_m.append(m_i)
    got_h, got_m = run_block(cell, h, m)
    np.testing.assert_allclose(got_h, expected_h, atol=1e-5)
    np.testing.assert_allclose(got_m, expected_m, atol=1e-5)


def test_tied_dimensions_share_one_weight_set():
    untied = GridLSTMCell(UNITS, ("lstm", "lstm", "lstm"))
    tied = GridLSTMCell(UNITS, ("lstm", "lstm", "lstm"), tied=True)
    untied.build(), tied.build()
    per_transform = 3 * UNITS * 4 * UNITS + 4 * UNITS  # W: (N·d, 4d), b: (4d,)
    assert untied.count_params() == 3 * per_transform
    assert tied.count_params() == per_transform
    forget_bias_one = [0] * UNITS + [1] * UNITS + [0] * 2 * UNITS
    np.testing.assert_array_equal(np.asarray(tied.weights[1]), forget_bias_one)
    # one W: dimensions with equal memories give equal outputs
    h, m = random_state(3)
    got_h, got_m = run_block(tied, h, [m[0]] * 3)
    np.testing.assert_allclose(got_h[0], got_h[2], atol=1e-6)
    np.testing.assert_allclose(got_m[1], got_m[2], atol=1e-6)

    def grid(tied):
        layer = GridLSTM2D(4, depth=3, tied=tied)
        layer.build((None, 5, 2))
        return layer.count_params()

    projection = 2 * 8 + 8
    assert grid(True) == projection + 8 * 16 + 16
    assert grid(False) == projection + 3 * 2 * (8 * 16 + 16)


def test_identity_dimension_passes_through():
    cell = GridLSTMCell(UNITS, ("lstm", "identity"))
    w = hand_set(cell)
    assert sorted(w) == ["W_0", "b_0"]
    h, m = random_state(2)
    got_h, got_m = run_block(cell, h, m)
    np.testing.assert_array_equal(got_h[1], h[1])
    np.testing.assert_array_equal(got_m[1], m[1])
    expected = lstm(np.concatenate(h, -1), m[0], w["W_0"], w["b_0"])  # it still reads h_2
    np.testing.assert_allclose(got_h[0], expected[0], atol=1e-5)


def test_priority_dimensions_see_the_updated_hidden_vectors():
    """priority=(2, 0): dimension 1 reads H; then dimension 2 reads [h_0; h'_1; h_2];
    last, dimension 0 reads H' = [h_0; h'_1; h'_2] (the paper's prioritised dimension)."""
    plain = GridLSTMCell(UNITS, ("lstm",) * 3)
    w = hand_set(plain)
    prioritised = GridLSTMCell(UNITS, ("lstm",) * 3, priority=(2, 0))
    prioritised.build()
    prioritised.set_weights(plain.get_weights())
    h, m = random_state(3)
    h1, m1 = lstm(np.concatenate(h, -1), m[1], w["W_1"], w["b_1"])
    h2, m2 = lstm(np.concatenate([h[0], h1, h[2]], -1), m[2], w["W_2"], w["b_2"])
    h0, m0 = lstm(np.concatenate([h[0], h1, h2], -1), m[0], w["W_0"], w["b_0"])
    got_h, got_m = run_block(prioritised, h, m)
    np.testing.assert_allclose(got_h, [h0, h1, h2], atol=1e-5)
    np.testing.assert_allclose(got_m, [m0, m1, m2], atol=1e-5)
    plain_h, _ = run_block(plain, h, m)
    np.testing.assert_allclose(plain_h[1], h1, atol=1e-5)
    assert np.abs(plain_h[0] - h0).max() > 1e-3 and np.abs(plain_h[2] - h2).max() > 1e-3


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="priority"):
        GridLSTMCell(UNITS, ("lstm", "lstm"), priority=(2,))
    with pytest.raises(ValueError):
        GridLSTMCell(UNITS, ("lstm", "no_such_activation"))
    with pytest.raises(ValueError, match=r"\(batch, time, features\)"):
        GridLSTM2D(UNITS, 2)(np.zeros((2, 3), "float32"))


def test_grid_output_shapes():
    vector, sequence = keras.Input((6,), batch_size=2), keras.Input((5, 6), batch_size=2)
    assert GridLSTM1D(4, depth=3)(vector).shape == (2, 8)
    assert GridLSTM2D(4, depth=2)(sequence).shape == (2, 8)
    assert GridLSTM2D(4, depth=2, return_sequences=True)(sequence).shape == (2, 5, 8)
    assert keras.layers.RNN(GridLSTMCell(4, ("lstm", "lstm")))(sequence).shape == (2, 8)


@pytest.mark.parametrize(
    "grid, shape",
    [(lambda: GridLSTM1D(8, depth=2), (6,)), (lambda: GridLSTM2D(8, depth=2, tied=True), (5, 2))],
)
def test_tiny_fit_reduces_the_loss(grid, shape):
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(1).integers(0, 2, size=(64, *shape)).astype("float32")
    y = (x.reshape(64, -1).sum(-1) > x[0].size / 2).astype("float32")  # majority vote
    inputs = keras.Input(shape)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(grid()(inputs)))
    model.compile(keras.optimizers.Adam(0.02), "binary_crossentropy")
    losses = model.fit(x, y, batch_size=16, epochs=6, verbose=0).history["loss"]
    assert losses[-1] < 0.8 * losses[0]


MODELS = {
    "cell": lambda: keras.layers.RNN(GridLSTMCell(4, ("lstm", "relu"), tied=True, priority=(0,))),
    "1d": lambda: keras.Sequential([keras.layers.Flatten(), GridLSTM1D(4, depth=2)]),
    "2d": lambda: GridLSTM2D(4, 2, dimensions=("lstm", "tanh"), priority=(1,), return_sequences=True),
}


@pytest.mark.parametrize("name", MODELS)
def test_keras_file_round_trip(name, tmp_path):
    inputs = keras.Input((5, 3))
    model = keras.Model(inputs, MODELS[name]()(inputs))
    x = RNG.normal(size=(2, 5, 3)).astype("float32")
    model.save(tmp_path / "grid.keras")
    loaded = keras.saving.load_model(tmp_path / "grid.keras", safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TFLite export runs on TensorFlow")
def test_grid_lstm_2d_converts_to_tflite_builtins():
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    keras.utils.set_random_seed(0)
    shape = (2, 5, 3)
    inputs = keras.Input(shape[1:])
    grid = GridLSTM2D(4, depth=2, priority=(1,), return_sequences=True)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2)(grid))
    fn = tf.function(lambda x: model(x), input_signature=[tf.TensorSpec(shape, tf.float32)])
    frozen = convert_variables_to_constants_v2(fn.get_concrete_function())
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen], tf.Module())
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    interpreter = Interpreter(
        model_content=converter.convert(),
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interpreter.allocate_tensors()
    assert "WHILE" in {op["op_name"] for op in interpreter._get_ops_details()}  # one loop over time
    x = RNG.normal(size=shape).astype("float32")
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(got, np.asarray(model(x)), atol=1e-4)
