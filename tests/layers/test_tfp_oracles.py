"""TensorFlow Probability as the oracle for the zoo's hand-written densities: the handwriting mixture
density (NLL and sampling), RAM's Gaussian location policy log-probability and DRAW's KL term.

TFP is a test dependency only: it needs tf-keras and runs on the TensorFlow backend (its JAX
substrate fails on current JAX), so the layers and models never import it."""

import keras
import numpy as np
import pytest

if keras.backend.backend() != "tensorflow":
    pytest.skip("TFP is the oracle on the TensorFlow backend only (its JAX substrate fails on current JAX)",
                allow_module_level=True)
try:
    import tensorflow_probability as tfp
except ImportError as e:  # tensorflow-probability or tf-keras missing
    pytest.skip(f"tensorflow-probability is not installed ({e}): pip install -r requirements-test.txt",
                allow_module_level=True)

import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

import zoo  # noqa: E402
from layers.mixture_density import negative_log_likelihood, sample  # noqa: E402

tfd = tfp.distributions
M = 5


def y_hat_of(shape, seed=0, scale=0.8):
    return np.random.default_rng(seed).normal(0, scale, (*shape, 1 + 6 * M)).astype("float32")


def tfp_stroke_distributions(y_hat, bias=0.0):
    """(offsets, end of stroke) built by TFP from ŷ's layout [ê, π̂, μ̂₁, μ̂₂, σ̂₁, σ̂₂, ρ̂], in float64:
    MixtureSameFamily(Categorical(π̂ (1 + b)), MultivariateNormalTriL(μ, L)) with L Lᵀ the covariance
    [[σ₁², ρσ₁σ₂], [ρσ₁σ₂, σ₂²]], and Bernoulli(logits=ê)."""
    y = tf.constant(y_hat, tf.float64)
    e_hat, pi_hat, mu1, mu2, s1, s2, rho_hat = tf.split(y, [1] + [M] * 6, axis=-1)
    s1, s2, rho = tf.exp(s1 - bias), tf.exp(s2 - bias), tf.tanh(rho_hat)
    scale_tril = tf.stack([tf.stack([s1, tf.zeros_like(s1)], -1),
                           tf.stack([rho * s2, s2 * tf.sqrt(1 - rho**2)], -1)], -2)
    offsets = tfd.MixtureSameFamily(tfd.Categorical(logits=pi_hat * (1 + bias)),
                                    tfd.MultivariateNormalTriL(loc=tf.stack([mu1, mu2], -1), scale_tril=scale_tril))
    return offsets, tfd.Bernoulli(logits=e_hat[..., 0], dtype=tf.float64)


def test_mixture_nll_is_tfps_log_probability():
    y_hat = y_hat_of((3, 7))
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (3, 7, 3)).astype("float32")
    x[..., 2] = rng.integers(0, 2, (3, 7))
    mask = np.arange(7)[None, :] < np.array([[7], [4], [1]])
    offsets, end = tfp_stroke_distributions(y_hat)
    log_p = (offsets.log_prob(tf.constant(x[..., :2], tf.float64)) + end.log_prob(tf.constant(x[..., 2], tf.float64)))
    expected = -np.where(mask, log_p.numpy(), 0.0).sum(1)
    np.testing.assert_allclose(ops.convert_to_numpy(negative_log_likelihood(y_hat, x, mask)), expected, rtol=1e-5)


@pytest.mark.parametrize("bias", [0.0, 0.8])
def test_sampler_moments_match_tfps_samples(bias):
    n = 40000
    y_hat = y_hat_of((1,), seed=2)
    ours = ops.convert_to_numpy(sample(np.repeat(y_hat, n, 0), bias, seed=0)).astype(np.float64)
    offsets, end = tfp_stroke_distributions(y_hat[0], bias)
    # Stateless (tuple) seeds: the same draws whatever the global seed other tests set.
    theirs = np.concatenate([offsets.sample(n, seed=(1, 2)).numpy(), end.sample(n, seed=(3, 4)).numpy()[:, None]], -1)
    true_mean, true_cov = offsets.mean().numpy(), offsets.covariance().numpy()
    standard_error = np.sqrt(np.diag(true_cov) / n)
    for draws in (ours, theirs):
        assert np.all(np.abs(draws[:, :2].mean(0) - true_mean) < 4.5 * standard_error)
        np.testing.assert_allclose(np.cov(draws[:, :2].T), true_cov, rtol=0.05, atol=0.01)
    p = end.mean().numpy()
    assert abs(ours[:, 2].mean() - theirs[:, 2].mean()) < 6 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(np.cov(ours[:, :2].T), np.cov(theirs[:, :2].T), rtol=0.07, atol=0.01)


def test_ram_location_log_prob_is_tfps_normal_without_its_constant():
    std = 0.2
    keras.utils.set_random_seed(0)
    ram = zoo.load("ram", weights=None, image_shape=(32, 32, 1), num_classes=3, glimpses=3, glimpse_size=6, scales=2,
                   glimpse_units=8, location_units=8, hidden_units=16, std=std)
    mean = np.array([0.3, -0.2], "float32")  # a locator that ignores h: μ_t = tanh(bias) at every glimpse
    ram.locator.kernel.assign(np.zeros(ram.locator.kernel.shape, "float32"))
    ram.locator.bias.assign(np.arctanh(mean))
    images = np.random.default_rng(0).random((16, 32, 32, 1)).astype("float32")
    _, locations, log_pi, _, _ = ram.episode(images, sample=True)
    expected = tfd.Normal(tf.constant(mean, tf.float64), std).log_prob(np.asarray(locations, np.float64))
    expected = tf.reduce_sum(expected, -1).numpy()
    # RAM's log π drops log(σ√(2π)) per coordinate: a constant, with no gradient.
    np.testing.assert_allclose(np.asarray(log_pi), expected + 2 * np.log(std * np.sqrt(2 * np.pi)), rtol=1e-5,
                               atol=1e-5)
    assert np.ptp(np.asarray(log_pi)) > 0.1  # sampled locations, not the means


def test_draw_kl_is_tfps_kl_divergence():
    keras.utils.set_random_seed(0)
    steps, latent = 3, 4
    draw = zoo.load("draw", weights=None, image_shape=(8, 8, 1), steps=steps, units=8, latent_dim=latent, read_size=2,
                    write_size=3)
    draw.build_for_inputs()
    rng = np.random.default_rng(3)
    mu, log_sigma = rng.normal(0, 1, latent), rng.normal(0, 0.7, latent)
    draw.posterior.kernel.assign(np.zeros(draw.posterior.kernel.shape, "float32"))  # Q(z_t) = N(μ, σ²) at every t
    draw.posterior.bias.assign(np.concatenate([mu, log_sigma]).astype("float32"))
    images = (rng.random((2, 8, 8, 1)) < 0.3).astype("float32")
    kl = np.asarray(draw(images)["kl"])
    prior = tfd.Normal(np.float64(0), np.float64(1))
    expected = steps * tf.reduce_sum(tfd.kl_divergence(tfd.Normal(mu, np.exp(log_sigma)), prior)).numpy()
    np.testing.assert_allclose(kl, [expected, expected], rtol=1e-5)
