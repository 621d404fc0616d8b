"""Character language models (tied 2-LSTM and stacked LSTM) and the KJV corpus: probabilities,
causality, budgets, tiny fit, bad input, sampling, BPC, data (the `.keras` round trip is in test_conformance)."""

import keras
import numpy as np
import pytest

import zoo
from recipes import configs, data, train
from recipes.data import kjv
from recipes.evaluate import evaluate_language_model
from zoo import decoding, tasks

TOKENS = list("\n abcdefgh")


def model(**kw):
    keras.utils.set_random_seed(0)
    return zoo.load("grid_lstm_lm", weights=None, **{"tokens": TOKENS, "units": 8, "depth": 2, "context": 12, **kw})


def ids(n=3, length=12, seed=0):
    return np.random.default_rng(seed).integers(0, len(TOKENS), (n, length)).astype("int32")


@pytest.mark.parametrize("cell", ["grid", "stacked"])
def test_probabilities_are_causal(cell):
    m = model(cell=cell)
    x = ids()
    probs = np.asarray(m(x))
    assert probs.shape == (3, 12, len(TOKENS))
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
    changed = x.copy()
    changed[:, 7:] = (changed[:, 7:] + 1) % len(TOKENS)  # the future changes, the past's predictions do not
    after = np.asarray(m(changed))
    np.testing.assert_allclose(after[:, :7], probs[:, :7], atol=1e-6)
    assert not np.allclose(after[:, 7:], probs[:, 7:])


@pytest.mark.parametrize("cell", ["grid", "stacked"])
def test_the_unrolled_window_equals_the_loop(cell):
    m = model(cell=cell)
    np.testing.assert_allclose(np.asarray(m(ids(), unroll=True)), np.asarray(m(ids())), atol=1e-6)


def test_the_recipes_compare_equal_budgets():
    grid, stacked = (configs.get(n) for n in ("grid_lstm_lm_kjv", "grid_lstm_lm_kjv_stacked"))
    assert grid.baseline == stacked.name and (grid.epochs, grid.learning_rate) == (stacked.epochs, stacked.learning_rate)
    tokens = data.info("kjv")["vocabulary"]
    counts = [zoo.load("grid_lstm_lm", weights=None, tokens=tokens, **r.config) for r in (grid, stacked)]
    for m in counts:
        m.build_for_inputs()
    grid_params, stacked_params = (m.count_params() for m in counts)
    d, V = grid.config["units"], len(tokens)
    assert grid_params == (V * 2 * d + 2 * d) + (2 * d * 4 * d + 4 * d) + (2 * d * V + V)  # one tied block W
    assert abs(grid_params - stacked_params) / grid_params < 0.01


def test_tiny_fit_learns_a_repeated_text():
    m = model(units=16, depth=1)
    text = ("abc abd abe\n" * 40)[: 12 * 30 + 1]
    encoded = m.encode(text)
    windows = np.stack([encoded[k : k + 13] for k in range(0, 12 * 30, 12)])
    m.compile(keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    history = m.fit(windows[:, :-1], windows[:, 1:], batch_size=10, epochs=15, verbose=0).history["loss"]
    assert history[-1] < 0.6 * history[0]
    assert m.bits_per_character(text) < np.log2(len(TOKENS))  # better than uniform


def test_bits_per_character_is_the_mean_surprisal():
    m = model()  # context 12: windows read characters 0–11, 12–23 and 24, each predicting the next
    text = "abc defgh\nba hg fed cba ab"
    bits = [-np.log2(np.asarray(m(m.encode(text[a:b])[None]))[0][np.arange(b - a), m.encode(text[a + 1 : b + 1])])
            for a, b in ((0, 12), (12, 24), (24, 25))]
    np.testing.assert_allclose(m.bits_per_character(text), np.concatenate(bits).mean(), rtol=1e-5)


def test_complete_is_seeded_and_greedy_at_temperature_zero():
    m = model()
    a, b = m.complete("abc", 15, seed=3), m.complete("abc", 15, seed=3)
    assert a == b and len(a) == 15 and set(a) <= set(TOKENS)
    greedy = m.complete("abc", 5, temperature=0)
    window = np.array([[0] * 9 + list(m.encode("abc"))], np.int32)  # left-padded with "\n" (id 0)
    assert greedy[0] == TOKENS[int(np.argmax(np.asarray(m(window))[0, -1]))]


def test_continue_text_reads_the_last_context_ids():
    seen = []

    def next_probabilities(window):
        seen.append(window.copy())
        return np.eye(3)[(window[0, -1] + 1) % 3]  # always the next id

    assert decoding.continue_text(next_probabilities, [1], "xyz", 4, 0, 4, temperature=0) == "zxyz"
    np.testing.assert_array_equal(seen[0], [[0, 0, 0, 1]])
    np.testing.assert_array_equal(seen[-1], [[1, 2, 0, 1]])


def test_bad_input_is_refused_saying_what_was_expected():
    m = model()
    with pytest.raises(ValueError, match=r"int32 character ids.*got dtype float32.*model.encode"):
        m(ids().astype("float32"))
    with pytest.raises(ValueError, match=r"\(batch, T\).*add a batch axis"):
        m(ids()[0])
    with pytest.raises(ValueError, match=r"expected characters of the model's vocabulary.*\['Z', 'é'\]"):
        m.encode("abZé")
    with pytest.raises(ValueError, match="cell must be one of"):
        model(cell="gru")
    with pytest.raises(ValueError, match="distinct single characters"):
        model(tokens=["a", "a"])


def test_kjv_corpus_split_vocabulary_and_windows():
    info = data.info("kjv")
    assert info["kind"] == "corpus" and info["window"] == data.WINDOW and len(info["vocabulary"]) == 63
    train_text, test_text = kjv.text("train"), kjv.text("test")
    assert train_text.startswith("In the beginning God created the heaven and the earth.\n")
    assert test_text.rstrip().endswith("The grace of our Lord Jesus Christ be with you all. Amen.")
    assert len(test_text) / (len(train_text) + len(test_text)) == pytest.approx(0.05, abs=0.01)
    assert test_text[:200] not in train_text
    x, y = data.load_arrays("kjv", "test", limit=5)
    assert x.shape == y.shape == (5, data.WINDOW) and x.dtype == np.int64
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    np.testing.assert_array_equal(x[1:, 0], y[:-1, -1])  # windows follow each other
    assert "".join(info["vocabulary"][i] for i in x[0]) == test_text[: data.WINDOW]


def test_kjv_without_the_bible_program_says_how_to_get_it(monkeypatch):
    monkeypatch.setattr(kjv.shutil, "which", lambda name: None)
    monkeypatch.delenv(kjv.ENV, raising=False)
    kjv._verses.cache_clear()
    try:
        with pytest.raises(data.DataNotFoundError, match="apt-get install bible-kjv"):
            kjv.text("train")
    finally:
        kjv._verses.cache_clear()


def test_recipe_feeds_the_runner_and_evaluation():
    recipe = configs.get("grid_lstm_lm_kjv")
    config = train.model_config(recipe)
    assert config["tokens"] == data.info("kjv")["vocabulary"] and config["context"] == data.WINDOW
    m = zoo.load("grid_lstm_lm", weights=None, **{**config, "units": 4, "depth": 1})
    x, y = train.training_arrays(recipe, m, limit=3)
    assert x.shape == y.shape == (3, data.WINDOW)
    assert tasks.get("language_model").input_spec(m)["ids"]["dtype"] == "int32"
    metrics = evaluate_language_model(m, "kjv", limit=2)
    assert metrics["characters"] == 2 * data.WINDOW
    assert metrics["bpc"] == pytest.approx(np.log2(len(config["tokens"])), abs=0.2)  # untrained: near uniform
