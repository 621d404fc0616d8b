"""Every registered model: builds, predicts, refuses bad input, fits (both backends); the `.keras`
round trip is in test_conformance."""

import keras
import numpy as np
import pytest

import zoo
from tests.helpers import model_gradients

SMALL = {"image_shape": (24, 24, 1), "num_classes": 3, "class_names": ["a", "b", "c"]}


@pytest.fixture(params=["cnn", "stn"])
def model(request):
    keras.utils.set_random_seed(0)
    return zoo.load(request.param, weights=None, **SMALL, filters=(4, 8), kernel_size=3, units=8)


def images(n=4, shape=(24, 24, 1), seed=0):
    return np.random.default_rng(seed).random((n, *shape)).astype("float32")


def test_predicts_probabilities(model):
    probs = np.asarray(model(images()))
    assert probs.shape == (4, 3)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
    probs2, attention = model(images(), return_attention=True)
    np.testing.assert_allclose(np.asarray(probs2), probs, atol=1e-6)
    if model.name.startswith("stn"):
        assert attention["grid"].shape == (4, 24, 24, 2) or attention["grid"].shape[-1] == 2


def test_refuses_integer_images_with_a_hint(model):
    with pytest.raises(ValueError, match=r"expects float32 images.*got dtype uint8.*astype\('float32'\) / 255"):
        model(np.zeros((2, 24, 24, 1), np.uint8))


@pytest.mark.parametrize(
    "shape, hint",
    [((2, 28, 28, 1), "got shape \\(2, 28, 28, 1\\)"), ((24, 24, 1), "add a batch axis"), ((2, 24, 24), "channel axis")],
)
def test_refuses_wrong_shapes_saying_what_was_expected(model, shape, hint):
    with pytest.raises(ValueError, match=r"expects images of shape \(batch, 24, 24, 1\)") as err:
        model(np.zeros(shape, np.float32))
    assert err.match(hint)


def test_tiny_fit_reduces_the_loss(model):
    x = images(64, seed=1)
    y = (x.mean(axis=(1, 2, 3)) > np.median(x.mean(axis=(1, 2, 3)))).astype("int32")  # learnable target
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    history = model.fit(x, y, batch_size=16, epochs=8, verbose=0).history["loss"]
    assert np.all(np.isfinite(history)) and history[-1] < history[0]


def test_stn_gradients_reach_the_localisation_network():
    model = zoo.load("stn", weights=None, **SMALL, filters=(4, 8), kernel_size=3, units=8)
    x, y = images(8), np.arange(8) % 3
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    localisation = model.transformer.localisation.trainable_variables + model.transformer.regressor.trainable_variables
    grads = model_gradients(model, lambda out: loss_fn(y, out), x)
    grads = [grads[v.path] for v in localisation]
    # The regressor's kernel starts at zero but receives gradient: the transformer can learn.
    norms = [float(np.linalg.norm(g)) for g in grads]
    assert len(norms) == len(localisation) and all(np.isfinite(norms)) and norms[-2] > 0


@pytest.mark.parametrize("name", zoo.list_models())
def test_a_fresh_model_has_the_default_weights_architecture(name):
    from zoo import registry

    if registry.entry(name).default_weights is None:
        pytest.skip(f"{name} has no default weights: a fresh one is the builder's defaults")
    assert zoo.load(name, weights=None).count_params() == registry.record(name)["parameters"]


def test_options_override_the_default_architecture_and_training_keeps_the_builder_defaults():
    from zoo import registry

    options = dict(image_shape=(24, 24, 1), num_classes=3, filters=(4, 8), kernel_size=3, units=8)
    fresh = zoo.load("stn", weights=None, **options)
    assert fresh.output_size == tuple(registry.record("stn")["config"]["output_size"]) != (42, 42)
    assert fresh.class_names == ["0", "1", "2"]  # a new num_classes drops the card's class names
    assert registry.build("stn", **options).output_size == (42, 42)  # what `zoo train` builds on
    with pytest.raises(ValueError, match=r"unknown option\(s\) for model 'stn': unit\b"):
        registry.build("stn", unit=8)
