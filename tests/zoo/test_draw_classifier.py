"""DRAW classifier (differentiable RAM): the first read, end-to-end gradients, fit, bad input, export
(the `.keras` round trip is in test_conformance)."""

import keras
import numpy as np
import pytest

import zoo
from tests.helpers import model_gradients

SHAPE = (20, 20, 1)


def classifier(**overrides):
    keras.utils.set_random_seed(5)
    config = dict(image_shape=SHAPE, num_classes=3, glimpses=3, read_size=4, units=12, class_names=["a", "b", "c"])
    model = zoo.load("draw_classifier", weights=None, **{**config, **overrides})
    model.build_for_inputs()
    return model


def images(n=6, seed=0):
    return np.random.default_rng(seed).random((n, *SHAPE)).astype("float32")


def test_the_first_read_spans_the_image_and_every_read_is_returned():
    model = classifier()
    probabilities, attention = model(images(), return_attention=True)
    assert probabilities.shape == (6, 3)
    np.testing.assert_allclose(np.asarray(probabilities).sum(-1), 1.0, rtol=1e-5)
    assert attention["glimpses"].shape == (6, 3, 4, 4, 1)
    assert attention["centre"].shape == (6, 3, 2) and attention["stride"].shape == (6, 3)
    # h_0 = 0: the first grid sits on the image centre with the stride that spans it, σ = stride / 2.
    np.testing.assert_allclose(np.asarray(attention["centre"])[:, 0], 10.5, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(attention["stride"])[:, 0], 19 / 3, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(attention["sigma2"])[:, 0], (19 / 6) ** 2, rtol=1e-4)
    # A uniform image reads as γ everywhere (the filters are normalised).
    _, flat = model(np.full((1, *SHAPE), 0.5, "float32"), return_attention=True)
    np.testing.assert_allclose(np.asarray(flat["glimpses"])[0, 0], 0.5, rtol=1e-4)


def test_cross_entropy_trains_where_the_model_looks():
    # Unlike RAM's REINFORCE-trained locations, the filterbank is differentiable: the
    # classification loss alone reaches the attention head.
    model, x = classifier(), images()
    labels = np.array([0, 1, 2, 0, 1, 2])
    grads = model_gradients(model, lambda p: keras.ops.mean(keras.losses.sparse_categorical_crossentropy(labels, p)), x)
    head = [g for path, g in grads.items() if "attention_head" in path]
    assert head and all(np.all(np.isfinite(g)) for g in head)
    assert max(float(np.abs(g).max()) for g in head) > 0


def test_tiny_fit_reduces_the_loss():
    model = classifier()
    x = images(48, seed=1)
    y = (x.mean(axis=(1, 2, 3)) > np.median(x.mean(axis=(1, 2, 3)))).astype("int32")
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    history = model.fit(x, y, batch_size=16, epochs=8, verbose=0).history["loss"]
    assert history[-1] < history[0]


def test_bad_input_is_refused_with_what_was_expected():
    model = classifier()
    with pytest.raises(ValueError, match=r"expects images of shape \(batch, 20, 20, 1\).*channel axis"):
        model(np.zeros((2, 20, 20), "float32"))
    with pytest.raises(ValueError, match="must be ≥ 1"):
        zoo.load("draw_classifier", weights=None, glimpses=0)


def test_picture_draws_every_read(tmp_path):
    path = classifier().picture(images(2), [0, 1], tmp_path / "reads.png")
    assert path.stat().st_size > 1000


def test_exports_to_tflite_with_parity(tmp_path):
    pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("export runs on the TensorFlow backend")
    from export import to_tflite

    report = to_tflite(classifier(), tmp_path / "m.tflite", check_inputs=images(8))
    assert report.max_abs_diff <= 1e-4 and report.top1_agreement == 1.0
