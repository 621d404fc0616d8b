"""RAM's retina and glimpse network (Mnih et al. 2014).

Glimpse sensor ρ(x, l): k square patches centred on the location l ∈ [−1, 1]² ((0, 0) is the
image centre, ±1 its edges, as in `layers.sampler`); patch s has side g·2^s pixels and is
reduced to g×g by averaging 2^s × 2^s blocks. Patches are read with the shared bilinear
sampler, so points outside the image are zeros, gradients reach the image, and the sensor
exports to TFLite with builtin ops. Its cost depends on g and k, never on the image size.

Glimpse network: g = f_g(x, l) = ReLU(Linear(h_g) + Linear(h_l)),
h_g = ReLU(Linear(ρ(x, l))), h_l = ReLU(Linear(l)).
"""

import keras
from keras import layers, ops

from layers.sampler import bilinear_sample, normalized_to_pixel


@keras.saving.register_keras_serializable(package="attention_zoo")
class GlimpseSensor(layers.Layer):
    """ρ(x, l): (images (B, H, W, C), locations (B, 2) as (x, y)) → patches (B, k, g, g, C).

    Args:
        size: g, the side of every returned patch in pixels.
        scales: k, the number of patches; patch s covers g·2^s pixels of the image.
    """

    def __init__(self, size=8, scales=1, **kwargs):
        super().__init__(**kwargs)
        self.size, self.scales = int(size), int(scales)
        if self.size < 1 or self.scales < 1:
            raise ValueError(f"size and scales must be positive; got size={size}, scales={scales}")

    def call(self, images, locations):
        height, width = images.shape[1], images.shape[2]
        if locations.shape[-1] != 2:
            raise ValueError(f"locations must be (batch, 2) as (x, y) in [-1, 1]; got shape {locations.shape}")
        cx = ops.reshape(normalized_to_pixel(locations[:, 0], width), (-1, 1, 1))
        cy = ops.reshape(normalized_to_pixel(locations[:, 1], height), (-1, 1, 1))
        patches = []
        for s in range(self.scales):
            factor = 2**s
            side = self.size * factor
            offsets = ops.arange(side, dtype="float32") - (side - 1) / 2.0
            dx, dy = ops.meshgrid(offsets, offsets, indexing="xy")
            patch = bilinear_sample(images, cx + dx[None], cy + dy[None])  # (B, side, side, C)
            if factor > 1:  # average factor×factor blocks: the patch resized to g×g
                channels = images.shape[3]
                patch = ops.reshape(patch, (-1, self.size, factor, self.size, factor, channels))
                patch = ops.mean(patch, axis=(2, 4))
            patches.append(patch)
        return ops.stack(patches, axis=1)

    def compute_output_shape(self, images_shape, locations_shape=None):
        return (images_shape[0], self.scales, self.size, self.size, images_shape[3])

    def get_config(self):
        return {**super().get_config(), "size": self.size, "scales": self.scales}


@keras.saving.register_keras_serializable(package="attention_zoo")
class GlimpseNetwork(layers.Layer):
    """g = ReLU(Linear(ReLU(Linear(ρ(x, l)))) + Linear(ReLU(Linear(l)))).

    Args:
        size, scales: the sensor's g and k.
        glimpse_units, location_units: widths of h_g and h_l (paper: 128 each).
        units: width of the glimpse feature g (paper: 256).
    """

    def __init__(self, size=8, scales=1, glimpse_units=128, location_units=128, units=256, **kwargs):
        super().__init__(**kwargs)
        self.sensor = GlimpseSensor(size, scales, name="sensor")
        self.glimpse_units, self.location_units, self.units = int(glimpse_units), int(location_units), int(units)
        self.flatten = layers.Flatten()
        self.h_g = layers.Dense(self.glimpse_units, activation="relu", name="h_g")
        self.h_l = layers.Dense(self.location_units, activation="relu", name="h_l")
        self.from_glimpse = layers.Dense(self.units, name="from_glimpse")
        self.from_location = layers.Dense(self.units, use_bias=False, name="from_location")

    def build(self, images_shape, locations_shape=(None, 2)):
        sensed = self.sensor.compute_output_shape(images_shape)
        self.h_g.build((None, sensed[1] * sensed[2] * sensed[3] * sensed[4]))
        self.h_l.build((None, 2))
        self.from_glimpse.build((None, self.glimpse_units))
        self.from_location.build((None, self.location_units))

    def call(self, images, locations, return_patches=False):
        patches = self.sensor(images, locations)
        features = ops.relu(self.from_glimpse(self.h_g(self.flatten(patches))) + self.from_location(self.h_l(locations)))
        return (features, patches) if return_patches else features

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.sensor.size,
            "scales": self.sensor.scales,
            "glimpse_units": self.glimpse_units,
            "location_units": self.location_units,
            "units": self.units,
        }
