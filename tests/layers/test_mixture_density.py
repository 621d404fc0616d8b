"""The bivariate mixture density output (Graves eqs. 17–26, 61–62) against NumPy: parameters, the NLL
with masks and at extreme parameters, the biased sampler's moments, seeds, the layer and bad input."""

import keras
import numpy as np
import pytest
from keras import ops

from layers.mixture_density import MixtureDensity, mixture_parameters, negative_log_likelihood, sample

M = 4


def random_y_hat(shape, seed=0, scale=1.0):
    return (np.random.default_rng(seed).normal(0, scale, (*shape, 1 + 6 * M))).astype("float32")


def numpy_parameters(y_hat, bias=0.0):
    """Eqs. 18–22 and 61–62, float64, from the layout [ê, π̂, μ̂₁, μ̂₂, σ̂₁, σ̂₂, ρ̂]."""
    y = np.asarray(y_hat, np.float64)
    e_hat, pi_hat, mu1, mu2, s1, s2, rho_hat = y[..., 0], *np.split(y[..., 1:], 6, axis=-1)
    logits = pi_hat * (1 + bias)
    pi = np.exp(logits - logits.max(-1, keepdims=True))
    return (1 / (1 + np.exp(-e_hat)), pi / pi.sum(-1, keepdims=True), mu1, mu2, np.exp(s1 - bias), np.exp(s2 - bias),
            np.tanh(rho_hat))


def numpy_nll(y_hat, x):
    """Eqs. 23–26 written out (float64): −log(Σ_j π_j N(x₁, x₂ | μ_j, σ_j, ρ_j)) − log(e or 1 − e)."""
    e, pi, mu1, mu2, s1, s2, rho = numpy_parameters(y_hat)
    x1, x2, x3 = (np.asarray(x, np.float64)[..., i] for i in range(3))
    d1, d2 = (x1[..., None] - mu1) / s1, (x2[..., None] - mu2) / s2
    z = d1**2 + d2**2 - 2 * rho * d1 * d2
    normal = np.exp(-z / (2 * (1 - rho**2))) / (2 * np.pi * s1 * s2 * np.sqrt(1 - rho**2))
    return -np.log((pi * normal).sum(-1)) - np.log(np.where(x3 == 1, e, 1 - e))


def targets(shape, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (*shape, 3)).astype("float32")
    x[..., 2] = rng.integers(0, 2, shape)
    return x


def test_parameters_follow_eqs_18_to_22_and_the_bias():
    y_hat = random_y_hat((3,))
    for bias in (0.0, 1.5):
        params = {k: ops.convert_to_numpy(v) for k, v in mixture_parameters(y_hat, bias).items()}
        e, pi, mu1, mu2, s1, s2, rho = numpy_parameters(y_hat, bias)
        np.testing.assert_allclose(params["e"], e, rtol=1e-5)
        np.testing.assert_allclose(params["pi"], pi, rtol=1e-5)
        np.testing.assert_allclose(np.exp(params["log_pi"]), pi, rtol=1e-5)
        np.testing.assert_allclose(params["mu"], np.stack([mu1, mu2], -1), rtol=1e-6)
        np.testing.assert_allclose(params["sigma"], np.stack([s1, s2], -1), rtol=1e-5)
        np.testing.assert_allclose(params["rho"], rho, rtol=1e-5)
    # A bias per example (the exported step's input) is each example's own bias.
    per_example = mixture_parameters(y_hat, np.array([0.0, 1.5, 3.0], "float32"))
    for b, bias in enumerate((0.0, 1.5, 3.0)):
        np.testing.assert_allclose(ops.convert_to_numpy(per_example["sigma"])[b],
                                   ops.convert_to_numpy(mixture_parameters(y_hat[b : b + 1], bias)["sigma"])[0], rtol=1e-6)


def test_nll_is_eq_26_summed_over_the_unmasked_points():
    y_hat, x = random_y_hat((2, 5)), targets((2, 5))
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], bool)
    nll = ops.convert_to_numpy(negative_log_likelihood(y_hat, x, mask))
    per_point = numpy_nll(y_hat, x)
    np.testing.assert_allclose(nll, (per_point * mask).sum(1), rtol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(negative_log_likelihood(y_hat, x)), per_point.sum(1), rtol=1e-5)
    # Without a time axis: one point per example.
    np.testing.assert_allclose(ops.convert_to_numpy(negative_log_likelihood(y_hat[:, 0], x[:, 0])), per_point[:, 0],
                               rtol=1e-5)


def test_nll_is_exact_and_finite_at_extreme_parameters():
    y_hat, x = random_y_hat((6,), seed=3), targets((6,), seed=4)
    y_hat[:, 0] = [60, -60, 60, -60, 0, 0]  # ê: e within float32 rounding of 1 or 0
    y_hat[:, 1 + 5 * M :] = 8.0  # ρ̂ = 8: 1 − ρ² = 4.5e-7, which float32 tanh² cannot resolve
    y_hat[4, 1 + 3 * M : 1 + 5 * M] = -6.0  # σ = 2.5e-3
    nll = ops.convert_to_numpy(negative_log_likelihood(y_hat, x))
    assert np.all(np.isfinite(nll))
    rho_hat = np.float64(8.0)
    with np.errstate(divide="ignore", over="ignore"):
        # The reference in float64 with 1 − ρ² = 1/cosh² ρ̂ (tanh(8)² rounds in float64 too) and log e by softplus.
        e, pi, mu1, mu2, s1, s2, _ = numpy_parameters(y_hat)
        rho, one_minus = np.tanh(rho_hat), 1 / np.cosh(rho_hat) ** 2
        x1, x2, x3 = (x[..., i].astype(np.float64) for i in range(3))
        d1, d2 = (x1[:, None] - mu1) / s1, (x2[:, None] - mu2) / s2
        log_n = -(d1**2 + d2**2 - 2 * rho * d1 * d2) / (2 * one_minus) - np.log(2 * np.pi * s1 * s2 * np.sqrt(one_minus))
        top = (np.log(pi) + log_n).max(-1)
        log_mix = top + np.log(np.exp(np.log(pi) + log_n - top[:, None]).sum(-1))
        e_hat = y_hat[:, 0].astype(np.float64)
        log_e = np.where(x3 == 1, -np.logaddexp(0, -e_hat), -np.logaddexp(0, e_hat))
    np.testing.assert_allclose(nll, -(log_mix + log_e), rtol=1e-4)


def mixture_moments(y_hat, bias):
    """Mean and covariance of the (x₁, x₂) mixture and P(x₃ = 1), float64, per example."""
    e, pi, mu1, mu2, s1, s2, rho = numpy_parameters(y_hat, bias)
    mu = np.stack([mu1, mu2], -1)
    mean = (pi[..., None] * mu).sum(-2)
    cov = np.zeros((*pi.shape[:-1], 2, 2))
    for j in range(pi.shape[-1]):
        c = np.stack([np.stack([s1[..., j] ** 2, rho[..., j] * s1[..., j] * s2[..., j]], -1),
                      np.stack([rho[..., j] * s1[..., j] * s2[..., j], s2[..., j] ** 2], -1)], -2)
        d = mu[..., j, :] - mean
        cov += pi[..., j, None, None] * (c + d[..., :, None] * d[..., None, :])
    return mean, cov, e


@pytest.mark.parametrize("bias", [0.0, 1.0])
def test_sample_moments_match_the_mixture(bias):
    n = 20000
    y_hat = np.repeat(random_y_hat((1,), seed=5, scale=0.7), n, 0)
    x = ops.convert_to_numpy(sample(y_hat, bias, seed=7))
    mean, cov, e = (m[0] for m in mixture_moments(y_hat[:1], bias))
    assert x.shape == (n, 3) and set(np.unique(x[:, 2])) <= {0.0, 1.0}
    assert np.all(np.abs(x[:, :2].mean(0) - mean) < 4 * np.sqrt(np.diag(cov) / n))
    np.testing.assert_allclose(np.cov(x[:, :2].T), cov, rtol=0.05, atol=0.02)
    assert abs(x[:, 2].mean() - e) < 4 * np.sqrt(e * (1 - e) / n)


def test_bias_makes_samples_neater_and_seeds_repeat():
    y_hat = np.repeat(random_y_hat((1,), seed=6), 5000, 0)
    spread = [np.cov(ops.convert_to_numpy(sample(y_hat, b, seed=1))[:, :2].T).trace() for b in (0.0, 2.0)]
    assert spread[1] < spread[0]
    a, b = (ops.convert_to_numpy(sample(y_hat[:10], 0.0, seed=3)) for _ in range(2))
    np.testing.assert_array_equal(a, b)
    generator = keras.random.SeedGenerator(3)
    first, second = (ops.convert_to_numpy(sample(y_hat[:10], 0.0, seed=generator)) for _ in range(2))
    assert not np.array_equal(first, second)  # a generator advances


def test_the_layer_projects_to_1_plus_6m_and_round_trips():
    keras.utils.set_random_seed(0)
    layer = MixtureDensity(M)
    h = np.random.default_rng(0).normal(size=(2, 3, 7)).astype("float32")
    y_hat = ops.convert_to_numpy(layer(h))
    assert y_hat.shape == (2, 3, 1 + 6 * M) == layer.compute_output_shape(h.shape)
    np.testing.assert_allclose(y_hat, h @ ops.convert_to_numpy(layer.kernel) + ops.convert_to_numpy(layer.bias), rtol=1e-5,
                               atol=1e-6)
    assert MixtureDensity.from_config(layer.get_config()).components == M


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="positive number of Gaussians M"):
        MixtureDensity(0)
    with pytest.raises(ValueError, match=r"1 \+ 6M values in the last axis; got shape \(2, 12\)"):
        negative_log_likelihood(np.zeros((2, 12), "float32"), np.zeros((2, 3), "float32"))
