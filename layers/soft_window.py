"""Graves' soft window over a character sequence (Graves 2013, Generating Sequences With Recurrent
Neural Networks, section 5.1): a mixture of K Gaussians sliding monotonically along the text.

From the first hidden layer's output h¹_t, at every step t (eqs. 46–51):
    (α̂_t, β̂_t, κ̂_t) = W_{h¹p} h¹_t + b_p                   (48)
    α_t = exp(α̂_t)                                         (49)  importance of each Gaussian
    β_t = exp(β̂_t)                                         (50)  width (inverse)
    κ_t = κ_{t−1} + exp(κ̂_t)                               (51)  location, only ever moving forward
    φ(t, u) = Σ_k α_t^k exp(−β_t^k (κ_t^k − u)²)            (46)  window weight of character u
    w_t = Σ_u φ(t, u) c_u                                  (47)  the soft window vector
with the characters c_u one-hot (B, U, V) and u = 1 … U (1-based, as in the paper; κ_0 = 0).
Padded characters (mask 0) get φ = 0 and add nothing to w_t. `phi_end` is φ(t, U_b + 1), the
weight just past the last real character U_b of each text: Graves stops sampling when it exceeds
every φ(t, u), u ≤ U_b (section 5.2).
"""

import math

import keras
from keras import layers, ops


def window_weights(alpha, beta, kappa, positions):
    """φ = Σ_k α_k exp(−β_k (κ_k − u)²) for every u of `positions`: (B, K) ×3, (B, P) → (B, P)."""
    distance = ops.expand_dims(kappa, 1) - ops.expand_dims(positions, -1)  # (B, P, K)
    return ops.sum(ops.expand_dims(alpha, 1) * ops.exp(-ops.expand_dims(beta, 1) * ops.square(distance)), axis=-1)


@keras.saving.register_keras_serializable(package="attention_zoo")
class SoftWindow(layers.Layer):
    """One step of the window: `call(h, kappa, characters, mask=None)` → (w_t (B, V), φ_t (B, U),
    κ_t (B, K), phi_end (B,)), from h¹_t (B, D), κ_{t−1} (B, K), one-hot characters (B, U, V) and
    the mask (B, U) of real characters (True or 1). A step function: an RNN cell carries κ (and w).

    Args:
        components: K, the number of Gaussians (10 in the paper).
        initial_step: exp(κ̂) at the start of training, in characters per step: κ̂'s bias starts at
            log(initial_step) (1: zero bias). Handwriting takes many points per character, so a
            window that starts slower needs less training to find the text.
    """

    def __init__(self, components=10, initial_step=1.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True  # `mask` marks the real characters; the outputs carry none
        self.components = int(components)
        self.initial_step = float(initial_step)
        if self.components < 1 or self.initial_step <= 0:
            raise ValueError(f"components must be a positive number of Gaussians K and initial_step > 0; got "
                             f"{components}, {initial_step}")

    def build(self, h_shape, kappa_shape=None, characters_shape=None, mask_shape=None):
        if len(h_shape) != 2:
            raise ValueError(f"expected h¹_t of shape (batch, units); got shape {tuple(h_shape)}")
        self.kernel = self.add_weight(shape=(h_shape[-1], 3 * self.components), name="kernel")
        start = [0.0] * (2 * self.components) + [math.log(self.initial_step)] * self.components
        self.bias = self.add_weight(shape=(3 * self.components,), initializer=keras.initializers.Constant(start),
                                    name="bias")

    def compute_mask(self, *args, **kwargs):
        return None

    def parameters(self, h, kappa):
        """(α_t, β_t, κ_t), each (B, K): eqs. 48–51."""
        alpha_hat, beta_hat, kappa_hat = ops.split(ops.matmul(h, self.kernel) + self.bias, 3, axis=-1)
        return ops.exp(alpha_hat), ops.exp(beta_hat), kappa + ops.exp(kappa_hat)

    def call(self, h, kappa, characters, mask=None):
        if len(characters.shape) != 3:
            raise ValueError(f"expected one-hot characters of shape (batch, length, vocabulary); got shape "
                             f"{tuple(characters.shape)}")
        alpha, beta, kappa = self.parameters(h, kappa)
        length = ops.shape(characters)[1]
        phi = window_weights(alpha, beta, kappa, ops.cast(ops.arange(1, length + 1), h.dtype)[None, :])
        if mask is None:
            last = ops.cast(ops.broadcast_to(length, ops.shape(h)[:1]), h.dtype)
        else:
            valid = ops.cast(mask, h.dtype)
            phi = phi * valid
            last = ops.sum(valid, axis=-1)
        phi_end = window_weights(alpha, beta, kappa, ops.expand_dims(last + 1.0, -1))[:, 0]
        w = ops.squeeze(ops.matmul(ops.expand_dims(phi, 1), ops.cast(characters, h.dtype)), 1)
        return w, phi, kappa, phi_end

    def get_config(self):
        return {**super().get_config(), "components": self.components, "initial_step": self.initial_step}
