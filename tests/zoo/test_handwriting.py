"""Handwriting synthesis (Graves 2013): the loss against NumPy, the padding convention, the training
pass against the exported step, fit on both kinds, the stopping rule and priming on a hand-set
window, the unconditional model's round trip and export, pictures, bad input. The conditional
model's `.keras` round trip and TFLite parity are in test_conformance."""

import keras
import numpy as np
import pytest
from keras import ops

import zoo
from tests.layers.test_mixture_density import numpy_nll

TOKENS = ("<pad>", " ", "a", "b", "c")
SMALL = dict(tokens=TOKENS, max_text_len=6, units=8, layers=2, components=3, window=2)


def model(**overrides):
    keras.utils.set_random_seed(0)
    return zoo.load("handwriting", weights=None, **{**SMALL, **overrides})


def batch(lengths=(7, 4), steps=7, seed=0):
    """Strokes (B, steps, 3) whose line b ends with a pen lift at point lengths[b], zeros after it; texts."""
    rng = np.random.default_rng(seed)
    strokes = np.zeros((len(lengths), steps, 3), np.float32)
    for b, n in enumerate(lengths):
        strokes[b, :n, :2] = rng.normal(size=(n, 2))
        strokes[b, :n, 2] = rng.random(n) < 0.3
        strokes[b, n - 1, 2] = 1.0
    return {"strokes": strokes, "text": np.array([[2, 3, 1, 4, 0, 0], [3, 3, 0, 0, 0, 0]], np.int32)}


@pytest.mark.parametrize("conditional", [True, False])
def test_loss_is_the_numpy_nll_of_the_predicted_points(conditional):
    m, x = model(conditional=conditional), batch()
    out = {k: ops.convert_to_numpy(v) for k, v in m(x).items()}
    assert out["y_hat"].shape == (2, 7, 1 + 6 * 3) and out["nll"].shape == (2,)
    assert ("phi" in out) == conditional and (not conditional or out["phi"].shape == (2, 7, 6))
    per_point = numpy_nll(out["y_hat"], x["strokes"])  # x_1 … x_T from the start point, x_1 … x_{T−1}
    valid = np.arange(7)[None, :] < np.array([[7], [4]])  # the second line's points 5 … 7 are padding
    np.testing.assert_allclose(out["nll"], (per_point * valid).sum(1), rtol=1e-5)
    np.testing.assert_array_equal(out["points"], [7, 4])
    m.compile(keras.optimizers.Adam(1e-3))
    loss = m.evaluate(x, np.zeros(2), batch_size=2, verbose=0, return_dict=True)
    np.testing.assert_allclose(loss["loss"], out["nll"].mean(), rtol=1e-5)
    np.testing.assert_allclose(loss["nll_per_point"], out["nll"].sum() / 11, rtol=1e-5)


def test_padding_after_the_last_pen_lift_changes_nothing():
    m, x = model(), batch(lengths=(5, 4), steps=5)
    padded = {**x, "strokes": np.concatenate([x["strokes"], np.zeros((2, 3, 3), np.float32)], 1)}
    np.testing.assert_allclose(ops.convert_to_numpy(m(padded)["nll"]), ops.convert_to_numpy(m(x)["nll"]), rtol=1e-6)
    # Shorter text padding: the window reads the same characters.
    narrow = {**x, "text": x["text"][:, :4]}
    np.testing.assert_allclose(ops.convert_to_numpy(m(narrow)["nll"]), ops.convert_to_numpy(m(x)["nll"]), rtol=1e-6)


@pytest.mark.parametrize("conditional", [True, False])
def test_the_training_pass_is_the_exported_step_repeated(conditional):
    m, x = model(conditional=conditional), batch()
    out = m(x)
    names, serve = m.serving_signature()
    assert set(names) == {"point", "bias", "state_h", "state_c"} | ({"text", "state_kappa", "state_window"} if conditional
                                                                     else set())
    state = {f"state_{k}": v for k, v in m.initial_state(2).items()}
    y_hat = ops.convert_to_numpy(out["y_hat"])
    inputs = np.concatenate([np.zeros((2, 1, 3), np.float32), x["strokes"]], 1)  # the start point first
    for t in range(7):
        step = serve(point=inputs[:, t], bias=np.zeros(2, np.float32), **({"text": x["text"]} if conditional else {}),
                     **state)
        step = {k: ops.convert_to_numpy(v) for k, v in step.items()}
        state = {k: v for k, v in step.items() if k.startswith("state_")}
        e = 1 / (1 + np.exp(-y_hat[:, t, 0]))
        np.testing.assert_allclose(step["end_of_stroke"][:, 0], e, rtol=1e-4, atol=1e-6)
        pi_hat = y_hat[:, t, 1:4]
        np.testing.assert_allclose(np.log(step["pi"]), pi_hat - np.log(np.exp(pi_hat).sum(-1, keepdims=True)), atol=1e-4)
        np.testing.assert_allclose(step["mu"], np.stack([y_hat[:, t, 4:7], y_hat[:, t, 7:10]], -1), atol=1e-5)
        if conditional:
            np.testing.assert_allclose(step["phi"], ops.convert_to_numpy(out["phi"])[:, t], rtol=1e-4, atol=1e-6)
            assert np.all(step["state_kappa"] > 0)
    assert set(step) >= {"end_of_stroke", "pi", "mu", "sigma", "rho", "state_h", "state_c"}


@pytest.mark.parametrize("conditional", [True, False])
def test_one_fit_step_trains_every_part(conditional):
    m, x = model(conditional=conditional), batch()
    m.compile(keras.optimizers.Adam(1e-2), run_eagerly=keras.backend.backend() == "tensorflow")
    paths, before = [w.path for w in m.trainable_weights], [np.array(w) for w in m.trainable_weights]
    history = m.fit(x, np.zeros(2), batch_size=2, epochs=1, verbose=0).history
    assert np.isfinite(history["loss"][0]) and np.isfinite(history["nll_per_point"][0])
    unchanged = [p for p, b, w in zip(paths, before, m.trainable_weights) if np.array_equal(b, np.asarray(w))]
    assert not unchanged, f"the fit step left {unchanged} as they were"
    assert any("window" in p for p in paths) == conditional


def hand_set_window(m, step):
    """A window that ignores h¹: α = 1, β = 1, κ advancing `step` characters a step."""
    m.window.kernel.assign(np.zeros(m.window.kernel.shape, "float32"))
    K = m.window.components
    m.window.bias.assign(np.array([0.0] * 2 * K + [np.log(step)] * K, "float32"))


def test_write_stops_when_the_window_passes_the_last_character():
    m = model()
    # κ_t = t·s; φ(t, U + 1) > φ(t, u ≤ U) once κ_t > U + 0.5. Checked before each point is drawn,
    # so a text of U characters gets ⌊(U + 0.5)/s⌋ points (s chosen away from ties).
    hand_set_window(m, 1.0)
    results = m.write(["abc", "a", "ab ca"], bias=0.0, seed=1, max_steps=50)
    assert [len(r["strokes"]) for r in results] == [3, 1, 5]
    hand_set_window(m, 0.4)
    results = m.write(["abc", "a"], seed=1, max_steps=50)
    assert [len(r["strokes"]) for r in results] == [8, 3]
    for r in results:
        assert r["phi"].shape == (len(r["strokes"]), len(r["text"])) and r["strokes"][-1, 2] == 1.0
        assert np.all(np.diff(r["phi"].argmax(1)) >= 0)  # the window moves forward only
    # A window too slow to get there: max_steps points.
    hand_set_window(m, 1e-3)
    assert [len(r["strokes"]) for r in m.write(["ab"], max_steps=7)] == [7]


def test_priming_reads_the_prime_first_and_conditions_on_both_texts():
    m = model()
    hand_set_window(m, 1.0)
    prime = batch()["strokes"][0, :3]
    # "a" + " " + "ab": U = 4; the start point and the prime's first two points take three steps,
    # so writing stops after ⌊4.5⌋ − 3 = 1 point; without the prime, after 2 ("ab").
    (result,) = m.write(["ab"], prime=(prime, "a"), max_steps=50)
    assert result["text"] == "a ab" and len(result["strokes"]) == 1 and result["phi"].shape == (1, 4)
    assert len(m.write(["ab"], max_steps=50)[0]["strokes"]) == 2


def test_write_repeats_with_a_seed_and_the_bias_narrows_it():
    m = model(conditional=False)
    a, b, c = (m.write(["ab", "c"], bias=bias, seed=seed, max_steps=40) for bias, seed in ((0, 3), (0, 3), (0, 4)))
    np.testing.assert_array_equal(a[0]["strokes"], b[0]["strokes"])
    assert not np.array_equal(a[0]["strokes"], c[0]["strokes"])
    assert a[0]["phi"].shape == (40, 0)  # no window: max_steps points
    spread = [np.concatenate([r["strokes"][:, :2] for r in m.write(["abc"] * 8, bias=bias, max_steps=40)]).std()
              for bias in (0.0, 3.0)]
    assert spread[1] < spread[0]


def test_input_noise_moves_the_offsets_read_in_training_and_nothing_else():
    clean, noisy, x = model(), model(input_noise=0.5), batch()
    noisy.set_weights(clean.get_weights())
    assert noisy.get_config()["input_noise"] == 0.5 and clean.count_params() == noisy.count_params()
    np.testing.assert_allclose(ops.convert_to_numpy(noisy(x)["nll"]), ops.convert_to_numpy(clean(x)["nll"]), rtol=1e-6)
    assert not np.allclose(ops.convert_to_numpy(noisy(x, training=True)["nll"]), ops.convert_to_numpy(clean(x)["nll"]))
    # A known "noise" of +1: the network reads the shifted offsets (pen bits as they are) and is scored
    # on the true points.
    noisy.noise = lambda offsets, training: offsets + 1.0 if training else offsets
    read = np.concatenate([np.zeros((2, 1, 3), np.float32), x["strokes"][:, :-1]], 1) + [1.0, 1.0, 0.0]
    y_hat = clean.forward(ops.convert_to_tensor(read), ops.convert_to_tensor(x["text"]))[0]
    out = noisy(x, training=True)
    np.testing.assert_allclose(ops.convert_to_numpy(out["y_hat"]), ops.convert_to_numpy(y_hat), rtol=1e-5, atol=1e-6)
    valid = np.arange(7)[None, :] < np.array([[7], [4]])
    np.testing.assert_allclose(ops.convert_to_numpy(out["nll"]),
                               (numpy_nll(ops.convert_to_numpy(y_hat), x["strokes"]) * valid).sum(1), rtol=1e-5)


def test_the_unconditional_model_round_trips_through_a_keras_file(tmp_path):
    m, x = model(conditional=False), batch()
    m.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert loaded.get_config() == m.get_config() and loaded.window is None
    np.testing.assert_allclose(ops.convert_to_numpy(loaded(x)["nll"]), ops.convert_to_numpy(m(x)["nll"]), rtol=1e-6)
    assert m.count_params() < model().count_params()  # the window's weights and w_t's inputs


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TFLite export converts TensorFlow graphs")
def test_the_unconditional_step_exports_to_tflite(tmp_path):
    from export import to_tflite

    m = model(conditional=False)
    rng = np.random.default_rng(0)
    feed = {n: rng.normal(0, 0.5, (3, *s[1:])).astype("float32") for n, s in m.serving_signature()[0].items()}
    report = to_tflite(m, tmp_path / "step.tflite", check_inputs=feed)
    assert report.matching == 1.0 and report.max_abs_diff < 1e-4


def test_picture_writes_a_png(tmp_path):
    m = model()
    hand_set_window(m, 0.25)
    path = m.picture({"strokes": batch()["strokes"][:2]}, ["ab", "cab"], tmp_path / "lines.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_input_is_refused_with_what_was_expected():
    m, x = model(), batch()
    with pytest.raises(ValueError, match=r"expects a dict with 'strokes' .* got \['strokes'\]"):
        m({"strokes": x["strokes"]})
    with pytest.raises(ValueError, match=r"expects strokes of shape \(batch, T ≥ 1, 3\).* got shape \(2, 7, 2\)"):
        m({**x, "strokes": x["strokes"][..., :2]})
    with pytest.raises(ValueError, match=r"text ids as integers of shape \(batch, U ≤ 6\), 0 = padding; got float32 \(2, 6\)"):
        m({**x, "text": x["text"].astype("float32")})
    with pytest.raises(ValueError, match=r"U ≤ 6\), 0 = padding; got int32 \(2, 8\)"):
        m({**x, "text": np.pad(x["text"], ((0, 0), (0, 2)))})
    with pytest.raises(ValueError, match=r"ids in \[0, 4\]; got ids from 0 to 9"):
        m({**x, "text": np.where(x["text"] == 4, 9, x["text"])})
    with pytest.raises(ValueError, match="unknown: \\['z'\\]"):
        m.write(["abz"])
    with pytest.raises(ValueError, match="at most 6 characters"):
        m.write(["abcabca"])
    with pytest.raises(ValueError, match="wrap it in a list"):
        m.write("abc")
    with pytest.raises(ValueError, match=r"prime strokes of shape \(T, 3\)"):
        m.write(["ab"], prime=(np.zeros((4, 2)), "a"))
    with pytest.raises(ValueError, match=r"input_noise must be a standard deviation ≥ 0; got -0.1"):
        model(input_noise=-0.1)
    with pytest.raises(ValueError, match="tokens must be '<pad>' then distinct single characters"):
        zoo.load("handwriting", weights=None, tokens=("a", "b"))


def test_the_pretrained_window_moves_forward_through_a_test_text_and_stops_at_its_end():
    # Issue 34: the argmax character of φ does not move back in ≥ 95% of the writing steps, and each
    # line stops because the window passed its last character, not at the step limit.
    from recipes import data

    texts = data.load_strokes("strokes_kjv", "test", limit=6).texts
    limit = 40 * max(map(len, texts))
    written = zoo.load("handwriting").write(texts, bias=1.0, seed=0, max_steps=limit)
    forward = np.concatenate([np.diff(w["phi"].argmax(1)) >= 0 for w in written])
    assert forward.mean() >= 0.95
    for w, text in zip(written, texts):
        assert len(w["strokes"]) < limit and w["phi"].shape == (len(w["strokes"]), len(text))
        assert w["phi"][-1].argmax() >= len(text) - 2  # at its end: on the last characters
