"""DRAW's selective attention: an N×N grid of Gaussian filters (Gregor et al. 2015, section 3.2).

A linear head W maps a feature vector h (DRAW's decoder state h^dec) to five numbers that
place the grid on an image of A columns (width) and B rows (height):

    (g̃_X, g̃_Y, log σ², log δ̃, log γ) = W(h)
    g_X = (A + 1)/2 · (g̃_X + 1),   g_Y = (B + 1)/2 · (g̃_Y + 1),   δ = (max(A, B) − 1)/(N − 1) · δ̃
    μ_X^i = g_X + (i − N/2 − 0.5) · δ,   μ_Y^j = g_Y + (j − N/2 − 0.5) · δ,   i, j = 1, …, N
    F_X[i, a] = exp(−(a − μ_X^i)² / (2σ²)) / Z_X,   F_Y[j, b] = exp(−(b − μ_Y^j)² / (2σ²)) / Z_Y

where Z_X, Z_Y make every row sum to 1. Reading and writing are then

    read(x, x̂, h) = γ · [F_Y x F_Xᵀ, F_Y x̂ F_Xᵀ]        write(h) = (1/γ̂) · F̂_Yᵀ w F̂_X,  w = W'(h)

Coordinates are 1-based, as in the paper: a ∈ {1, …, A} is the centre of column a and
b ∈ {1, …, B} the centre of row b (the image spans [0.5, A + 0.5] × [0.5, B + 0.5]). So g̃ = 0
puts the grid centre at ((A + 1)/2, (B + 1)/2), the image centre exactly, and g̃ = ±1 half a
pixel beyond the edges. The filter index i runs 1, …, N too, so the offsets i − N/2 − 0.5 run
from −(N − 1)/2 to (N − 1)/2, symmetric about g (ericjang/draw's 0-based i shifts the grid by
one stride). Note that `layers.sampler` uses 0-based pixel coordinates: subtract 1 from
`centre` to draw it over `imshow`.

Initialisation: the attention head's bias starts at (0, 0, log (δ₀/2)², 0, 0), δ₀ = (max(A, B) − 1)/(N − 1)
the stride at δ̃ = 1: before training, the grid spans the whole image with filters σ = δ₀/2 wide, so a
read is a blurred, anti-aliased view of everything (with σ = 1 and a stride of several pixels it
would sample a few isolated pixels, and a classifier learns where to look far more slowly).

Numerics: filters are computed in float32; g̃ is clipped to ±CENTRE_LIMIT and the three logs to
±LOG_LIMIT, and Z is floored at `epsilon`, so a filter that misses every pixel centre (far off
the image, or narrower than the gap to the nearest centre) fades to zero instead of dividing
by zero, and gradients stay finite for any head output. For N = 1 the stride is
(max(A, B) − 1) · δ̃ (it does not move the single filter).
"""

import math

import keras
from keras import layers, ops

CENTRE_LIMIT = 100.0  # |g̃| beyond this puts the grid centre ~50 image widths away
LOG_LIMIT = 20.0  # σ², δ̃, γ ∈ [e^−20, e^20]: wider than any image needs
EPSILON = 1e-8


def initial_bias(height, width, N, write=False):
    """The attention head's bias before training: the grid spans the image, σ = half the stride δ₀.

    For the write, log γ̂ = −2 log δ₀: a pixel's weights over the N normalised filters of an axis
    sum to about 1/δ₀, so F̂_Yᵀ w F̂_X spreads a constant patch w = c as c/δ₀², and 1/γ̂ = δ₀²
    makes it write c. With γ̂ = 1 an 8 × 8 write on 28 × 28 would start 15 times too faint.
    """
    stride = (max(height, width) - 1) / max(N - 1, 1)
    log_gamma = -2.0 * math.log(stride) if write else 0.0
    return [0.0, 0.0, 2.0 * math.log(max(stride / 2.0, 1.0)), 0.0, log_gamma]


def _gaussian_rows(mu, size, log_sigma2, epsilon):
    """F[n, a] ∝ exp(−(a − μ_n)² / (2σ²)) over pixel centres a = 1, …, size; rows sum to 1."""
    a = ops.arange(1, size + 1, dtype="float32")
    inv_two_sigma2 = 0.5 * ops.exp(-log_sigma2)[:, None, None]
    F = ops.exp(-ops.square(a[None, None, :] - mu[:, :, None]) * inv_two_sigma2)
    return F / ops.maximum(ops.sum(F, axis=-1, keepdims=True), epsilon)


def filterbank(params, height, width, N, epsilon=EPSILON):
    """The filterbank of `params` (B, 5) = (g̃_X, g̃_Y, log σ², log δ̃, log γ) on a height × width image.

    Returns F_X (B, N, width), F_Y (B, N, height), γ (B,) and, for plots, a dict with
    "centre" (B, 2) = (g_X, g_Y) in 1-based pixel coordinates, "stride" δ, "sigma2" σ², "gamma" γ (B,).
    """
    params = ops.cast(params, "float32")
    gx_tilde, gy_tilde, log_sigma2, log_delta_tilde, log_gamma = ops.unstack(params, 5, axis=-1)
    gx_tilde, gy_tilde = (ops.clip(g, -CENTRE_LIMIT, CENTRE_LIMIT) for g in (gx_tilde, gy_tilde))
    log_sigma2, log_delta_tilde, log_gamma = (
        ops.clip(v, -LOG_LIMIT, LOG_LIMIT) for v in (log_sigma2, log_delta_tilde, log_gamma)
    )
    g_x = (width + 1) / 2 * (gx_tilde + 1.0)
    g_y = (height + 1) / 2 * (gy_tilde + 1.0)
    delta = (max(height, width) - 1) / max(N - 1, 1) * ops.exp(log_delta_tilde)
    offsets = ops.arange(1, N + 1, dtype="float32") - N / 2 - 0.5  # i − N/2 − 0.5
    mu_x = g_x[:, None] + offsets[None, :] * delta[:, None]
    mu_y = g_y[:, None] + offsets[None, :] * delta[:, None]
    F_X = _gaussian_rows(mu_x, width, log_sigma2, epsilon)
    F_Y = _gaussian_rows(mu_y, height, log_sigma2, epsilon)
    gamma = ops.exp(log_gamma)
    plot = {"centre": ops.stack([g_x, g_y], axis=-1), "stride": delta, "sigma2": ops.exp(log_sigma2), "gamma": gamma}
    return F_X, F_Y, gamma, plot


def apply_filters(F_Y, images, F_X):
    """F_Y · images · F_Xᵀ for every channel: (B, n, H), (B, H, W, C), (B, m, W) → (B, n, m, C)."""
    F_Y, F_X = ops.cast(F_Y, images.dtype), ops.cast(F_X, images.dtype)
    rows = ops.einsum("bnh,bhwc->bnwc", F_Y, images)
    return ops.einsum("bnwc,bmw->bnmc", rows, F_X)


def _check_images(x_shape, name="x"):
    if len(x_shape) != 4 or x_shape[1] is None or x_shape[2] is None:
        raise ValueError(f"{name} must be images (batch, height, width, channels) with static height and width; "
                         f"got shape {tuple(x_shape)}")


def _check_features(h_shape):
    if len(h_shape) != 2 or h_shape[-1] is None:
        raise ValueError(f"h must be features (batch, units); got shape {tuple(h_shape)}")


def _check_N(N):
    if int(N) != N or N < 1:
        raise ValueError(f"N must be a positive int; got {N!r}")
    return int(N)


@keras.saving.register_keras_serializable(package="attention_zoo")
class GaussianReader(layers.Layer):
    """read(x, x̂, h) = γ · [F_Y x F_Xᵀ, F_Y x̂ F_Xᵀ], with the filterbank predicted from h.

    Called as `reader(x, h)` or `reader(x, h, x_hat)`: images x (and the error image x̂)
    (B, H, W, C), features h (B, D). Returns the glimpse (B, N, N, C), or (B, N, N, 2C) with x̂
    (x's glimpse in the first C channels), and with `return_params` also the `filterbank` plot dict.

    Args:
        N: the grid is N × N filters.
        return_params: also return the filter parameters (centre, stride, sigma2, gamma).
    """

    def __init__(self, N, return_params=False, **kwargs):
        super().__init__(**kwargs)
        self.N = _check_N(N)
        self.return_params = bool(return_params)
        self.attention_head = layers.Dense(5, name="attention_head")

    def build(self, x_shape, h_shape, x_hat_shape=None):
        _check_images(x_shape)
        if x_hat_shape is not None and tuple(x_hat_shape[1:]) != tuple(x_shape[1:]):
            raise ValueError(f"x_hat must have the shape of x {tuple(x_shape)}; got {tuple(x_hat_shape)}")
        _check_features(h_shape)
        # An initializer, not an assign: Keras may build inside a stateless scope that drops assigns.
        self.attention_head.bias_initializer = keras.initializers.Constant(initial_bias(x_shape[1], x_shape[2], self.N))
        self.attention_head.build(h_shape)

    def call(self, x, h, x_hat=None):
        images = x if x_hat is None else ops.concatenate([x, x_hat], axis=-1)
        F_X, F_Y, gamma, params = filterbank(self.attention_head(h), x.shape[1], x.shape[2], self.N)
        glimpse = apply_filters(F_Y, images, F_X) * ops.cast(gamma, images.dtype)[:, None, None, None]
        return (glimpse, params) if self.return_params else glimpse

    def get_config(self):
        return {**super().get_config(), "N": self.N, "return_params": self.return_params}


@keras.saving.register_keras_serializable(package="attention_zoo")
class GaussianWriter(layers.Layer):
    """write(h) = (1/γ̂) · F̂_Yᵀ w F̂_X, w = W'(h) reshaped to (N, N, C), filterbank F̂ predicted from h.

    Called as `writer(h)` with features h (B, D); returns the canvas update (B, H, W, C), and
    with `return_params` also the `filterbank` plot dict (its "gamma" is γ̂).

    Args:
        N: the written patch w is N × N.
        image_shape: (H, W, C) of the canvas.
        return_params: also return the filter parameters (centre, stride, sigma2, gamma).
    """

    def __init__(self, N, image_shape, return_params=False, **kwargs):
        super().__init__(**kwargs)
        self.N = _check_N(N)
        self.image_shape = tuple(int(s) for s in image_shape)
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise ValueError(f"image_shape must be (height, width, channels) of positive ints; got {image_shape!r}")
        self.return_params = bool(return_params)
        self.attention_head = layers.Dense(5, name="attention_head")
        self.patch_head = layers.Dense(self.N * self.N * self.image_shape[2], name="patch_head")

    def build(self, h_shape):
        _check_features(h_shape)
        self.attention_head.bias_initializer = keras.initializers.Constant(
            initial_bias(*self.image_shape[:2], self.N, write=True))
        self.attention_head.build(h_shape)
        self.patch_head.build(h_shape)

    def call(self, h):
        height, width, channels = self.image_shape
        w = ops.reshape(self.patch_head(h), (-1, self.N, self.N, channels))
        F_X, F_Y, gamma, params = filterbank(self.attention_head(h), height, width, self.N)
        canvas = apply_filters(ops.swapaxes(F_Y, 1, 2), w, ops.swapaxes(F_X, 1, 2))
        canvas = canvas / ops.cast(gamma, canvas.dtype)[:, None, None, None]
        return (canvas, params) if self.return_params else canvas

    def get_config(self):
        return {
            **super().get_config(),
            "N": self.N,
            "image_shape": self.image_shape,
            "return_params": self.return_params,
        }
