"""Plain CNN baseline: two conv layers with max pooling, one hidden dense layer.

The comparison model of the RAM and STN papers ("Convolutional, 2 layers"). Its cost grows
with the image area, which is what the attention models avoid; with `downsample` > 1 an
average-pooling front end shrinks the image first, which sets its cost (RAM's equal-compute
baseline on large images).
"""

import keras
from keras import layers

from zoo.models.base import ImageClassifier
from zoo.registry import register_model


def conv_classifier(num_classes, filters=(32, 64), kernel_size=5, units=128, dropout=0.25, pool_size=2,
                    name="classifier", downsample=1):
    """[average-pool(downsample) →] conv(f1, k) → pool → conv(f2, k) → pool → dense(units) → dropout → softmax;
    the front end only when `downsample` > 1, so the default network is the plain one."""
    front = [layers.AveragePooling2D(downsample)] if downsample > 1 else []
    return keras.Sequential(
        [
            *front,
            layers.Conv2D(filters[0], kernel_size, activation="relu"),
            layers.MaxPooling2D(pool_size),
            layers.Conv2D(filters[1], kernel_size, activation="relu"),
            layers.MaxPooling2D(pool_size),
            layers.Flatten(),
            layers.Dense(units, activation="relu"),
            layers.Dropout(dropout),
            layers.Dense(num_classes, activation="softmax"),
        ],
        name=name,
    )


@register_model(
    "cnn",
    task="classifier",
    summary="Plain 2-layer CNN baseline, trained by the same recipes as the attention models",
    paper="Baseline of Mnih et al. 2014 and Jaderberg et al. 2015",
    default_weights="rts_fashion_mnist",
)
@keras.saving.register_keras_serializable(package="attention_zoo")
class ConvNet(ImageClassifier):
    """p(y | x) = softmax(W · ReLU(dense(pool(conv(pool(conv(x'))))))), x' = x average-pooled by
    `downsample` (x itself at the default 1)."""

    def __init__(
        self,
        image_shape=(42, 42, 1),
        num_classes=10,
        filters=(32, 64),
        kernel_size=5,
        units=128,
        dropout=0.25,
        class_names=None,
        pool_size=2,
        downsample=1,
        **kwargs,
    ):
        super().__init__(image_shape, num_classes, class_names, **kwargs)
        self.filters = tuple(int(f) for f in filters)
        if len(self.filters) != 2:
            raise ValueError(f"filters must give the two conv layers' widths; got {filters}")
        self.kernel_size = int(kernel_size)
        self.units = int(units)
        self.dropout = float(dropout)
        self.pool_size = int(pool_size)
        self.downsample = int(downsample)
        if self.downsample < 1:
            raise ValueError(f"downsample must be a pooling factor ≥ 1 (1: none); got {downsample}")
        self.classifier = conv_classifier(num_classes, self.filters, self.kernel_size, self.units, self.dropout,
                                          self.pool_size, downsample=self.downsample)

    def call(self, images, training=None, return_attention=False):
        probabilities = self.classifier(self.check_images(images), training=training)
        return (probabilities, {}) if return_attention else probabilities

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "units": self.units,
            "dropout": self.dropout,
            "pool_size": self.pool_size,
            "downsample": self.downsample,
        }
