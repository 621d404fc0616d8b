"""Grid LSTM parity model and the parity data: shapes, budgets, tiny fit, bad input, data (the
`.keras` round trip is in test_conformance)."""

import keras
import numpy as np
import pytest

import zoo
from recipes import configs, data, train
from recipes.data import parity
from zoo import tasks


def model(**kw):
    keras.utils.set_random_seed(0)
    return zoo.load("grid_lstm", weights=None, **{"bits": 16, "units": 8, "depth": 3, **kw})


def bits(n=5, k=16, seed=0):
    return np.random.default_rng(seed).integers(0, 2, (n, k)).astype("float32")


@pytest.mark.parametrize("cell", ["lstm", "relu"])
@pytest.mark.parametrize("tied", [True, False])
def test_probabilities_and_states(cell, tied):
    m = model(cell=cell, tied=tied)
    probs, states = m(bits(), return_states=True)
    probs, states = np.asarray(probs), np.asarray(states)
    assert probs.shape == (5, 2) and states.shape == (5, 4, 8)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
    assert len(m.cells) == (1 if tied else 3)


def test_baseline_has_the_grid_lstm_budget():
    grid = model(bits=64, units=32, depth=10)
    ffn = model(bits=64, units=64, depth=10, cell="relu")
    assert grid.count_params() == ffn.count_params() == 8450  # (65·64) + (32·128 + 128) + 33·2
    untied = model(bits=64, units=32, depth=10, tied=False)
    assert untied.count_params() == 8450 + 9 * (32 * 128 + 128)


def test_tiny_fit_reduces_loss():
    m = model(units=8, depth=2)
    x, y = data.load_arrays("parity_16", "train", limit=64)
    m.compile(keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    history = m.fit(x, y, batch_size=64, epochs=15, verbose=0).history["loss"]
    assert history[-1] < history[0]


def test_bad_input_is_refused_with_the_expected_shape():
    m = model()
    with pytest.raises(ValueError, match=r"\(batch, 16\).*got shape \(5, 12\)"):
        m(bits(k=12))
    with pytest.raises(ValueError, match=r"add a batch axis"):
        m(bits(k=16)[0])
    with pytest.raises(ValueError, match=r"float32.*got dtype int"):
        m(bits().astype("int32"))
    with pytest.raises(ValueError, match="cell must be"):
        model(cell="identity")


def test_data_is_seeded_labelled_and_split_without_overlap():
    x, y = data.load_arrays("parity_16", "train")
    xt, yt = data.load_arrays("parity_16", "test")
    assert x.dtype == np.float32 and y.dtype == np.int64 and x.shape == (parity.SPLITS["train"], 16) and xt.shape == (parity.SPLITS["test"], 16)
    assert set(np.unique(x)) == {0.0, 1.0}
    np.testing.assert_array_equal(y, x.sum(1).astype(int) % 2)
    np.testing.assert_array_equal(yt, xt.sum(1).astype(int) % 2)
    train_strings = {row.tobytes() for row in np.packbits(x.astype(np.uint8), axis=1)}
    assert not any(row.tobytes() in train_strings for row in np.packbits(xt.astype(np.uint8), axis=1))
    assert parity.is_test(xt).all() and not parity.is_test(x[:1000]).any()
    parity._generate.cache_clear()
    again, _ = data.load_arrays("parity_16", "test")
    np.testing.assert_array_equal(again, xt)
    other, _ = data.load_arrays("parity_16", "test", seed=1)
    assert not np.array_equal(other, xt)
    np.testing.assert_array_equal(data.load_arrays("parity_16", "test", limit=7)[0], xt[:7])
    assert data.info("parity_64")["kind"] == "vector" and data.info("parity_64")["input_shape"] == (64,)
    with pytest.raises(ValueError, match="parity_16"):
        parity.load("parity_17")


def test_recipes_feed_the_training_runner():
    recipes = [r for r in configs.RECIPES.values() if r.model == "grid_lstm"]
    assert {r.config["cell"] for r in recipes} == {"lstm", "relu"}
    recipe = recipes[0]
    config = train.model_config(recipe)
    assert config["bits"] == data.info(recipe.data)["input_shape"][0]
    m = zoo.load("grid_lstm", weights=None, **{**config, "units": 4, "depth": 1})
    x, y = train.training_arrays(recipe, m, limit=10)
    assert x.shape == (10, config["bits"]) and y.shape == (10,)
    assert tasks.get("classifier").input_spec(m) == {"bits": {"shape": [None, config["bits"]], "dtype": "float32", "range": [0.0, 1.0]}}
