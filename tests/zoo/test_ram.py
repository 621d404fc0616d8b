"""RAM: the gradient plumbing of the hybrid loss, inference modes, fit, bad input (both backends); the
`.keras` round trip is in test_conformance."""

import keras
import numpy as np
import pytest

import zoo
from tests.helpers import model_gradients

SMALL = dict(image_shape=(32, 32, 1), num_classes=3, class_names=["a", "b", "c"], glimpses=3, glimpse_size=6,
             scales=2, glimpse_units=8, location_units=8, hidden_units=16)


def model(**kw):
    keras.utils.set_random_seed(0)
    return zoo.load("ram", weights=None, **{**SMALL, **kw})


def data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 32, 32, 1)).astype("float32")
    return x, rng.integers(0, 3, n)


def gradients(ram, loss_of_outputs, x, y):
    """Gradients of a scalar function of the training-mode outputs w.r.t. every trainable variable."""
    return model_gradients(ram, lambda out: loss_of_outputs(out, y), x)


def norm(grads, part):
    """Gradient norm of one top-level part of the model (location, baseline, glimpse, core_*, action)."""
    mine = [g for path, g in grads.items() if path.split("/")[1].startswith(part)]
    assert mine, f"no variables under {part!r}"
    return sum(float(np.sum(np.square(g))) for g in mine) ** 0.5


@pytest.mark.parametrize("core", ["relu", "lstm"])
def test_location_network_learns_only_from_reinforce(core):
    ram = model(core=core)
    x, y = data()
    cross_entropy = lambda out, y: keras.ops.mean(keras.losses.sparse_categorical_crossentropy(y, out["probabilities"]))  # noqa: E731
    reinforce_only = lambda out, y: -keras.ops.mean(keras.ops.sum(out["log_pi"] * 0.7, axis=1))  # noqa: E731
    ce = gradients(ram, cross_entropy, x, y)
    assert norm(ce, "location") == 0.0, "classification gradients leak into the location network"
    assert norm(ce, "baseline") == 0.0
    assert norm(ce, "glimpse") > 0 and norm(ce, "core") > 0 and norm(ce, "action") > 0
    assert any(path.split("/")[1] == ("core_lstm" if core == "lstm" else "core_h") for path in ce)
    rf = gradients(ram, reinforce_only, x, y)
    assert norm(rf, "location") > 0, "REINFORCE gives the location network no gradient"
    # ∇_θ log π reaches every network the policy's input h_t depends on (the paper's θ), but not
    # the action network or the baseline, which h_t does not depend on.
    assert norm(rf, "glimpse") > 0 and norm(rf, "core") > 0, "REINFORCE must also shape the core state"
    assert norm(rf, "action") == 0.0 and norm(rf, "baseline") == 0.0


def test_hybrid_loss_is_cross_entropy_plus_sigma_reinforce_plus_baseline_error():
    """L = −log p(y|x) − σ·Σ_t log π(l_t|h_t)·(R − b_t) + Σ_t (R − b_t)², recomputed in NumPy."""
    x, y = data()
    for std in (0.1, 0.3):
        ram = model(std=std)
        out = ram(x, training=True)
        p, log_pi, b = (np.asarray(out[k], "float64") for k in ("probabilities", "log_pi", "baseline"))
        reward = (np.argmax(p, -1) == y)[:, None].astype("float64")
        expected = (np.mean(-np.log(p[np.arange(len(y)), y])) - std * np.mean(np.sum(log_pi * (reward - b), 1))
                    + np.mean(np.sum((reward - b) ** 2, 1)))
        np.testing.assert_allclose(float(ram.compute_loss(x, y, out)), expected, rtol=1e-4)


def test_hybrid_loss_gives_every_part_a_gradient():
    ram = model()
    x, y = data()
    grads = gradients(ram, lambda out, y: ram.compute_loss(x, y, out), x, y)
    for part in ("location", "baseline", "glimpse", "core", "action"):
        assert norm(grads, part) > 0, part


def test_inference_is_deterministic_and_returns_locations_in_range():
    ram = model()
    x, _ = data(4)
    p1, att = ram(x, return_attention=True)
    p2 = ram(x)
    np.testing.assert_allclose(np.asarray(p1), np.asarray(p2), atol=1e-6)
    locations = np.asarray(att["locations"])
    assert locations.shape == (4, 3, 2) and np.all(np.abs(locations) <= 1)
    assert att["patches"].shape == (4, 3, 2, 6, 6, 1)


def test_monte_carlo_and_random_glimpses_are_reproducible():
    x, _ = data(4)
    for kw in ({"mc_samples": 5}, {"random_glimpses": True}):
        ram = model(**kw)
        a, b = np.asarray(ram(x)), np.asarray(ram(x))
        np.testing.assert_allclose(a, b, atol=1e-6)
        np.testing.assert_allclose(a.sum(-1), 1.0, atol=1e-5)
        locations = np.asarray(ram(x, return_attention=True)[1]["locations"])
        assert np.all(np.abs(np.diff(locations, axis=1)).max(axis=(1, 2)) > 1e-3), "every glimpse at one place"


def test_random_glimpses_have_no_policy_term():
    ram = model(random_glimpses=True)
    x, y = data(8)
    out = ram(x, training=True)
    np.testing.assert_array_equal(np.asarray(out["log_pi"]), 0.0)
    grads = gradients(ram, lambda out, y: ram.compute_loss(x, y, out), x, y)
    assert norm(grads, "location") == 0.0 and norm(grads, "glimpse") > 0


@pytest.mark.parametrize("core", ["relu", "lstm"])
def test_tiny_fit_and_evaluate(core):
    ram = model(core=core)
    x, y = data(64)
    ram.compile(keras.optimizers.Adam(3e-3), metrics=["accuracy"])
    history = ram.fit(x, y, batch_size=16, epochs=2, verbose=0).history
    assert np.all(np.isfinite(history["loss"])) and "accuracy" in history
    loss, accuracy = ram.evaluate(x, y, verbose=0)
    assert np.isfinite(loss) and 0.0 <= accuracy <= 1.0


def test_bad_input():
    with pytest.raises(ValueError, match="expects float32 images"):
        model()(np.zeros((1, 32, 32, 1), np.uint8))
    with pytest.raises(ValueError, match="glimpses and mc_samples must be"):
        zoo.load("ram", weights=None, glimpses=0)
    with pytest.raises(ValueError, match="core must be 'relu'.*or 'lstm'; got 'gru'"):
        zoo.load("ram", weights=None, core="gru")


def test_glimpses_on_item_counts_centres_inside_the_item_box():
    from recipes import data
    from recipes.evaluate import glimpses_on_item

    boxes = data.item_boxes("translated60_mnist5k", "test", limit=10)

    def looks_at_the_item_then_a_corner(images, training=False, return_attention=False):
        assert len(images) == len(boxes)  # one batch
        centre = (boxes[:, [1, 0]] + 13.5) * 2 / 60 - 1 + 1 / 60  # the item's centre pixel (x, y), normalised
        locations = np.stack([centre, np.ones_like(centre)], axis=1)  # then (1, 1): the last pixel's far edge
        return None, {"locations": locations}

    assert glimpses_on_item(looks_at_the_item_then_a_corner, "translated60_mnist5k", limit=10) == (50.0, [100.0, 0.0])
