"""Graves' soft window (eqs. 46–51) against a NumPy reference: φ, w, κ, φ(U + 1), masks, gradients, config."""

import keras
import numpy as np
import pytest
from keras import ops

from layers.soft_window import SoftWindow
from tests.helpers import gradient

K, D, U, V = 3, 5, 6, 4


def reference(h, kappa, ids, mask, kernel, bias):
    """Eqs. 46–51 in float64, loop by loop."""
    h, kernel, bias = (np.asarray(a, np.float64) for a in (h, kernel, bias))
    out = h @ kernel + bias
    alpha, beta, kappa = np.exp(out[:, :K]), np.exp(out[:, K : 2 * K]), kappa + np.exp(out[:, 2 * K :])
    B = len(h)
    phi = np.zeros((B, U))
    phi_end = np.zeros(B)
    w = np.zeros((B, V))
    for b in range(B):
        for u in range(1, U + 1):
            if mask[b, u - 1]:
                phi[b, u - 1] = sum(alpha[b, k] * np.exp(-beta[b, k] * (kappa[b, k] - u) ** 2) for k in range(K))
                w[b, ids[b, u - 1]] += phi[b, u - 1]
        end = mask[b].sum() + 1
        phi_end[b] = sum(alpha[b, k] * np.exp(-beta[b, k] * (kappa[b, k] - end) ** 2) for k in range(K))
    return w, phi, kappa, phi_end


def window(seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    layer = SoftWindow(K, **kwargs)
    layer.build((None, D))
    return layer


def inputs(seed=0):
    rng = np.random.default_rng(seed)
    h = rng.normal(0, 0.5, (2, D)).astype("float32")
    kappa = rng.uniform(0, 4, (2, K)).astype("float32")
    ids = rng.integers(1, V, (2, U))
    ids[1, 4:] = 0  # the second text has 4 characters
    return h, kappa, ids, ids != 0


def test_matches_the_numpy_reference_with_padding():
    layer = window()
    h, kappa, ids, mask = inputs()
    w, phi, new_kappa, phi_end = (ops.convert_to_numpy(a) for a in layer(h, kappa, ops.one_hot(ids, V), mask=mask))
    expected = reference(h, kappa, ids, mask, ops.convert_to_numpy(layer.kernel), ops.convert_to_numpy(layer.bias))
    for got, want in zip((w, phi, new_kappa, phi_end), expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert np.all(phi[1, 4:] == 0) and np.all(new_kappa > kappa)  # padded: no weight; κ only moves forward


def test_without_a_mask_every_position_is_a_character():
    layer = window()
    h, kappa, ids, _ = inputs()
    ids = np.maximum(ids, 1)
    chars = ops.one_hot(ids, V)
    without = layer(h, kappa, chars)
    full = layer(h, kappa, chars, mask=np.ones_like(ids, bool))
    for a, b in zip(without, full):
        np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b), rtol=1e-6)


def test_a_hand_set_window_sits_where_kappa_says():
    # A zero kernel and the bias (α̂, β̂, κ̂) = (0, log 2, log 0.5): α = 1, β = 2, κ advances 0.5 a step.
    layer = window(initial_step=0.5)
    layer.kernel.assign(np.zeros(layer.kernel.shape, "float32"))
    layer.bias.assign(np.array([0.0] * K + [np.log(2.0)] * K + [np.log(0.5)] * K, "float32"))
    ids = np.array([[1, 2, 3, 1, 2, 3]])
    kappa = np.zeros((1, K), "float32")
    for t in range(1, 9):
        _, phi, kappa, phi_end = layer(np.ones((1, D), "float32"), kappa, ops.one_hot(ids, V))
        u = np.arange(1, U + 1)
        np.testing.assert_allclose(ops.convert_to_numpy(phi)[0], K * np.exp(-2 * (0.5 * t - u) ** 2), rtol=1e-5, atol=1e-30)
        np.testing.assert_allclose(ops.convert_to_numpy(phi_end)[0], K * np.exp(-2 * (0.5 * t - U - 1) ** 2), rtol=1e-5)


def test_initial_step_sets_the_start_speed_and_round_trips():
    layer = window(initial_step=0.05)
    np.testing.assert_allclose(ops.convert_to_numpy(layer.bias)[2 * K :], np.log(0.05), rtol=1e-6)
    np.testing.assert_array_equal(ops.convert_to_numpy(layer.bias)[: 2 * K], 0.0)
    again = SoftWindow.from_config(layer.get_config())
    assert again.get_config() == layer.get_config() and again.initial_step == 0.05 and again.components == K


def test_gradients_reach_the_window_parameters_and_the_state():
    layer = window()
    h, kappa, ids, mask = inputs()
    chars = ops.one_hot(ids, V)

    def loss(xs):
        w, phi, new_kappa, _ = layer(xs[0], xs[1], chars, mask=mask)
        return ops.sum(w * w) + ops.sum(new_kappa), None

    (dh, dkappa), _ = gradient(loss, [h, kappa])
    assert np.all(np.isfinite(dh)) and np.abs(dh).sum() > 0 and np.abs(dkappa).sum() > 0


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="positive number of Gaussians K"):
        SoftWindow(0)
    with pytest.raises(ValueError, match="initial_step > 0"):
        SoftWindow(2, initial_step=0.0)
    with pytest.raises(ValueError, match=r"expected h¹_t of shape \(batch, units\)"):
        SoftWindow(2)(np.zeros((1, 2, D), "float32"), np.zeros((1, 2), "float32"), np.zeros((1, U, V), "float32"))
    with pytest.raises(ValueError, match=r"one-hot characters of shape \(batch, length, vocabulary\)"):
        window()(np.zeros((1, D), "float32"), np.zeros((1, K), "float32"), np.zeros((1, U), "float32"))
