"""DRAW's "differentiable RAM": Gaussian filterbank glimpses and an LSTM, trained by backprop
(Gregor, Danihelka, Graves, Rezende, Wierstra 2015, section 4.1).

For t = 1 … T:
    r_t = read(x, h_{t−1}) = γ_t · F_Y x F_Xᵀ          an N × N glimpse (layers.filterbank), h_0 = 0
    h_t = LSTM(r_t, h_{t−1})
p(y | x) = softmax(W h_T)

Unlike RAM, where the glimpse location is sampled and trained by REINFORCE, the filterbank's
centre, stride, width and intensity are differentiable functions of h_{t−1}: the whole model,
where it looks included, is trained by the cross-entropy alone. With h_0 = 0 the first glimpse
is placed by the attention head's bias; at initialisation (zero bias) it is centred on the
image with a stride that spans it, a coarse view of everything.
"""

import keras
from keras import layers, ops

from layers.filterbank import GaussianReader
from zoo.models.base import ImageClassifier
from zoo.registry import register_model


@register_model(
    "draw_classifier",
    task="classifier",
    summary="DRAW's differentiable RAM: Gaussian filterbank glimpses, LSTM, trained end to end by backprop",
    paper="Gregor, Danihelka, Graves, Rezende, Wierstra. DRAW: A Recurrent Neural Network For Image Generation. ICML 2015",
    default_weights="cluttered100_fashion_mnist",
)
@keras.saving.register_keras_serializable(package="attention_zoo")
class DrawClassifier(ImageClassifier):
    """Glimpse classifier. `call(images, return_attention=True)` also returns the glimpses
    (B, T, N, N, C) and the filterbank of each (centre (B, T, 2) in 1-based pixels (x, y),
    stride, sigma2, gamma (B, T)).

    Args:
        glimpses: T, the number of reads.
        read_size: N, the read is N × N (12 in the paper's cluttered experiment).
        units: LSTM units (256 in the paper).
    """

    # Full int8 keeps the LSTM's gates (LOGISTIC, TANH, SPLIT) and the filterbank read (UNPACK of the
    # attention head, BATCH_MATMUL, TRANSPOSE) in float beside the export's default float ops:
    # `python benchmarks/int8_debug.py draw_classifier` measured the reads at ~30 int8 steps of
    # RMSE each; with only the FULLY_CONNECTED layers in int8 the file holds (docs/deployment.md,
    # "Int8 that holds").
    int8_float_ops = ("LOGISTIC", "TANH", "SPLIT", "UNPACK", "BATCH_MATMUL", "TRANSPOSE")

    def __init__(self, image_shape=(100, 100, 1), num_classes=10, glimpses=8, read_size=12, units=256,
                 class_names=None, **kwargs):
        super().__init__(image_shape, num_classes, class_names, **kwargs)
        if int(glimpses) < 1 or int(read_size) < 1 or int(units) < 1:
            raise ValueError(f"glimpses, read_size and units must be ≥ 1; got {glimpses}, {read_size}, {units}")
        self.glimpses, self.read_size, self.units = int(glimpses), int(read_size), int(units)
        self.reader = GaussianReader(self.read_size, return_params=True, name="read")
        self.core = layers.LSTMCell(self.units, name="core")
        self.action = layers.Dense(self.num_classes, activation="softmax", name="action")

    def call(self, images, training=None, return_attention=False):
        images = self.check_images(images)
        batch = ops.shape(images)[0]
        state = [ops.zeros((batch, self.units)), ops.zeros((batch, self.units))]
        glimpses, params = [], []
        for _ in range(self.glimpses):
            glimpse, plot = self.reader(images, state[0])
            h, state = self.core(ops.reshape(glimpse, (batch, -1)), state, training=training)
            glimpses.append(glimpse)
            params.append(plot)
        probabilities = self.action(h)
        if not return_attention:
            return probabilities
        attention = {k: ops.stack([p[k] for p in params], axis=1) for k in params[0]}
        return probabilities, {**attention, "glimpses": ops.stack(glimpses, axis=1)}

    def picture(self, images, labels, path):
        """Each image with its read grids (numbered, first to last), then every glimpse (PNG)."""
        from zoo.pictures import read_picture

        return read_picture(self, images, labels, path)

    def get_config(self):
        return {**super().get_config(), "glimpses": self.glimpses, "read_size": self.read_size, "units": self.units}
