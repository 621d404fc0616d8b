"""Grid LSTM for k-bit parity (Kalchbrenner, Danihelka & Graves 2015, section 4.1) and its baseline.

All k bits x enter at once through one projection at the bottom edge of a deep 1-LSTM; depth is
the only grid dimension and every block shares one W when tied (the paper's tied 1-LSTM):

    [h_0; m_0] = I (2x − 1) + b_I                    (bits centred to ±1 inside the model)
    (h_n, m_n) = LSTM(h_{n-1}, m_{n-1}, W)          n = 1 … N   (`layers.GridLSTMCell`)
    p(parity | x) = softmax(W_out h_N + b_out)

The baseline is the same code with a non-LSTM dimension, the paper's tied ReLU (or tanh)
feed-forward net of the same depth, h_0 = I (2x − 1) + b_I, h_n = ReLU(V h_{n-1} + c): with width
w = 2d it has the parameters of the d-unit 1-LSTM within 2d + 2 (W is d × 4d, V is 2d × 2d).
"""

import keras
import numpy as np
from keras import layers, ops

from layers.grid_lstm import GridLSTMCell
from zoo.models.base import concrete
from zoo.registry import register_model


@register_model(
    "grid_lstm",
    task="classifier",
    summary="Grid LSTM: tied deep 1-LSTM computing k-bit parity from all bits at once; tied ReLU FFN baseline",
    paper="Kalchbrenner, Danihelka, Graves. Grid Long Short-Term Memory. ICLR 2016 (arXiv:1507.01526)",
    default_weights="parity_16",
)
@keras.saving.register_keras_serializable(package="attention_zoo")
class GridLSTMParity(keras.Model):
    """p(parity | x) for a float32 0/1 vector x (batch, bits); returns probabilities (batch, 2).

    Args:
        bits: k, the input length.
        units: d, the size of the hidden (and memory) vectors.
        depth: N, the number of blocks.
        cell: "lstm" (the Grid LSTM) or an activation ("relu", "tanh") for the feed-forward baseline.
        tied: share the block weights across depth (the paper's tied networks).
        num_classes, class_names: the two classes, "even" and "odd" by default.
    """

    # Full int8 with one scale per weight tensor: the tied block runs at every depth, and each run stores
    # its own int32 bias with a scale per channel. Measured on parity_16: 31.7 KiB against 46.6 per channel
    # (fp32: 38.6), accuracy the same (100%) (`python benchmarks/int8_size.py --models grid_lstm`).
    int8_per_channel = False

    def __init__(self, bits=16, units=32, depth=8, cell="lstm", tied=True, num_classes=2, class_names=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.bits, self.units, self.depth = int(bits), int(units), int(depth)
        if min(self.bits, self.units, self.depth) < 1:
            raise ValueError(f"bits, units and depth must be positive; got {bits}, {units}, {depth}")
        if cell == "identity":
            raise ValueError("cell must be 'lstm' or an activation such as 'relu'; 'identity' has no weights")
        self.cell_kind, self.tied, self.num_classes = str(cell), bool(tied), int(num_classes)
        self.class_names = [str(c) for c in class_names] if class_names else (
            ["even", "odd"] if self.num_classes == 2 else [str(i) for i in range(self.num_classes)])
        if len(self.class_names) != self.num_classes:
            raise ValueError(f"class_names has {len(self.class_names)} names for num_classes={num_classes}")
        lstm = self.cell_kind == "lstm"
        self.input_projection = layers.Dense((2 if lstm else 1) * self.units, name="input_projection")
        self.cells = [GridLSTMCell(self.units, dimensions=(self.cell_kind,), name=f"block_{n}")
                      for n in range(1 if self.tied else self.depth)]
        self.classifier = layers.Dense(self.num_classes, activation="softmax", name="classifier")

    def build(self, input_shape=None):
        self.input_projection.build((None, self.bits))
        for cell in self.cells:
            cell.build()
        self.classifier.build((None, self.units))

    def build_for_inputs(self):
        self(ops.zeros((1, self.bits)))

    def check_bits(self, x):
        """Refuse anything but float vectors (batch, bits); return them as float32."""
        dtype = keras.backend.standardize_dtype(x.dtype)
        shape = tuple(x.shape)
        if "float" not in dtype:
            raise ValueError(f"model {self.name!r} expects float32 bit vectors of shape (batch, {self.bits}) with "
                             f"values 0 and 1; got dtype {dtype}. Convert with bits.astype('float32').")
        if len(shape) != 2 or shape[1] != self.bits:
            hint = " For one string, add a batch axis: bits[None]." if shape == (self.bits,) else ""
            raise ValueError(f"model {self.name!r} expects bit vectors of shape (batch, {self.bits}); "
                             f"got shape {shape}.{hint}")
        values = concrete(x)
        if values is not None and (len(values) == 0 or not np.isin(values, (0.0, 1.0)).all()):
            got = "a batch of 0" if len(values) == 0 else f"values such as {values[~np.isin(values, (0.0, 1.0))][0]}"
            raise ValueError(f"model {self.name!r} expects at least one bit vector with values 0 and 1 only; got {got}")
        return ops.cast(x, "float32")

    def predict(self, x, *args, **kwargs):
        """Keras's `predict`, with NumPy bits checked first (`predict` traces `call`; an empty batch would hang it)."""
        if isinstance(x, np.ndarray):
            self.check_bits(x)
        return super().predict(x, *args, **kwargs)

    def hidden_states(self, x):
        """h_0 … h_N, each (batch, units), for a checked input."""
        projected = self.input_projection(2.0 * x - 1.0)  # centred bits: ±1 trains, 0/1 did not (k = 16)
        if self.cell_kind == "lstm":
            h, m = ops.split(projected, 2, axis=-1)
        else:
            h, m = projected, ops.zeros_like(projected)  # a non-LSTM dimension carries no memory
        states = [h]
        for n in range(self.depth):
            [h], [m] = self.cells[n % len(self.cells)].block([h], [m])
            states.append(h)
        return states

    def call(self, bits, training=None, return_states=False):
        states = self.hidden_states(self.check_bits(bits))
        probabilities = self.classifier(states[-1])
        return (probabilities, ops.stack(states, axis=1)) if return_states else probabilities

    def serving_signature(self):
        """Inputs (name -> shape with batch None) and the inference function used by export."""
        return {"bits": (None, self.bits)}, lambda bits: {"probabilities": self(bits, training=False)}

    def picture(self, bits, labels, path):
        """Write a PNG: input bits, the hidden vectors h_0 … h_N along depth and p(odd), per example."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np

        bits = np.asarray(bits, np.float32)[:4]
        probabilities, states = self(bits, return_states=True)
        probabilities, states = np.asarray(probabilities), np.asarray(states)
        fig, axes = plt.subplots(len(bits), 2, figsize=(10, 2.2 * len(bits)), squeeze=False,
                                 gridspec_kw={"width_ratios": [1, 2]})
        for i, row in enumerate(axes):
            row[0].imshow(bits[i][None], cmap="gray_r", aspect="auto", vmin=0, vmax=1)
            row[0].set_title(f"{self.bits} bits, label {self.class_names[int(labels[i])]}", fontsize=8)
            row[1].imshow(states[i].T, cmap="RdBu", aspect="auto", vmin=-1, vmax=1)
            row[1].set_title(f"h_n along depth n = 0…{self.depth} ({self.cell_kind}); "
                             f"p(odd) = {probabilities[i, 1]:.3f}", fontsize=8)
            for ax in row:
                ax.set_yticks([])
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return path

    def get_config(self):
        return {
            **super().get_config(),
            "bits": self.bits,
            "units": self.units,
            "depth": self.depth,
            "cell": self.cell_kind,
            "tied": self.tied,
            "num_classes": self.num_classes,
            "class_names": self.class_names,
        }
