"""Grid LSTM (Kalchbrenner, Danihelka & Graves 2015): LSTM cells along every dimension of a grid.

An N-LSTM block receives N hidden vectors h_i and N memory vectors m_i, concatenates the hidden
vectors into the shared vector H = [h_0; ...; h_{N-1}] and computes one transform per dimension,
(h'_i, m'_i) = LSTM(H, m_i, W_i), with W_i packing the gate weights [W^u, W^f, W^c, W^o]:

    g^u = σ(W^u H + b^u)   g^f = σ(W^f H + b^f)   g^o = σ(W^o H + b^o)   g^c = tanh(W^c H + b^c)
    m'  = g^f ⊙ m + g^u ⊙ g^c
    h'  = g^o ⊙ tanh(m')

The paper writes the last line h' = tanh(g^o ⊙ m'); we use the standard LSTM form above, which
is Keras's `LSTMCell` (h = o ⊙ tanh(c)): a 1-LSTM block with a step input is exactly an LSTM.
Dimensions are numbered from 0 here; the paper numbers them from 1.

`GridLSTMCell` is the block (and a Keras RNN cell); `GridLSTM1D` (a deep 1-LSTM over a vector),
`GridLSTM2D` (a time × depth 2-LSTM over a sequence) and `GridLSTMPatches` (a rows × columns ×
depth 3-LSTM over an image's patches) arrange blocks in a grid.
"""

import keras
from keras import layers, ops


def _forget_bias_one(units):
    """b = [b^u, b^f, b^c, b^o] = [0, 1, 0, 0]: the forget gate starts open."""

    def initializer(shape, dtype=None):
        return ops.concatenate(
            [ops.zeros((units,), dtype), ops.ones((units,), dtype), ops.zeros((2 * units,), dtype)]
        )

    return initializer


@keras.saving.register_keras_serializable(package="attention_zoo")
class GridLSTMCell(layers.Layer):
    """An N-LSTM block: (h'_i, m'_i) = LSTM(H, m_i, W_i) per dimension i, H = [h_0; ...; h_{N-1}].

    Each dimension is one of
        "lstm"         the LSTM transform above (forget-gate bias initialised to 1);
        "identity"     h'_i = h_i, m'_i = m_i: the vectors pass through unchanged, no weights;
        an activation  the paper's non-LSTM dimension h'_i = α(V_i H + c_i) with α that Keras
                       activation ("relu", "tanh", "linear" for the paper's identity α, ...);
                       it has no memory cell and carries m'_i = m_i unchanged.

    Priority dimensions (as in the paper): the dimensions in `priority` are computed after all the others, in the
    order given; each reads H' = [h_0; ...; h_{N-1}] in which the hidden vector of every
    dimension already computed is replaced by its output h'. `priority=(0,)` is the paper's
    prioritised first dimension, H' = [h_0; h'_1; ...; h'_{N-1}]. Without priority every
    transform reads H.

    With `tied=True` all LSTM dimensions share one W (and b); transfer dimensions keep their V_i.

    As a Keras RNN cell, `keras.layers.RNN(GridLSTMCell(...))`, the block's dimensions all run
    along the sequence and the step input x_t joins the shared vector, H = [x_t; h_0; ...]
    (the paper's standard LSTM, H = [I x_t; h], with the projection I folded into W). The states
    are [h_0, m_0, h_1, m_1, ...] and the output is [h'_0; h'_1; ...]. With one LSTM dimension
    this is `keras.layers.LSTMCell` with W = [kernel; recurrent_kernel].

    Args:
        units: d, the size of every hidden and memory vector.
        dimensions: one kind per grid dimension (see above); N = len(dimensions).
        tied: share the LSTM weights across dimensions.
        priority: dimension indices computed last, in this order (see above).
        kernel_initializer: initialiser of W and V.
    """

    def __init__(
        self,
        units,
        dimensions=("lstm",),
        tied=False,
        priority=(),
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = int(units)
        if self.units < 1:
            raise ValueError(f"units must be positive, got {units}")
        self.dimensions = tuple(dimensions)
        if not self.dimensions:
            raise ValueError("dimensions must name at least one dimension")
        self.activations = {
            i: keras.activations.get(kind)
            for i, kind in enumerate(self.dimensions)
            if kind not in ("lstm", "identity")
        }
        self.tied = bool(tied)
        self.priority = tuple(int(i) for i in priority)
        if len(set(self.priority)) != len(self.priority) or not all(
            0 <= i < len(self.dimensions) for i in self.priority
        ):
            raise ValueError(
                f"priority must list distinct dimension indices in [0, {len(self.dimensions)}), "
                f"got {priority}"
            )
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        n = len(self.dimensions)
        self.state_size = [self.units] * (2 * n)
        self.output_size = self.units * n

    def build(self, input_shape=None):
        """input_shape: (batch, features) of the step input x_t in RNN use; None for a block
        that reads hidden vectors only.

        Weights: W_i, b_i per LSTM dimension (one W, b when tied), V_i, c_i per transfer one."""
        in_dim = (0 if input_shape is None else input_shape[-1]) + self.units * len(self.dimensions)
        self.transforms = {}  # dimension index -> (kernel, bias); tied LSTM dimensions share one
        lstm_weights = None
        for i, kind in enumerate(self.dimensions):
            if kind == "lstm":
                if lstm_weights is None or not self.tied:
                    suffix = "" if self.tied else f"_{i}"
                    lstm_weights = (
                        self.add_weight(
                            (in_dim, 4 * self.units), self.kernel_initializer, name=f"W{suffix}"
                        ),
                        self.add_weight(
                            (4 * self.units,), _forget_bias_one(self.units), name=f"b{suffix}"
                        ),
                    )
                self.transforms[i] = lstm_weights
            elif kind != "identity":
                self.transforms[i] = (
                    self.add_weight((in_dim, self.units), self.kernel_initializer, name=f"V_{i}"),
                    self.add_weight((self.units,), "zeros", name=f"c_{i}"),
                )

    def transform(self, i, H, m):
        """(h'_i, m'_i) of dimension i from the shared vector H and its memory m_i."""
        kernel, bias = self.transforms[i]
        z = ops.matmul(H, kernel) + bias
        if self.dimensions[i] != "lstm":
            return self.activations[i](z), m
        g_u, g_f, g_c, g_o = ops.split(z, 4, axis=-1)
        m_new = ops.sigmoid(g_f) * m + ops.sigmoid(g_u) * ops.tanh(g_c)
        return ops.sigmoid(g_o) * ops.tanh(m_new), m_new

    def block(self, h, m, x=None):
        """The N-LSTM block: lists h = [h_0, ...], m = [m_0, ...] (each (batch, d)) → h', m'.

        `x`, if given, is prepended to the shared vector: H = [x; h_0; ...; h_{N-1}]."""
        step_input = [] if x is None else [x]
        h_new, m_new = list(h), list(m)
        H = ops.concatenate(step_input + list(h), axis=-1)
        for i in self.transforms:
            if i not in self.priority:
                h_new[i], m_new[i] = self.transform(i, H, m[i])
        for i in self.priority:
            if i in self.transforms:
                H_prime = ops.concatenate(step_input + h_new, axis=-1)  # h_new[i] is still h_i
                h_new[i], m_new[i] = self.transform(i, H_prime, m[i])
        return h_new, m_new

    def call(self, inputs, states):
        h, m = list(states[0::2]), list(states[1::2])
        h, m = self.block(h, m, x=inputs)
        return ops.concatenate(h, axis=-1), [v for pair in zip(h, m) for v in pair]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "dimensions": list(self.dimensions),
            "tied": self.tied,
            "priority": list(self.priority),
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }


def _grid_cells(layer, n_blocks, tied, **cell_kwargs):
    """One cell shared by every block when tied, else one cell per block."""
    return [
        GridLSTMCell(tied=tied, name=f"{layer.name}_block_{k}", **cell_kwargs)
        for k in range(1 if tied else n_blocks)
    ]


@keras.saving.register_keras_serializable(package="attention_zoo")
class GridLSTM1D(layers.Layer):
    """A deep 1-LSTM (the paper's parity network): depth is the only grid dimension.

    The input x (batch, features) is projected at the bottom edge, [h_0; m_0] = I x + b_I; then
    (h_k, m_k) = LSTM(h_{k-1}, m_{k-1}, W_k) for k = 1..depth, with W_k = W for all k when tied.
    The output is the top edge's [h_depth; m_depth], (batch, 2·units).

    Args:
        units: d, the size of the hidden and memory vectors.
        depth: the number of blocks.
        tied: share the block weights across depth (the paper's tied 1-LSTM).
    """

    def __init__(self, units, depth, tied=False, **kwargs):
        super().__init__(**kwargs)
        self.units, self.depth, self.tied = int(units), int(depth), bool(tied)
        if self.depth < 1:
            raise ValueError(f"depth must be positive, got {depth}")
        self.input_projection = layers.Dense(2 * self.units, name="input_projection")
        self.cells = _grid_cells(
            self, self.depth, units=self.units, dimensions=("lstm",), tied=self.tied
        )

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(f"expected input (batch, features), got shape {tuple(input_shape)}")
        self.input_projection.build(input_shape)
        for cell in self.cells:
            cell.build()

    def call(self, inputs):
        h, m = ops.split(self.input_projection(inputs), 2, axis=-1)
        for k in range(self.depth):
            [h], [m] = self.cells[k % len(self.cells)].block([h], [m])
        return ops.concatenate([h, m], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2 * self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "depth": self.depth, "tied": self.tied}


@keras.saving.register_keras_serializable(package="attention_zoo")
class GridLSTM2D(layers.Layer):
    """A time × depth 2-LSTM, the paper's replacement for a stacked LSTM.

    At every (t, k), k = 1..depth, a 2-LSTM block takes dimension 0 (time) from (t-1, k) and
    dimension 1 (depth) from (t, k-1):
        (h^t_{t,k}, h^d_{t,k}), (m^t_{t,k}, m^d_{t,k}) = block([h^t_{t-1,k}, h^d_{t,k-1}],
                                                              [m^t_{t-1,k}, m^d_{t,k-1}])
    The input x_t is projected at the bottom edge, [h^d_{t,0}; m^d_{t,0}] = I x_t + b_I; the time
    states start at zero. The output at step t is the top edge's [h^d_{t,depth}; m^d_{t,depth}],
    (batch, 2·units), for every step or only the last one. Weights are shared along time, and
    along depth and across both dimensions when tied (the paper's tied 2-LSTM).

    Args:
        units: d, the size of the hidden and memory vectors.
        depth: the number of blocks along depth.
        tied: share the block weights along depth and across the two dimensions.
        dimensions: the kinds of (time, depth), see `GridLSTMCell`.
        priority: dimensions computed last, see `GridLSTMCell`.
        return_sequences: return (batch, time, 2·units) instead of the last step's output.
    """

    def __init__(
        self,
        units,
        depth,
        tied=False,
        dimensions=("lstm", "lstm"),
        priority=(),
        return_sequences=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units, self.depth, self.tied = int(units), int(depth), bool(tied)
        if self.depth < 1:
            raise ValueError(f"depth must be positive, got {depth}")
        if len(dimensions) != 2:
            raise ValueError(f"dimensions must give the kinds of (time, depth), got {dimensions}")
        self.dimensions, self.priority = tuple(dimensions), tuple(priority)
        self.return_sequences = bool(return_sequences)
        self.input_projection = layers.Dense(2 * self.units, name="input_projection")
        self.cells = _grid_cells(
            self,
            self.depth,
            units=self.units,
            dimensions=self.dimensions,
            tied=self.tied,
            priority=self.priority,
        )

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(
                f"expected input (batch, time, features), got shape {tuple(input_shape)}"
            )
        self.input_projection.build(input_shape)
        for cell in self.cells:
            cell.build()

    def call(self, inputs, unroll=False):
        """`unroll`: a Python loop over the (static) time steps instead of `ops.scan`, for exports
        (TFLite cannot lower the scan's tensor lists when the batch size is unknown)."""
        edge = ops.transpose(self.input_projection(inputs), (1, 0, 2))  # time-major
        zeros = ops.zeros((ops.shape(inputs)[0], self.units), edge.dtype)
        column = ([zeros] * self.depth, [zeros] * self.depth, ops.concatenate([zeros, zeros], -1))

        def step(column, edge_t):
            h_time, m_time, _ = column
            h_time, m_time = list(h_time), list(m_time)
            h, m = ops.split(edge_t, 2, axis=-1)
            for k in range(self.depth):
                cell = self.cells[k % len(self.cells)]
                (h_time[k], h), (m_time[k], m) = cell.block([h_time[k], h], [m_time[k], m])
            column = (h_time, m_time, ops.concatenate([h, m], axis=-1))
            return column, column  # keras.ops.scan on TensorFlow wants ys shaped like the carry

        if unroll:
            if inputs.shape[1] is None:
                raise ValueError(f"unroll needs a static number of time steps; got input shape {tuple(inputs.shape)}")
            tops = []
            for t in range(inputs.shape[1]):
                column, _ = step(column, edge[t])
                tops.append(column[2])
            last, outputs = column, ops.stack(tops)
        else:
            last, (_, _, outputs) = ops.scan(step, column, edge)
        return ops.transpose(outputs, (1, 0, 2)) if self.return_sequences else last[2]

    def compute_output_shape(self, input_shape):
        if self.return_sequences:
            return (input_shape[0], input_shape[1], 2 * self.units)
        return (input_shape[0], 2 * self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "depth": self.depth,
            "tied": self.tied,
            "dimensions": list(self.dimensions),
            "priority": list(self.priority),
            "return_sequences": self.return_sequences,
        }


@keras.saving.register_keras_serializable(package="attention_zoo")
class GridLSTMPatches(layers.Layer):
    """A 3-LSTM over an image's non-overlapping p × p patches: rows × columns × depth.

    Block (i, j, k) takes dimension 0 from the block above (i−1, j, k), dimension 1 from the
    block to the left (i, j−1, k) and dimension 2 (depth) from below (i, j, k−1):
        (h^r, h^c, h^d)_{ijk}, (m^r, m^c, m^d)_{ijk} = block([h^r_{i−1,j,k}, h^c_{i,j−1,k}, h^d_{i,j,k−1}], [m …])
    Patch x_ij (flattened) is projected at the bottom edge, [h^d_{ij0}; m^d_{ij0}] = I x_ij + b_I;
    the states entering at the top and left edges are zero. The output is the top of the last
    block's depth, [h^d; m^d] at (R−1, C−1, depth), the one block every patch reaches: (batch, 2·units).
    `call` writes the R·C·depth blocks out in Python; `call(images, unroll=False)` computes the same
    numbers as one `ops.fori_loop` over the patches in raster order (the export: one patch's blocks in
    a TFLite WHILE instead of R·C copies).

    Args:
        units: d, the size of the hidden and memory vectors.
        depth: the blocks along depth at every patch.
        patch_size: p; the image's height and width must be multiples of it.
        tied: one block W for every block and all three dimensions (the paper's tied N-LSTM).
    """

    def __init__(self, units, depth, patch_size, tied=True, **kwargs):
        super().__init__(**kwargs)
        self.units, self.depth, self.patch_size, self.tied = int(units), int(depth), int(patch_size), bool(tied)
        if min(self.units, self.depth, self.patch_size) < 1:
            raise ValueError(f"units, depth and patch_size must be positive; got {units}, {depth}, {patch_size}")
        self.input_projection = layers.Dense(2 * self.units, name="input_projection")
        self.cells = _grid_cells(self, self.depth, units=self.units, dimensions=("lstm",) * 3, tied=self.tied)

    def build(self, input_shape):
        if len(input_shape) != 4 or any(d is None or d % self.patch_size for d in input_shape[1:3]):
            raise ValueError(f"expected images (batch, height, width, channels) with height and width multiples of "
                             f"patch_size {self.patch_size}; got shape {tuple(input_shape)}")
        self.input_projection.build((None, self.patch_size * self.patch_size * input_shape[3]))
        for cell in self.cells:
            cell.build()

    def call(self, images, unroll=True):
        if not unroll:
            return self.raster_loop(images)
        _, height, width, channels = images.shape
        p, rows, columns = self.patch_size, height // self.patch_size, width // self.patch_size
        patches = ops.reshape(images, (-1, rows, p, columns, p, channels))
        patches = ops.reshape(ops.transpose(patches, (0, 1, 3, 2, 4, 5)), (-1, rows, columns, p * p * channels))
        edge = self.input_projection(patches)  # (batch, rows, columns, 2d)
        zero = ops.zeros_like(edge[:, 0, 0, : self.units])
        above = [[(zero, zero)] * self.depth for _ in range(columns)]  # (h^r, m^r) entering row i at (j, k)
        for i in range(rows):
            left = [(zero, zero)] * self.depth  # (h^c, m^c) entering column j at depth k
            for j in range(columns):
                h, m = ops.split(edge[:, i, j], 2, axis=-1)
                for k in range(self.depth):
                    cell = self.cells[k % len(self.cells)]
                    (h_r, h_c, h), (m_r, m_c, m) = cell.block([above[j][k][0], left[k][0], h],
                                                              [above[j][k][1], left[k][1], m])
                    above[j][k], left[k] = (h_r, m_r), (h_c, m_c)
        return ops.concatenate([h, m], axis=-1)

    def raster_loop(self, images):
        """`call`'s output, the same numbers, as one `ops.fori_loop` over the patches s = C·i + j. The
        row states (h^r, m^r) wait in a queue of the last C patches' outputs (the block above (i, j) is
        the one C steps back); the column states enter each row's first patch as zeros.

        Written for LiteRT's WHILE with its default XNNPACK delegate: the loop reads its patch from the
        model's input, not from tensors computed before it. Measured on `grid_lstm_image` with the patches
        (or their projection) computed before the loop and handed in: the first call was right, later
        calls of the same interpreter read wrong states in about 1 of 3 interpreters (87% → 48% accuracy);
        without the delegate, or with this form, every call is the same."""
        _, height, width, channels = images.shape
        p, columns, cells, depth = self.patch_size, width // self.patch_size, self.cells, self.depth
        batch, states = ops.shape(images)[0], 2 * self.depth * self.units

        def step(s, carry):
            above, left, _ = carry
            i, j = s // columns, s % columns
            patch = ops.slice(images, (0, i * p, j * p, 0), (batch, p, p, channels))
            h, m = ops.split(self.input_projection(ops.reshape(patch, (-1, p * p * channels))), 2, axis=-1)
            has_left = ops.cast(ops.minimum(j, 1), left.dtype)  # 0 at a row's first patch
            a, l = ops.split(above[:, 0], 2 * depth, axis=-1), ops.split(left * has_left, 2 * depth, axis=-1)
            row_out, column_out = [], []
            for k in range(depth):
                (h_r, h_c, h), (m_r, m_c, m) = cells[k % len(cells)].block([a[2 * k], l[2 * k], h],
                                                                           [a[2 * k + 1], l[2 * k + 1], m])
                row_out += [h_r, m_r]
                column_out += [h_c, m_c]
            above = ops.concatenate([above[:, 1:], ops.expand_dims(ops.concatenate(row_out, axis=-1), 1)], axis=1)
            return above, ops.concatenate(column_out, axis=-1), ops.concatenate([h, m], axis=-1)

        carry = (ops.zeros((batch, columns, states)), ops.zeros((batch, states)), ops.zeros((batch, 2 * self.units)))
        return ops.fori_loop(0, height // p * columns, step, carry)[2]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2 * self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "depth": self.depth, "patch_size": self.patch_size,
                "tied": self.tied}
