"""Bilinear sampling of images at real-valued points: the one sampler every layer shares.

Jaderberg et al. 2015, eq. (5):

    V_i^c = Σ_n Σ_m U_nm^c · max(0, 1 − |x_i − m|) · max(0, 1 − |y_i − n|)

The image is treated as zero outside its pixels, so points off the image read 0 and
points within one pixel of the border blend the edge with 0. Written with `keras.ops`
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


def zero_border(images):
    """`images` (B, H, W, C) with a one-pixel zero border: (B, H + 2, W + 2, C)."""
    return ops.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]])


def bilinear_sample(images, x, y, bordered=False):
    """Sample `images` (B, H, W, C) at pixel coordinates `x`, `y` of shape (B, ...).

    Returns (B, ..., C) in the images' dtype. Points outside the image read zeros. The
    sampler reads a copy of the image with a zero border; a caller that samples one image many
    times (RAM's glimpses) makes it once with `zero_border` and passes it with `bordered=True`
    (x, y still address the image inside the border), so that a read costs the same whatever
    the image size.
    """
    batch = ops.shape(images)[0]
    padded = images if bordered else zero_border(images)
    height, width, channels = padded.shape[1], padded.shape[2], padded.shape[3]
    if height is not None and width is not None:
        height, width = height - 2, width - 2
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

    # The one-pixel zero border turns "outside the image" into an ordinary gather.
    pw, ph = width + 2, height + 2
    x = ops.clip(x + 1.0, 0.0, pw - 1.0)
    y = ops.clip(y + 1.0, 0.0, ph - 1.0)
    x0 = ops.floor(x)
    y0 = ops.floor(y)
    wx1 = x - x0
    wy1 = y - y0
    wx0 = 1.0 - wx1
    wy0 = 1.0 - wy1
    x0 = ops.cast(x0, "int32")
    y0 = ops.cast(y0, "int32")
    x1 = ops.minimum(x0 + 1, pw - 1)
    y1 = ops.minimum(y0 + 1, ph - 1)

    flat = ops.reshape(padded, (-1, channels))
    base = ops.expand_dims(ops.arange(batch, dtype="int32") * (ph * pw), 1)

    def gather(yi, xi):
        return ops.take(flat, base + yi * pw + xi, axis=0)

    def weight(wy, wx):
        return ops.expand_dims(ops.cast(wy * wx, images.dtype), -1)

    out = (
        gather(y0, x0) * weight(wy0, wx0)
        + gather(y0, x1) * weight(wy0, wx1)
        + gather(y1, x0) * weight(wy1, wx0)
        + gather(y1, x1) * weight(wy1, wx1)
    )
    return ops.reshape(out, (batch, *point_shape, channels))
