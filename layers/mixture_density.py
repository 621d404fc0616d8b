"""The mixture density output of Graves' handwriting networks (Graves 2013, Generating Sequences With
Recurrent Neural Networks, section 4.1): M bivariate Gaussians with correlation for the pen offset
and a Bernoulli for the end of the stroke.

`MixtureDensity(M)` is the output layer ŷ_t = b_y + W_y h_t (eq. 17; h_t: every hidden layer's output,
concatenated), 1 + 6M numbers laid out [ê, π̂ (M), μ̂₁ (M), μ̂₂ (M), σ̂₁ (M), σ̂₂ (M), ρ̂ (M)], read as
    e = sigmoid(ê)                 (18; the paper writes 1 / (1 + exp(ê)), the same up to ê's sign)
    π^j = softmax(π̂)^j              (19)
    μ^j = μ̂^j                       (20)
    σ^j = exp(σ̂^j)                  (21)
    ρ^j = tanh(ρ̂^j)                 (22)
    Pr(x | ŷ) = Σ_j π^j N(x₁, x₂ | μ^j, σ^j, ρ^j) · (e if x₃ = 1 else 1 − e)                  (23)
    N(x | μ, σ, ρ) = exp(−Z / (2(1 − ρ²))) / (2π σ₁ σ₂ √(1 − ρ²))                             (24)
    Z = (x₁ − μ₁)²/σ₁² + (x₂ − μ₂)²/σ₂² − 2ρ (x₁ − μ₁)(x₂ − μ₂)/(σ₁ σ₂)                        (25)
    L(x) = Σ_t −log Pr(x_{t+1} | ŷ_t)   in nats                                                (26)
`negative_log_likelihood` computes (26) from ŷ in log space: log-sum-exp over j, log σ = σ̂,
log(1 − ρ²) = −2 log cosh ρ̂, log e = −softplus(−ê). Sampling with Graves' bias b ≥ 0 (eqs. 61–62)
uses σ^j = exp(σ̂^j − b) and π = softmax(π̂ (1 + b)): b = 0 is the model's distribution, larger b
writes more neatly.
"""

import math

import keras
from keras import layers, ops


def _split(y_hat):
    """ê (…,), π̂, μ̂₁, μ̂₂, σ̂₁, σ̂₂, ρ̂ (…, M) of ŷ (…, 1 + 6M), as float32."""
    y_hat = ops.cast(y_hat, "float32")
    size = y_hat.shape[-1]
    if size is None or size < 7 or (size - 1) % 6:
        raise ValueError(f"expected mixture parameters ŷ with 1 + 6M values in the last axis; got shape "
                         f"{tuple(y_hat.shape)}")
    e_hat, *rest = ops.split(y_hat, [1, *(1 + k * (size - 1) // 6 for k in range(1, 6))], axis=-1)
    return (e_hat[..., 0], *rest)


def _bias(bias, like):
    """b as a tensor that broadcasts against (…, M): a number, or one per example (B,)."""
    b = ops.cast(bias, like.dtype)
    return ops.expand_dims(b, -1) if len(b.shape) else b


def mixture_parameters(y_hat, bias=0.0):
    """The distribution of ŷ (…, 1 + 6M) under bias b (eqs. 18–22, 61–62): {"e" (…,), "pi" (…, M),
    "log_pi" (…, M), "mu" (…, M, 2), "sigma" (…, M, 2), "rho" (…, M)}; `bias` a number or (B,)."""
    e_hat, pi_hat, mu1, mu2, s1, s2, rho_hat = _split(y_hat)
    b = _bias(bias, pi_hat)
    log_pi = ops.log_softmax(pi_hat * (1.0 + b), axis=-1)
    return {"e": ops.sigmoid(e_hat), "pi": ops.exp(log_pi), "log_pi": log_pi, "mu": ops.stack([mu1, mu2], -1),
            "sigma": ops.exp(ops.stack([s1, s2], -1) - ops.expand_dims(b, -1)), "rho": ops.tanh(rho_hat)}


def _log_cosh(x):
    return ops.abs(x) + ops.log1p(ops.exp(-2.0 * ops.abs(x))) - math.log(2.0)


def point_log_likelihood(y_hat, targets):
    """log Pr(x | ŷ) (eq. 23) for every point: ŷ (…, 1 + 6M), x (…, 3) → (…,)."""
    e_hat, pi_hat, mu1, mu2, log_s1, log_s2, rho_hat = _split(y_hat)
    targets = ops.cast(targets, "float32")
    x1, x2, x3 = targets[..., 0:1], targets[..., 1:2], targets[..., 2]
    d1, d2 = (x1 - mu1) * ops.exp(-log_s1), (x2 - mu2) * ops.exp(-log_s2)
    rho = ops.tanh(rho_hat)
    z = ops.square(d1) + ops.square(d2) - 2.0 * rho * d1 * d2
    log_one_minus_rho2 = -2.0 * _log_cosh(rho_hat)
    log_normal = (-z / (2.0 * ops.exp(log_one_minus_rho2)) - math.log(2.0 * math.pi) - log_s1 - log_s2
                  - 0.5 * log_one_minus_rho2)
    log_offsets = ops.logsumexp(ops.log_softmax(pi_hat, axis=-1) + log_normal, axis=-1)
    log_end = -ops.where(x3 > 0.5, ops.softplus(-e_hat), ops.softplus(e_hat))
    return log_offsets + log_end


def negative_log_likelihood(y_hat, targets, mask=None):
    """L (eq. 26) in nats per example: −Σ log Pr(x | ŷ) over every axis after the batch's, the
    points where `mask` is 0 left out. ŷ (B, …, 1 + 6M), targets (B, …, 3), mask (B, …) → (B,)."""
    nll = -point_log_likelihood(y_hat, targets)
    if mask is not None:
        nll = ops.where(ops.cast(mask, "bool"), nll, 0.0)
    return ops.sum(nll, axis=tuple(range(1, len(nll.shape)))) if len(nll.shape) > 1 else nll


def sample(y_hat, bias=0.0, seed=None):
    """One point x ~ Pr(· | ŷ) under bias b (eqs. 61–62): ŷ (B, 1 + 6M) → (B, 3) float32, (x₁, x₂)
    from the chosen Gaussian, x₃ ∈ {0, 1}. `seed`: a `keras.random.SeedGenerator` (it advances:
    successive calls draw new numbers) or an int."""
    params = mixture_parameters(y_hat, bias)
    seed = keras.random.SeedGenerator(seed) if seed is None or isinstance(seed, int) else seed
    components = params["pi"].shape[-1]
    j = keras.random.categorical(params["log_pi"], 1, seed=seed)[:, 0]
    chosen = ops.one_hot(j, components, dtype="float32")
    mu, sigma = (ops.sum(ops.expand_dims(chosen, -1) * params[k], axis=1) for k in ("mu", "sigma"))
    rho = ops.sum(chosen * params["rho"], axis=1)
    z1, z2 = ops.unstack(keras.random.normal(ops.shape(mu), seed=seed), 2, axis=-1)
    x1 = mu[:, 0] + sigma[:, 0] * z1
    x2 = mu[:, 1] + sigma[:, 1] * (rho * z1 + ops.sqrt(1.0 - ops.square(rho)) * z2)
    end = ops.cast(keras.random.uniform(ops.shape(x1), seed=seed) < params["e"], "float32")
    return ops.stack([x1, x2, end], axis=-1)


@keras.saving.register_keras_serializable(package="attention_zoo")
class MixtureDensity(layers.Layer):
    """ŷ = b_y + W_y h (eq. 17): (…, D) → (…, 1 + 6M), read by `mixture_parameters`,
    `negative_log_likelihood` and `sample`.

    Args:
        components: M, the bivariate Gaussians (20 in the paper).
    """

    def __init__(self, components=20, **kwargs):
        super().__init__(**kwargs)
        self.components = int(components)
        if self.components < 1:
            raise ValueError(f"components must be a positive number of Gaussians M; got {components}")

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], 1 + 6 * self.components), name="kernel")
        self.bias = self.add_weight(shape=(1 + 6 * self.components,), initializer="zeros", name="bias")

    def call(self, h):
        return ops.matmul(h, self.kernel) + self.bias

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 1 + 6 * self.components)

    def get_config(self):
        return {**super().get_config(), "components": self.components}
