"""Attention for one decoder step: Bahdanau, Luong (global and local) and Show-Attend-Tell.

Every layer is called as `layer(query, values, mask=None)`: the decoder state `query` (B, Dq),
the encoder's annotations `values` (B, L, Dv), which serve as keys too, and an optional `mask`
(B, L), True (or 1) at valid positions. It returns the context (B, Dv) and the alignment
α (B, L) (`HardAttention` also returns log p(s)). Padded positions get exactly zero weight;
a fully masked row gets α = 0 and a zero context, never NaN. Positions are 0-based.

Training helpers for Show-Attend-Tell: `doubly_stochastic_penalty`, and for hard attention
`reinforce_loss` with a `MovingAverageBaseline`.
"""

import keras
from keras import layers, ops


def _large_negative(dtype):
    """A finite additive mask value that `dtype` can hold (float16 ends at −65504)."""
    return -3e4 if keras.backend.standardize_dtype(dtype) == "float16" else -1e9


def mask_energies(energies, mask=None):
    """e + (1 − m)·(large negative): masked positions vanish under softmax."""
    if mask is None:
        return energies
    return energies + (1.0 - ops.cast(mask, energies.dtype)) * _large_negative(energies.dtype)


def masked_softmax(energies, mask=None):
    """α = softmax(e) over the valid positions; exactly 0 at masked ones and on fully masked rows."""
    alpha = ops.softmax(mask_energies(energies, mask), axis=-1)
    return alpha if mask is None else alpha * ops.cast(mask, alpha.dtype)


def weighted_sum(alpha, values):
    """c = Σ_i α_i v_i: (B, L), (B, L, Dv) → (B, Dv)."""
    return ops.squeeze(ops.matmul(ops.expand_dims(alpha, 1), values), 1)


class _Attention(layers.Layer):
    """The shared part: c = Σ_i α_i v_i with α = masked_softmax(self.energies(query, values), mask).

    `mask` is consumed here: the outputs carry no Keras mask.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_mask(self, inputs, previous_mask):
        return None

    def call(self, query, values, mask=None):
        alpha = masked_softmax(self.energies(query, values), mask)
        return weighted_sum(alpha, values), alpha


def _check_ranks(query_shape, values_shape):
    if len(query_shape) != 2 or len(values_shape) != 3:
        raise ValueError(
            f"expected query (batch, query_dim) and values (batch, length, value_dim); "
            f"got shapes {tuple(query_shape)} and {tuple(values_shape)}"
        )


@keras.saving.register_keras_serializable(package="attention_zoo")
class AdditiveAttention(_Attention):
    """Bahdanau et al. 2015: e_i = v_aᵀ tanh(W_a q + U_a h_i), α = softmax(e), c = Σ_i α_i h_i.

    Args:
        units: n′, the width of the alignment MLP.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)

    def build(self, query_shape, values_shape):
        _check_ranks(query_shape, values_shape)
        self.W_a = self.add_weight(shape=(query_shape[-1], self.units), name="W_a")
        self.U_a = self.add_weight(shape=(values_shape[-1], self.units), name="U_a")
        self.v_a = self.add_weight(shape=(self.units, 1), name="v_a")

    def energies(self, query, values):
        """e (B, L), before masking."""
        hidden = ops.tanh(ops.expand_dims(ops.matmul(query, self.W_a), 1) + ops.matmul(values, self.U_a))
        return ops.squeeze(ops.matmul(hidden, self.v_a), -1)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="attention_zoo")
class MultiplicativeAttention(_Attention):
    """Luong et al. 2015, global attention: α = softmax(score(h_t, h̄_s)), c_t = Σ_s α_s h̄_s, with

    score = h_tᵀ h̄_s ("dot"), h_tᵀ W_a h̄_s ("general") or v_aᵀ tanh(W_a [h_t; h̄_s]) ("concat").

    Args:
        score: "dot" (needs Dq = Dv), "general" or "concat".
        units: the width of W_a for "concat" (unused otherwise).
    """

    SCORES = ("dot", "general", "concat")

    def __init__(self, score="general", units=None, **kwargs):
        super().__init__(**kwargs)
        if score not in self.SCORES:
            raise ValueError(f"score must be one of {self.SCORES}; got {score!r}")
        if score == "concat" and units is None:
            raise ValueError('score="concat" needs units, the width of W_a')
        self.score = score
        self.units = None if units is None else int(units)

    def build(self, query_shape, values_shape):
        _check_ranks(query_shape, values_shape)
        query_dim, value_dim = query_shape[-1], values_shape[-1]
        if self.score == "dot" and query_dim != value_dim:
            raise ValueError(f'score="dot" needs query and values of one width; got {query_dim} and {value_dim}')
        if self.score == "general":
            self.W_a = self.add_weight(shape=(query_dim, value_dim), name="W_a")
        elif self.score == "concat":
            self.W_a = self.add_weight(shape=(query_dim + value_dim, self.units), name="W_a")
            self.v_a = self.add_weight(shape=(self.units, 1), name="v_a")

    def energies(self, query, values):
        """score(h_t, h̄_s) for every s: (B, L), before masking."""
        if self.score == "concat":
            queries = ops.broadcast_to(ops.expand_dims(query, 1), (*ops.shape(values)[:2], query.shape[-1]))
            hidden = ops.tanh(ops.matmul(ops.concatenate([queries, values], axis=-1), self.W_a))
            return ops.squeeze(ops.matmul(hidden, self.v_a), -1)
        if self.score == "general":
            query = ops.matmul(query, self.W_a)
        return ops.squeeze(ops.matmul(values, ops.expand_dims(query, -1)), -1)

    def get_config(self):
        return {**super().get_config(), "score": self.score, "units": self.units}


@keras.saving.register_keras_serializable(package="attention_zoo")
class LocalAttention(MultiplicativeAttention):
    """Luong et al. 2015, local attention: only the window [p_t − D, p_t + D] of the source is read.

    local-m ("m"): p_t = t, the decoder step passed as `position`; α = align(h_t, h̄_s), the
    softmax of the score over the valid positions in the window.
    local-p ("p"): p_t = S · sigmoid(v_pᵀ tanh(W_p h_t)), S the source length (valid positions of
    the mask, else L), and α_s = align(h_t, h̄_s) · exp(−(s − p_t)² / (2σ²)), σ = D/2. As in the
    paper the Gaussian is applied after the softmax, so local-p's α sums to at most 1; it is
    differentiable in p_t, which is how W_p and v_p learn.

    Args:
        window: D, the half-width of the window (paper: 10).
        mode: "m" (monotonic) or "p" (predictive).
        score, units: as in `MultiplicativeAttention`; `units` is also the width of W_p.
    """

    MODES = ("m", "p")

    def __init__(self, window=10, mode="p", score="general", units=None, **kwargs):
        super().__init__(score=score, units=units, **kwargs)
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}; got {mode!r}")
        if mode == "p" and units is None:
            raise ValueError('mode="p" needs units, the width of W_p')
        if window < 1:
            raise ValueError(f"window must be a positive half-width D; got {window}")
        self.window, self.mode = int(window), mode

    def build(self, query_shape, values_shape, position_shape=None):
        super().build(query_shape, values_shape)
        if self.mode == "p":
            self.W_p = self.add_weight(shape=(query_shape[-1], self.units), name="W_p")
            self.v_p = self.add_weight(shape=(self.units, 1), name="v_p")

    def aligned_position(self, query, values, mask=None):
        """local-p's p_t = S · sigmoid(v_pᵀ tanh(W_p h_t)): (B,) in [0, S]."""
        if mask is None:
            length = ops.cast(ops.shape(values)[1], query.dtype)
        else:
            length = ops.sum(ops.cast(mask, query.dtype), axis=-1)
        return length * ops.sigmoid(ops.squeeze(ops.matmul(ops.tanh(ops.matmul(query, self.W_p)), self.v_p), -1))

    def call(self, query, values, mask=None, position=None):
        if self.mode == "m":
            if position is None:
                raise ValueError("local-m attention needs `position`, the decoder step t (a scalar or (batch,))")
            p_t = ops.cast(ops.broadcast_to(position, ops.shape(query)[:1]), query.dtype)
        elif position is not None:
            raise ValueError("local-p attention predicts p_t itself; `position` is for local-m only")
        else:
            p_t = self.aligned_position(query, values, mask)
        distance = ops.cast(ops.arange(ops.shape(values)[1]), query.dtype)[None, :] - ops.expand_dims(p_t, -1)
        valid = ops.cast(ops.abs(distance) <= self.window, query.dtype)
        if mask is not None:
            valid = valid * ops.cast(mask, query.dtype)
        alpha = masked_softmax(self.energies(query, values), valid)
        if self.mode == "p":
            sigma = self.window / 2.0
            alpha = alpha * ops.exp(-ops.square(distance) / (2.0 * sigma**2))
        return weighted_sum(alpha, values), alpha

    def get_config(self):
        return {**super().get_config(), "window": self.window, "mode": self.mode}


@keras.saving.register_keras_serializable(package="attention_zoo")
class SoftAttention(_Attention):
    """Show-Attend-Tell's deterministic ("soft") attention (Xu et al. 2015).

    With the annotations a_i = `values` and the previous decoder state h_{t−1} = `query`:
    e_ti = w_eᵀ tanh(W_a a_i + W_h h_{t−1} + b) (f_att), α_t = softmax(e_t),
    β_t = sigmoid(f_β(h_{t−1})) (a scalar gate, Dense(1)), ẑ_t = β_t Σ_i α_ti a_i.

    Args:
        units: the width of the f_att MLP.
        gate: use the gating scalar β (the paper does); False fixes β = 1.

    `call(query, values, mask=None, keys=None)`: `keys`, the precomputed `project(values)`,
    saves a decoder the (B, L, D)×(D, units) product at every step.
    """

    def __init__(self, units, gate=True, **kwargs):
        super().__init__(**kwargs)
        self.units, self.use_gate = int(units), bool(gate)

    def build(self, query_shape, values_shape):
        _check_ranks(query_shape, values_shape)
        self.W_a = self.add_weight(shape=(values_shape[-1], self.units), name="W_a")
        self.W_h = self.add_weight(shape=(query_shape[-1], self.units), name="W_h")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")
        self.w_e = self.add_weight(shape=(self.units, 1), name="w_e")
        if self.use_gate:
            self.W_beta = self.add_weight(shape=(query_shape[-1], 1), name="W_beta")
            self.b_beta = self.add_weight(shape=(1,), initializer="zeros", name="b_beta")

    def project(self, values):
        """W_a a_i for every i (B, L, units): the part of f_att that does not change between steps.
        A decoder computes it once per image and passes it to every step as `keys`."""
        return ops.matmul(values, self.W_a)

    def energies(self, query, values, keys=None):
        """e_t (B, L), before masking; `keys` = `project(values)` if precomputed."""
        keys = self.project(values) if keys is None else keys
        hidden = ops.tanh(keys + ops.expand_dims(ops.matmul(query, self.W_h) + self.b, 1))
        return ops.squeeze(ops.matmul(hidden, self.w_e), -1)

    def gate(self, query):
        """β_t = sigmoid(W_β h_{t−1} + b_β): (B, 1); ones when the gate is off."""
        if not self.use_gate:
            return ops.ones_like(query[:, :1])
        return ops.sigmoid(ops.matmul(query, self.W_beta) + self.b_beta)

    def call(self, query, values, mask=None, keys=None):
        alpha = masked_softmax(self.energies(query, values, keys), mask)
        return self.gate(query) * weighted_sum(alpha, values), alpha

    def get_config(self):
        return {**super().get_config(), "units": self.units, "gate": self.use_gate}


@keras.saving.register_keras_serializable(package="attention_zoo")
class HardAttention(SoftAttention):
    """Show-Attend-Tell's stochastic ("hard") attention (Xu et al. 2015); α as in `SoftAttention`.

    Training (`training=True`): sample one location s ~ Multinomial(α) and read ẑ = β a_s; with
    probability `expected_prob` (paper: 0.5, drawn per example and step) use the expected context
    ẑ = β Σ_i α_i a_i instead, whose gradient reaches α directly. Returns (ẑ, α, log p(s)),
    log p(s) = log α_s (0 where the expected context was used) for `reinforce_loss`; no gradient
    flows through the sampled index.
    Inference: the expected context, as the paper does for its deterministic inference
    (log p = 0), so it equals `SoftAttention` with the same weights.

    Args:
        units, gate: as in `SoftAttention`.
        expected_prob: the probability of using the expected context while training.
        seed: seed of the layer's `keras.random.SeedGenerator`.
    """

    def __init__(self, units, gate=True, expected_prob=0.5, seed=None, **kwargs):
        super().__init__(units, gate=gate, **kwargs)
        if not 0.0 <= expected_prob <= 1.0:
            raise ValueError(f"expected_prob must be a probability; got {expected_prob}")
        self.expected_prob, self.seed = float(expected_prob), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, query, values, mask=None, keys=None, training=False):
        energies = self.energies(query, values, keys)
        alpha = masked_softmax(energies, mask)
        if not training:
            return self.gate(query) * weighted_sum(alpha, values), alpha, ops.zeros_like(alpha[:, 0])
        log_alpha = ops.log_softmax(mask_energies(energies, mask), axis=-1)
        s = keras.random.categorical(log_alpha, 1, seed=self.seed_generator)[:, 0]
        one_hot = ops.one_hot(s, ops.shape(alpha)[1], dtype=alpha.dtype)
        if mask is not None:  # a fully masked row samples a padded position: drop it
            one_hot = one_hot * ops.cast(mask, alpha.dtype)
        log_p = ops.sum(one_hot * log_alpha, axis=-1)
        expected = keras.random.uniform(ops.shape(log_p), seed=self.seed_generator) < self.expected_prob
        weights = ops.where(ops.expand_dims(expected, -1), alpha, one_hot)
        log_p = ops.where(expected, ops.zeros_like(log_p), log_p)
        return self.gate(query) * weighted_sum(weights, values), alpha, log_p

    def get_config(self):
        return {**super().get_config(), "expected_prob": self.expected_prob, "seed": self.seed}


def attention_entropy(alpha):
    """H(α) = −Σ_i α_i log α_i over the last axis (locations), 0 · log 0 taken as 0."""
    return -ops.sum(alpha * ops.log(ops.maximum(alpha, keras.config.epsilon())), axis=-1)


def reinforce_loss(log_p, reward, baseline, alpha, entropy_weight=0.0):
    """The hard-attention REINFORCE loss (Xu et al. 2015, eq. 12 with baseline and entropy term).

    L = mean over the batch of −(R − b) · log p(s) − λ_H · H(α), H(α) = −Σ α log α,
    with (R − b) under stop_gradient: the score-function estimator, whose gradient reaches the
    attention MLP through log p(s) and α, never the reward or the baseline. In Xu et al. the reward
    R is the caption's log-likelihood log p(y | s, a); its own gradient comes from adding the
    caption's cross-entropy to this loss.

    Args:
        log_p: log p(s) from `HardAttention`, (B,) or per step (B, T), summed over the steps.
        reward: R, (B,).
        baseline: b, a scalar or (B,) (see `MovingAverageBaseline`).
        alpha: α, (B, L) or (B, T, L), for the entropy term.
        entropy_weight: λ_H.
    """
    if len(log_p.shape) > 1:
        log_p = ops.sum(log_p, axis=tuple(range(1, len(log_p.shape))))
    advantage = ops.stop_gradient(ops.cast(reward, log_p.dtype) - ops.cast(baseline, log_p.dtype))
    entropy = ops.sum(attention_entropy(alpha), axis=tuple(range(1, len(alpha.shape) - 1)))
    return ops.mean(-advantage * log_p - entropy_weight * entropy)


@keras.saving.register_keras_serializable(package="attention_zoo")
class MovingAverageBaseline(layers.Layer):
    """The REINFORCE baseline of Xu et al. 2015: b ← m·b + (1 − m)·mean(R), m = 0.9, b starts at 0.

    `baseline(reward, training=True)` returns b as it was before this batch, then applies the
    update; with training=False it only returns b. b is a non-trainable weight, saved with the model.

    Args:
        momentum: m.
    """

    def __init__(self, momentum=0.9, **kwargs):
        super().__init__(**kwargs)
        self.momentum = float(momentum)

    def build(self, reward_shape=None):
        self.baseline = self.add_weight(shape=(), initializer="zeros", trainable=False, name="baseline")

    def call(self, reward, training=False):
        baseline = ops.copy(self.baseline)  # a snapshot: the value before the update
        if training:
            mean_reward = ops.mean(ops.stop_gradient(ops.cast(reward, baseline.dtype)))
            self.baseline.assign(self.momentum * baseline + (1.0 - self.momentum) * mean_reward)
        return baseline

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum}


def doubly_stochastic_penalty(alphas, mask=None, weight=1.0):
    """λ Σ_i (1 − Σ_t α_ti)², averaged over the batch (Xu et al. 2015, eq. 14).

    Encourages the decoder to attend every location about once over a caption.

    Args:
        alphas: α for every step, (B, T, L).
        mask: (B, T), True at real caption steps: padded steps are left out of Σ_t.
        weight: λ.
    """
    if mask is not None:
        alphas = alphas * ops.cast(ops.expand_dims(mask, -1), alphas.dtype)
    return weight * ops.mean(ops.sum(ops.square(1.0 - ops.sum(alphas, axis=1)), axis=-1))
