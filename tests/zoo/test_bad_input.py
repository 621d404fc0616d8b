"""Every registered model's public entry points driven with bad arrays and strings (hypothesis): NaN,
infinity, 0–255 and [−1, 1] ranges, huge values, empty batches, wrong dtypes and ranks, unreadable
text. Each answer is a ValueError or TypeError whose message says what was expected, or a finite
result; never NaN out, never a crash inside the backend. Runs on both backends (`make test`)."""

import functools

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zoo

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
IMAGE_MODELS = ("cnn", "stn", "ram", "draw_classifier", "grid_lstm_image", "draw", "show_attend_tell")
BAD_ARRAYS = ("nan", "inf", "0-255", "-1-1", "huge", "empty", "int", "rank", "valid")


@functools.cache
def model(name):
    return zoo.load(name)


def image_shape(name):
    m = model(name)
    return (m.bits,) if name == "grid_lstm" else m.image_shape


def bad_array(kind, shape, batch, rng):
    """A batch of `kind` for inputs of `shape`: valid values are in [0, 1] (bits: 0 or 1)."""
    x = rng.random((batch, *shape)).astype("float32")
    if len(shape) == 1:  # parity bits
        x = np.round(x)
    if kind == "nan":
        x.flat[rng.integers(x.size)] = np.nan
    elif kind == "inf":
        x.flat[rng.integers(x.size)] = -np.inf
    elif kind == "0-255":
        x = x * 255
    elif kind == "-1-1":
        x = x * 2 - 1
    elif kind == "huge":
        x = x * 1e30
    elif kind == "empty":
        x = x[:0]
    elif kind == "int":
        x = (x * 255).astype("int32")
    elif kind == "rank":
        x = x[0]
    return x


def entry_points(name):
    m = model(name)
    if name == "draw":
        return [m, lambda x: m.bound(x)]
    if name == "show_attend_tell":
        return [lambda x: m.caption(x, beam_size=1)]
    return [m, lambda x: m.predict(x, verbose=0)]


def assert_refused_or_finite(fn, *args):
    try:
        out = fn(*args)
    except (ValueError, TypeError) as error:
        assert "expect" in str(error).lower(), f"the message does not say what was expected: {error}"
        return None
    numbers = [v for v in keras.tree.flatten(out) if not isinstance(v, str)]
    for value in numbers:
        assert np.all(np.isfinite(np.asarray(value, "float64"))), f"non-finite output for {args}"
    return out


@pytest.mark.parametrize("name", [*IMAGE_MODELS, "grid_lstm"])
@SETTINGS
@given(kind=st.sampled_from(BAD_ARRAYS), batch=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_image_and_bit_models_refuse_bad_arrays_or_answer_finitely(name, kind, batch, seed):
    x = bad_array(kind, image_shape(name), batch, np.random.default_rng(seed))
    for fn in entry_points(name):
        out = assert_refused_or_finite(fn, x)
        if kind == "valid":
            assert out is not None, "a valid batch was refused"


@SETTINGS
@given(text=st.one_of(st.text(max_size=30), st.sampled_from(["", "   ", "🎉🎉", "\n\t", "3 March 2001"])))
def test_the_translator_refuses_unreadable_text(text):
    out = assert_refused_or_finite(lambda t: model("seq2seq").translate([t]), text)
    if out is not None:
        assert isinstance(out[0]["text"], str) and np.isfinite(out[0]["score"])
    if not text.strip():
        assert out is None, "an empty text was translated"


@SETTINGS
@given(text=st.text(max_size=40), temperature=st.one_of(st.floats(allow_nan=True), st.just(0.0)),
       ids=st.lists(st.integers(-5, 200), min_size=1, max_size=8))
def test_the_language_model_refuses_bad_text_ids_and_temperatures(text, temperature, ids):
    lm = model("grid_lstm_lm")
    assert_refused_or_finite(lambda: lm.bits_per_character(text))
    assert_refused_or_finite(lambda: lm.complete(text or "In", length=3, temperature=temperature))
    out = assert_refused_or_finite(lambda: lm(np.array([ids], np.int32)))
    if min(ids) < 0 or max(ids) >= len(lm.tokens):
        assert out is None, "ids outside the vocabulary were accepted"
