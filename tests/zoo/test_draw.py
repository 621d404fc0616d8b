"""DRAW: the variational bound's terms, generation, both read/write kinds, fit, serialisation, bad input, export
(the `.keras` round trip is in test_conformance)."""

import keras
import numpy as np
import pytest

import zoo
from zoo.models.draw import bernoulli_nll

SHAPE = (12, 12, 1)


def draw(attention=True, **overrides):
    keras.utils.set_random_seed(3)
    config = dict(image_shape=SHAPE, steps=3, units=16, latent_dim=4, attention=attention, read_size=2, write_size=3)
    model = zoo.load("draw", weights=None, **{**config, **overrides})
    model.build_for_inputs()
    return model


def binary_images(n=8, seed=0):
    return (np.random.default_rng(seed).random((n, *SHAPE)) < 0.3).astype("float32")


def test_bernoulli_nll_is_stable_and_exact():
    x = np.array([0.0, 1.0, 1.0, 0.0, 1.0], "float32")
    logits = np.array([-2.0, 0.5, 3.0, 80.0, -80.0], "float32")
    nll = np.asarray(bernoulli_nll(x, logits))
    p = 1 / (1 + np.exp(-logits[:3].astype("float64")))
    np.testing.assert_allclose(nll[:3], -(x[:3] * np.log(p) + (1 - x[:3]) * np.log(1 - p)), rtol=1e-5)
    np.testing.assert_allclose(nll[3:], [80.0, 80.0], rtol=1e-5)  # log σ(−80) without overflow


@pytest.mark.parametrize("attention", [True, False])
def test_bound_terms_with_given_noise(attention):
    model, x = draw(attention), binary_images()
    noise = np.random.default_rng(1).standard_normal((len(x), 3, 4)).astype("float32")
    out = model(x, noise=noise)
    assert out["logits"].shape == (len(x), *SHAPE)
    # L^x is the Bernoulli NLL of the final canvas, summed over pixels.
    logits = np.asarray(out["logits"], "float64")
    expected = -(x * -np.log1p(np.exp(-logits)) + (1 - x) * -np.log1p(np.exp(logits))).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(np.asarray(out["reconstruction"]), expected, rtol=1e-4)
    # L^z is a sum of KL divergences: positive, and the same noise gives the same bound.
    assert np.all(np.asarray(out["kl"]) > 0)
    again = model(x, noise=noise)
    np.testing.assert_allclose(np.asarray(again["kl"]), np.asarray(out["kl"]), rtol=1e-6)
    r, k = model.bound(x, seed=5)
    r2, k2 = model.bound(x, seed=5)
    np.testing.assert_array_equal(r, r2)
    np.testing.assert_array_equal(k, k2)


def test_kl_is_zero_when_the_posterior_is_the_prior():
    model, x = draw(), binary_images(4)
    model.posterior.kernel.assign(np.zeros(model.posterior.kernel.shape, "float32"))
    model.posterior.bias.assign(np.zeros(model.posterior.bias.shape, "float32"))  # μ = 0, log σ = 0
    np.testing.assert_allclose(np.asarray(model(x)["kl"]), 0.0, atol=1e-6)


@pytest.mark.parametrize("attention", [True, False])
def test_generate_draws_canvases_step_by_step(attention):
    model = draw(attention)
    canvases, writes = model.generate(5, seed=2)
    assert canvases.shape == (5, 3, *SHAPE) and np.all((canvases >= 0) & (canvases <= 1))
    assert not np.allclose(canvases[:, 0], canvases[:, -1])  # every step writes
    np.testing.assert_array_equal(model.generate(5, seed=2)[0], canvases)
    if attention:
        assert writes["centre"].shape == (5, 3, 2) and writes["stride"].shape == (5, 3)
    else:
        assert writes == {}
    inputs, serve = model.serving_signature()
    assert inputs == {"noise": (None, 3, 4)}
    noise = np.random.default_rng(2).standard_normal((5, 3, 4)).astype("float32")
    np.testing.assert_allclose(np.asarray(serve(noise)["images"]), canvases[:, -1], atol=1e-6)


def test_tiny_fit_lowers_the_bound():
    model = draw()
    x = np.tile(binary_images(4), (16, 1, 1, 1))  # four images to memorise
    labels = np.zeros(len(x), "int32")  # ignored, as the training runner passes class labels
    model.compile(keras.optimizers.Adam(1e-2))
    history = model.fit(x, labels, batch_size=16, epochs=8, verbose=0).history
    assert set(history) == {"loss", "reconstruction", "kl"}
    assert history["loss"][-1] < 0.9 * history["loss"][0]
    np.testing.assert_allclose(history["loss"][-1], history["reconstruction"][-1] + history["kl"][-1], rtol=1e-3)


def test_kl_warmup_weighs_the_kl_term_by_the_steps_taken():
    model, x = draw(kl_warmup=4), binary_images(8)
    model.compile(keras.optimizers.SGD(0.0))  # the weights stay: only the step count moves
    first = model.fit(x, np.zeros(8), batch_size=8, epochs=1, verbose=0).history
    assert float(model.kl_steps.numpy()) == 1.0
    np.testing.assert_allclose(first["loss"][0], first["reconstruction"][0] + first["kl"][0] / 4, rtol=1e-4)  # β = 1/4
    model.fit(x, np.zeros(8), batch_size=8, epochs=5, verbose=0)
    assert float(model.kl_steps.numpy()) == 6.0
    out = model(x)
    evaluated = float(model.compute_loss(y_pred=out, training=False))  # evaluation: the whole bound, β = 1
    assert evaluated == pytest.approx(float(np.mean(np.asarray(out["reconstruction"]) + np.asarray(out["kl"]))))
    assert keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model)).kl_warmup == 4
    with pytest.raises(ValueError, match="kl_warmup must be ≥ 0"):
        draw(kl_warmup=-1)


def test_bad_input_is_refused_with_what_was_expected():
    model = draw()
    with pytest.raises(ValueError, match=r"expects float32 images.*astype"):
        model(np.zeros((2, *SHAPE), "uint8"))
    with pytest.raises(ValueError, match=r"expects images of shape \(batch, 12, 12, 1\).*add a batch axis"):
        model(np.zeros(SHAPE, "float32"))
    with pytest.raises(ValueError, match=r"noise of shape \(batch, 3, 4\) \(steps, latent_dim\); got \(2, 3\)"):
        model.decode(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match="must be ≥ 1"):
        zoo.load("draw", weights=None, steps=0)


def test_generator_exports_to_tflite_with_noise_as_input(tmp_path):
    pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("export runs on the TensorFlow backend")
    from export import to_tflite

    model = draw()
    noise = np.random.default_rng(0).standard_normal((6, 3, 4)).astype("float32")
    report = to_tflite(model, tmp_path / "draw.tflite", check_inputs={"noise": noise})
    assert report.max_abs_diff <= 1e-4 and (tmp_path / "draw.tflite").exists()
    assert "WHILE" in report.ops  # the steps are one loop, not unrolled


def test_generator_file_holds_one_step_and_converts_to_int8(tmp_path):
    pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("export runs on the TensorFlow backend")
    from export import to_tflite
    from export.tflite import file_bytes

    counts = {}
    for steps in (3, 9):
        model = draw(steps=steps)
        noise = {"noise": np.random.default_rng(0).standard_normal((16, steps, 4)).astype("float32")}
        to_tflite(model, tmp_path / f"draw{steps}.tflite", check_inputs=noise)
        counts[steps] = file_bytes(tmp_path / f"draw{steps}.tflite")["ops"]
        report = to_tflite(model, tmp_path / f"draw{steps}.int8.tflite", quantize="int8", representative=noise)
        # canvases are in [0, 1]; an int8 ONE_HOT once wrote step t's canvas into every row (sums up to T)
        assert report.max_abs_diff < 0.5
    assert counts[3] == counts[9]
