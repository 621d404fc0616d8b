"""Stacked attention (Yang, He, Gao, Deng, Smola 2016, Stacked Attention Networks): a query
attends a grid of image features, the attended vector refines the query, and the next hop
attends again.

With the query u⁰ = v_Q (B, d) and the image features v_I = (v_1 … v_N) (B, N, d), hop k:

    h_A = tanh(W_I,A v_I ⊕ (W_Q,A u^{k−1} + b_A))     (B, N, units); ⊕ adds the vector to every cell
    p_I = softmax(W_P h_A)                            (B, N), over the N cells
    ṽ_I = Σ_i p_i v_i;   u^k = ṽ_I + u^{k−1}

each hop with its own W_I,A, W_Q,A, b_A, W_P. The paper's b_P adds one number to every cell's
score, which the softmax over the cells cancels, so it is left out.
"""

import keras
from keras import layers, ops

from layers.attention import masked_softmax, weighted_sum


@keras.saving.register_keras_serializable(package="attention_zoo")
class StackedAttention(layers.Layer):
    """`layer(query, values, mask=None)` → (u^K (B, d), p (B, hops, N): every hop's attention).

    `mask` (B, N), True (or 1) at valid cells: masked cells get p = 0; a fully masked row gets
    p = 0 and ṽ = 0, so u passes through unchanged.

    Args:
        units: k, the width of h_A.
        hops: K ≥ 1, the number of attention layers stacked.
    """

    def __init__(self, units, hops=2, **kwargs):
        super().__init__(**kwargs)
        if int(hops) < 1:
            raise ValueError(f"hops must be at least 1; got {hops}")
        self.units, self.hops = int(units), int(hops)
        self.supports_masking = True

    def compute_mask(self, inputs, previous_mask):
        return None

    def build(self, query_shape, values_shape):
        if len(query_shape) != 2 or len(values_shape) != 3 or query_shape[-1] != values_shape[-1]:
            raise ValueError(f"expected query (batch, d) and values (batch, cells, d) of one width d; "
                             f"got shapes {tuple(query_shape)} and {tuple(values_shape)}")
        d = values_shape[-1]
        self.W_I, self.W_Q, self.b_A, self.W_P = [], [], [], []
        for k in range(1, self.hops + 1):
            self.W_I.append(self.add_weight(shape=(d, self.units), name=f"W_I_{k}"))
            self.W_Q.append(self.add_weight(shape=(d, self.units), name=f"W_Q_{k}"))
            self.b_A.append(self.add_weight(shape=(self.units,), initializer="zeros", name=f"b_A_{k}"))
            self.W_P.append(self.add_weight(shape=(self.units, 1), name=f"W_P_{k}"))

    def call(self, query, values, mask=None):
        u, attention = query, []
        for W_I, W_Q, b_A, W_P in zip(self.W_I, self.W_Q, self.b_A, self.W_P):
            h_A = ops.tanh(ops.matmul(values, W_I) + ops.expand_dims(ops.matmul(u, W_Q) + b_A, 1))
            p = masked_softmax(ops.squeeze(ops.matmul(h_A, W_P), -1), mask)
            u = weighted_sum(p, values) + u
            attention.append(p)
        return u, ops.stack(attention, axis=1)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "hops": self.hops}
