"""RAM's retina and glimpse network (Mnih et al. 2014).

Glimpse sensor ρ(x, l): k square patches centred on the location l ∈ [−1, 1]² ((0, 0) is the
image centre, ±1 its edges, as in `layers.sampler`); patch s has side g·2^s pixels, resized to
g×g. The image is first average-pooled into a pyramid (level s: 2^s × 2^s block means, zero
padded), once per image; patch s is then g×g bilinear reads of level s. Where the patch lies
on level s's block grid the result is exactly the block means of the g·2^s-pixel patch;
elsewhere it blends neighbouring blocks. A glimpse costs k·g² reads whatever the image size:
only the pyramid, built once, grows with it. The levels are stored as one table, so a glimpse's
k·g² reads are one call of the shared bilinear sampler (`layers.sampler.bilinear_read`), a gather
per neighbour: points outside the image are zeros, gradients reach the image, and the sensor
exports to TFLite with builtin ops, about a hundred per glimpse.

Glimpse network: g = f_g(x, l) = ReLU(Linear(h_g) + Linear(h_l)),
h_g = ReLU(Linear(ρ(x, l))), h_l = ReLU(Linear(l)).
"""

import keras
import numpy as np
from keras import layers, ops

from layers.sampler import bilinear_read, normalized_to_pixel


def block_mean(images):
    """Means of the 2×2 blocks of `images` (B, H, W, C), H and W even: (B, H/2, W/2, C).

    Rows 2i and 2i+1 are added, then one (2C → C) matmul adds each horizontal pair of the sums and
    divides by 4: the same numbers as a 2×2 average pool, in less than half its LiteRT latency on
    one-channel images (AVERAGE_POOL_2D vectorises over channels), where the pyramid is the
    retina's only cost that grows with the image (`benchmarks/ram_cost_vs_size.py`).
    """
    height, width, channels = images.shape[1], images.shape[2], images.shape[3]
    top, bottom = ops.split(ops.reshape(images, (-1, height // 2, 2, width * channels)), 2, axis=2)
    pairs = ops.reshape(top + bottom, (-1, 2 * channels))  # (b·H/2·W/2, 2C): a block's two column sums
    average = ops.cast(ops.tile(ops.eye(channels), (2, 1)) / 4.0, images.dtype)  # (2C, C)
    return ops.reshape(ops.matmul(pairs, average), (-1, height // 2, width // 2, channels))


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

    def level_sizes(self, height, width):
        """(H_s, W_s) of pyramid levels s = 0 … k−1 of an image of `height` × `width` pixels."""
        sizes = [(height, width)]
        for _ in range(1, self.scales):
            h, w = sizes[-1]
            sizes.append(((h + h % 2) // 2, (w + w % 2) // 2))
        return sizes

    def pyramid(self, images):
        """(`images`, table): the table holds every level's pixels as rows, image by image, level by
        level (level s = `images` average-pooled by 2^s, zero-padded to even sizes), so that one
        read gathers a whole glimpse. Built once per image, it is the only part of a glimpse whose
        cost grows with the image; pass the pair to `call` to reuse it across glimpses."""
        levels = [images]
        for _ in range(1, self.scales):
            level = levels[-1]
            pad_h, pad_w = level.shape[1] % 2, level.shape[2] % 2
            if pad_h or pad_w:
                level = ops.pad(level, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]])
            levels.append(block_mean(level))
        rows = [ops.reshape(level, (-1, level.shape[1] * level.shape[2], level.shape[3])) for level in levels]
        table = rows[0] if len(rows) == 1 else ops.concatenate(rows, axis=1)
        return images, ops.reshape(table, (-1, images.shape[3]))

    def call(self, images, locations):
        """`images` (B, H, W, C), or the pair `pyramid(images)` to reuse it across glimpses."""
        if isinstance(images, (list, tuple)):
            if len(images) != 2:
                raise ValueError(f"expected images or the pair pyramid(images); got a sequence of {len(images)}")
            images, table = images
        else:
            images, table = self.pyramid(images)
        if locations.shape[-1] != 2:
            raise ValueError(f"locations must be (batch, 2) as (x, y) in [-1, 1]; got shape {locations.shape}")
        batch, height, width = ops.shape(locations)[0], images.shape[1], images.shape[2]
        sizes = np.array(self.level_sizes(height, width))  # (k, 2)
        g2 = self.size * self.size
        locations = ops.cast(locations, "float32")  # geometry in float32, also under mixed precision
        cx = ops.reshape(normalized_to_pixel(locations[:, 0], width), (-1, 1, 1, 1))
        cy = ops.reshape(normalized_to_pixel(locations[:, 1], height), (-1, 1, 1, 1))
        offsets = np.arange(self.size, dtype="float32") - (self.size - 1) / 2.0
        dx, dy = np.meshgrid(offsets, offsets, indexing="xy")
        factor = (2.0 ** np.arange(self.scales, dtype="float32")).reshape(-1, 1, 1)
        # Pixel p of level s is the block mean centred at p·2^s + (2^s − 1)/2 in the image.
        x = ops.reshape((cx - (factor - 1) / 2) / factor + dx, (-1, self.scales * g2))
        y = ops.reshape((cy - (factor - 1) / 2) / factor + dy, (-1, self.scales * g2))
        # Row of level s's pixel (0, 0) for image b: b · Σ H_s W_s + Σ_{r<s} H_r W_r.
        areas = sizes[:, 0] * sizes[:, 1]
        level_first = np.repeat(np.cumsum(areas) - areas, g2).astype("int32")
        first = ops.expand_dims(ops.arange(batch, dtype="int32") * int(areas.sum()), 1) + level_first
        patches = bilinear_read(table, first, np.repeat(sizes[:, 0], g2), np.repeat(sizes[:, 1], g2), x, y)
        return ops.reshape(patches, (-1, self.scales, self.size, self.size, images.shape[3]))

    def compute_output_shape(self, images_shape, locations_shape=None):
        if isinstance(images_shape[0], (list, tuple)):  # the shapes of a pyramid (a shape itself may be a list)
            images_shape = images_shape[0]
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
        """`images` (B, H, W, C) or its pyramid (`self.sensor.pyramid(images)`, reused across glimpses)."""
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
