"""Bilinear sampling of images at real-valued points: the one sampler every layer shares.

Jaderberg et al. 2015, eq. (5):

    V_i^c = Σ_n Σ_m U_nm^c · max(0, 1 − |x_i − m|) · max(0, 1 − |y_i − n|)

The image is treated as zero outside its pixels, so points off the image read 0 and
points within one pixel of the border blend the edge with 0 (neighbours outside the image get
weight 0; no padded copy of the image is made). Written with `keras.ops`
gathers only: differentiable with respect to the image and to the sampling points,
identical on the TensorFlow and JAX backends, and exported to TFLite as builtin
GATHER / arithmetic ops.

Coordinate conventions
----------------------
* pixel coordinates: x = 0 is the centre of the first column, x = W − 1 of the last.
* normalised coordinates: x = −1 is the left edge of the image and x = +1 the right edge
  (pixel centres at (2m + 1)/W − 1; PyTorch's ``align_corners=False``); (0, 0) is the
  centre of the image. `normalized_to_pixel` converts.
"""

from keras import ops


def normalized_to_pixel(u, size):
    """Map normalised coordinates u ∈ [−1, 1] to pixel coordinates of an axis of `size` pixels."""
    return ((u + 1.0) * size - 1.0) / 2.0


def bilinear_sample(images, x, y):
    """Sample `images` (B, H, W, C) at pixel coordinates `x`, `y` of shape (B, ...).

    Returns (B, ..., C) in the images' dtype. Points outside the image read zeros: each of a
    point's four neighbours is gathered at its index clamped into the image and weighted by 0
    where it lies outside. A read costs the same whatever the image size (no padded copy of the
    image is made), so a layer that samples one image many times (RAM's glimpses) pays for the
    image only once.
    """
    batch = ops.shape(images)[0]
    height, width, channels = images.shape[1], images.shape[2], images.shape[3]
    if height is None or width is None or channels is None:
        raise ValueError(
            f"bilinear_sample needs static height, width and channels; got image shape {images.shape}"
        )
    point_shape = tuple(x.shape[1:])
    if None in point_shape:
        raise ValueError(f"bilinear_sample needs static point dimensions after the batch; got {x.shape}")
    # Coordinates and weights stay float32 under mixed precision: float16 would put the points of
    # a 100-pixel image on a 1/16-pixel lattice.
    x = ops.reshape(ops.cast(x, "float32"), (batch, -1))
    y = ops.reshape(ops.cast(y, "float32"), (batch, -1))
    # Beyond one pixel outside the image every neighbour reads 0: clipping there keeps the int32
    # indices small and leaves the value (0) and its gradient (0) unchanged.
    x = ops.clip(x, -1.0, float(width))
    y = ops.clip(y, -1.0, float(height))
    x0 = ops.floor(x)
    y0 = ops.floor(y)
    wx1 = x - x0
    wy1 = y - y0
    wx0 = 1.0 - wx1
    wy0 = 1.0 - wy1
    # Indices in int32 from here: exact also in a fully int8-quantized TFLite file, where float
    # arithmetic on pixel coordinates would be rounded to the coordinates' quantization step.
    x0 = ops.cast(x0, "int32")
    y0 = ops.cast(y0, "int32")

    def inside(i, size):  # 1 where pixel index i is in [0, size), else 0
        return ops.cast(ops.logical_and(ops.greater_equal(i, 0), ops.less(i, size)), "float32")

    flat = ops.reshape(images, (-1, channels))
    base = ops.expand_dims(ops.arange(batch, dtype="int32") * (height * width), 1)

    def corner(yi, wy, xi, wx):
        pixels = ops.take(flat, base + ops.clip(yi, 0, height - 1) * width + ops.clip(xi, 0, width - 1), axis=0)
        weight = wy * inside(yi, height) * wx * inside(xi, width)
        return pixels * ops.expand_dims(ops.cast(weight, images.dtype), -1)

    out = corner(y0, wy0, x0, wx0) + corner(y0, wy0, x0 + 1, wx1) + corner(y0 + 1, wy1, x0, wx0) + corner(
        y0 + 1, wy1, x0 + 1, wx1)
    return ops.reshape(out, (batch, *point_shape, channels))
