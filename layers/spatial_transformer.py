"""Spatial Transformer (Jaderberg et al. 2015): localisation net → grid generator → sampler.

A localisation network regresses the transform parameters θ = f_loc(U); the grid generator
maps every point (x_t, y_t) of the output grid to a source point; the shared bilinear
sampler (`layers.sampler`) reads U there. Coordinates are normalised to [−1, 1] (see
`layers.sampler`), so the output size is independent of the input size.

Transforms:
* ``"affine"`` (6 parameters, eq. 1):   (x_s, y_s)ᵀ = [[θ11 θ12 θ13], [θ21 θ22 θ23]] (x_t, y_t, 1)ᵀ
* ``"projective"`` (8 parameters):      (x', y', w')ᵀ = [[θ1 θ2 θ3], [θ4 θ5 θ6], [θ7 θ8 1]] (x_t, y_t, 1)ᵀ,
  x_s = x'/w', y_s = y'/w'.

The regression layer starts at the identity transform (zero kernel, identity bias), as the
paper does, so training begins from "look at the whole image".
"""

import keras
from keras import layers, ops

from layers.sampler import bilinear_sample, normalized_to_pixel

IDENTITY = {
    "affine": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
    "projective": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
}


def target_grid(height, width):
    """Normalised centres of an output grid of height × width: two arrays of shape (height, width)."""
    xs = (2.0 * ops.arange(width, dtype="float32") + 1.0) / width - 1.0
    ys = (2.0 * ops.arange(height, dtype="float32") + 1.0) / height - 1.0
    return ops.meshgrid(xs, ys, indexing="xy")


def transform_grid(theta, height, width, transform="affine"):
    """Source points T_θ(G) for an output grid of height × width.

    theta: (B, 6) for "affine", (B, 8) for "projective". Returns (B, height, width, 2),
    the last axis holding normalised (x_s, y_s).
    """
    if transform not in IDENTITY:
        raise ValueError(f"transform must be one of {sorted(IDENTITY)}; got {transform!r}")
    theta = ops.cast(theta, "float32")  # geometry in float32, also under mixed precision
    xt, yt = target_grid(height, width)
    xt = ops.reshape(xt, (1, height * width))
    yt = ops.reshape(yt, (1, height * width))
    t = [ops.expand_dims(theta[:, i], 1) for i in range(len(IDENTITY[transform]))]
    xs = t[0] * xt + t[1] * yt + t[2]
    ys = t[3] * xt + t[4] * yt + t[5]
    if transform == "projective":
        w = t[6] * xt + t[7] * yt + 1.0
        # Keep w away from 0 (a point mapped to infinity), preserving its sign.
        w = ops.where(ops.abs(w) < 1e-3, ops.where(w < 0, -1e-3, 1e-3), w)
        xs, ys = xs / w, ys / w
    grid = ops.stack([xs, ys], axis=-1)
    return ops.reshape(grid, (-1, height, width, 2))


def sample_grid(images, grid):
    """Read `images` (B, H, W, C) at normalised source points `grid` (B, h, w, 2)."""
    x = normalized_to_pixel(grid[..., 0], images.shape[2])
    y = normalized_to_pixel(grid[..., 1], images.shape[1])
    return bilinear_sample(images, x, y)


def default_localisation():
    """The localisation net used when none is given: a small CNN at 1/8 resolution (any input ≥ 8×8)."""
    return keras.Sequential(
        [
            layers.MaxPooling2D(2),
            layers.Conv2D(20, 5, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(20, 5, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(50, activation="relu"),
        ],
        name="localisation",
    )


@keras.saving.register_keras_serializable(package="attention_zoo")
class SpatialTransformer(layers.Layer):
    """V = sampler(U, T_θ(G)) with θ = f_loc(U).

    Args:
        output_size: (height, width) of the transformed output, independent of the input size.
        transform: "affine" or "projective".
        localisation: a Keras layer mapping images to features (flattened before the
            regression layer); defaults to `default_localisation()`.
        return_grid: also return the sampling grid (B, h, w, 2) of normalised source points.
    """

    def __init__(self, output_size, transform="affine", localisation=None, return_grid=False, **kwargs):
        super().__init__(**kwargs)
        if transform not in IDENTITY:
            raise ValueError(f"transform must be one of {sorted(IDENTITY)}; got {transform!r}")
        self.output_size = tuple(int(s) for s in output_size)
        if len(self.output_size) != 2 or min(self.output_size) < 1:
            raise ValueError(f"output_size must be (height, width) of positive ints; got {output_size!r}")
        self.transform = transform
        self.return_grid = bool(return_grid)
        self.localisation = localisation if localisation is not None else default_localisation()
        self.flatten = layers.Flatten()
        self.regressor = layers.Dense(
            len(IDENTITY[transform]),
            kernel_initializer="zeros",
            bias_initializer=keras.initializers.Constant(IDENTITY[transform]),
            name="theta",
        )

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"SpatialTransformer expects images (batch, height, width, channels); got shape {input_shape}")
        self.localisation.build(input_shape)
        features = self.localisation.compute_output_shape(input_shape)
        self.flatten.build(features)
        self.regressor.build(self.flatten.compute_output_shape(features))

    def call(self, images):
        theta = self.regressor(self.flatten(self.localisation(images)))
        grid = transform_grid(theta, *self.output_size, transform=self.transform)
        outputs = sample_grid(images, grid)
        return (outputs, grid) if self.return_grid else outputs

    def compute_output_shape(self, input_shape):
        out = (input_shape[0], *self.output_size, input_shape[3])
        return (out, (input_shape[0], *self.output_size, 2)) if self.return_grid else out

    def get_config(self):
        return {
            **super().get_config(),
            "output_size": self.output_size,
            "transform": self.transform,
            "localisation": keras.saving.serialize_keras_object(self.localisation),
            "return_grid": self.return_grid,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["localisation"] = keras.saving.deserialize_keras_object(config["localisation"])
        return cls(**config)
