"""Grid LSTM image classifier: a tied 3-LSTM over non-overlapping patches (Kalchbrenner, Danihelka
& Graves 2015, section 4.5), rows × columns × depth.

    o = [h^d; m^d] at the last block of `layers.GridLSTMPatches` (the one every patch reaches)
    p(y | x) = softmax(W_out o + b_out)
"""

import keras
from keras import layers

from layers.grid_lstm import GridLSTMPatches
from zoo.models.base import ImageClassifier
from zoo.registry import register_model


@register_model(
    "grid_lstm_image",
    task="classifier",
    summary="Grid LSTM image classifier: tied 3-LSTM over non-overlapping patches (rows × columns × depth)",
    paper="Kalchbrenner, Danihelka, Graves. Grid Long Short-Term Memory. ICLR 2016 (arXiv:1507.01526)",
    default_weights="mnist5k",
)
@keras.saving.register_keras_serializable(package="attention_zoo")
class GridLSTMImageClassifier(ImageClassifier):
    """p(y | x) for float32 images (batch, H, W, C) in [0, 1].

    Args:
        units: d of every block; depth: blocks along depth at every patch; patch_size: p.
        tied: one block W everywhere (the paper's tied 3-LSTM).
    """

    # The export runs one patch's blocks in a TFLite WHILE (`GridLSTMPatches.raster_loop`). Under int8 only
    # the matrix products are int8; the gates, splits, concatenations and the patch read stay float (int8
    # gates put 31 QUANTIZE/DEQUANTIZE ops in the loop), one scale per weight tensor. Measured on mnist5k:
    # 49 KiB, 0.34 of fp32, -0.10 points (`python benchmarks/int8_size.py --models grid_lstm_image`).
    int8_float_ops = ["LOGISTIC", "TANH", "SPLIT", "CONCATENATION", "SLICE"]
    int8_per_channel = False

    def __init__(self, image_shape=(28, 28, 1), num_classes=10, units=32, depth=2, patch_size=4, tied=True,
                 class_names=None, **kwargs):
        super().__init__(image_shape, num_classes, class_names, **kwargs)
        self.units, self.depth, self.patch_size, self.tied = int(units), int(depth), int(patch_size), bool(tied)
        if self.image_shape[0] % self.patch_size or self.image_shape[1] % self.patch_size:
            raise ValueError(f"patch_size {patch_size} must divide the image's height and width {self.image_shape[:2]}")
        self.grid = GridLSTMPatches(self.units, self.depth, self.patch_size, self.tied, name="grid")
        self.classifier = layers.Dense(self.num_classes, activation="softmax", name="classifier")

    def build(self, input_shape=None):
        self.grid.build((None, *self.image_shape))
        self.classifier.build((None, 2 * self.units))

    def call(self, images, training=None, unroll=True):
        return self.classifier(self.grid(self.check_images(images), unroll=unroll))

    def serving_signature(self):
        """`ImageClassifier`'s export inputs, with the blocks as one loop over the patches (`unroll=False`)."""
        inputs, _ = super().serving_signature()
        return inputs, lambda images: {"probabilities": self(images, training=False, unroll=False)}

    def get_config(self):
        return {**super().get_config(), "units": self.units, "depth": self.depth, "patch_size": self.patch_size,
                "tied": self.tied}
