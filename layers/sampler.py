"""Bilinear sampling of images at real-valued points: the one sampler every layer shares.

Jaderberg et al. 2015, eq. (5):

    V_i^c = Σ_n Σ_m U_nm^c · max(0, 1 − |x_i − m|) · max(0, 1 − |y_i − n|)

The image is treated as zero outside its pixels, so points off the image read 0 and
points within one pixel of the border blend the edge with 0 (neighbours outside the image get
weight 0; no padded copy of the image is made). Written with `keras.ops` gathers only:
differentiable with respect to the image and to the sampling points, identical on the TensorFlow
and JAX backends, and exported to TFLite as builtin GATHER / arithmetic ops.

Coordinate conventions
----------------------
* pixel coordinates: x = 0 is the centre of the first column, x = W − 1 of the last.
* normalised coordinates: x = −1 is the left edge of the image and x = +1 the right edge
  (pixel centres at (2m + 1)/W − 1; PyTorch's ``align_corners=False``); (0, 0) is the
  centre of the image. `normalized_to_pixel` converts.
"""

import numpy as np
from keras import ops


def normalized_to_pixel(u, size):
    """Map normalised coordinates u ∈ [−1, 1] to pixel coordinates of an axis of `size` pixels."""
    return ((u + 1.0) * size - 1.0) / 2.0


def bilinear_sample(images, x, y):
    """Sample `images` (B, H, W, C) at pixel coordinates `x`, `y` of shape (B, ...).

    Returns (B, ..., C) in the images' dtype. Points outside the image read zeros (`bilinear_read`).
    A read costs the same whatever the image size (no padded copy of the image is made), so a
    layer that samples one image many times pays for the image only once.
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
    first = ops.expand_dims(ops.arange(batch, dtype="int32") * (height * width), 1)  # row of image b's pixel (0, 0)
    out = bilinear_read(ops.reshape(images, (-1, channels)), first, height, width,
                        ops.reshape(x, (batch, -1)), ops.reshape(y, (batch, -1)))
    return ops.reshape(out, (batch, *point_shape, channels))


def bilinear_read(table, first, height, width, x, y):
    """Bilinear reads of images stored as the rows of `table` (N, C), one pixel a row in row-major
    order: the point (x, y) of `x`, `y` (B, P), in pixel coordinates, reads the image of `height` ×
    `width` pixels whose pixel (0, 0) is row `first` (`first` a tensor, `height` and `width` ints
    or arrays of ints, each broadcastable to (B, P): the points of one call may read images of
    different sizes, as a glimpse reads every level of its pyramid). Returns (B, P, C).

    Each of a point's four neighbours is read at its index clamped into its image and weighted by 0
    where it lies outside, so the image is zero outside its pixels.
    """
    height, width = np.asarray(height, "int32"), np.asarray(width, "int32")
    # Coordinates and weights stay float32 under mixed precision: float16 would put the points of
    # a 100-pixel image on a 1/16-pixel lattice.
    x, y = ops.cast(x, "float32"), ops.cast(y, "float32")
    # Beyond one pixel outside the image every neighbour reads 0: clipping there keeps the int32
    # indices small and leaves the value (0) and its gradient (0) unchanged.
    x = ops.minimum(ops.maximum(x, -1.0), width.astype("float32"))
    y = ops.minimum(ops.maximum(y, -1.0), height.astype("float32"))
    x0, y0 = ops.floor(x), ops.floor(y)
    # Indices in int32: exact also in a fully int8-quantized TFLite file, where float arithmetic on
    # pixel coordinates would be rounded to the coordinates' quantization step.
    x0i, y0i = ops.cast(x0, "int32"), ops.cast(y0, "int32")
    x1i, y1i = x0i + 1, y0i + 1
    xc0, xc1 = ops.clip(x0i, 0, width - 1), ops.clip(x1i, 0, width - 1)
    yc0, yc1 = ops.clip(y0i, 0, height - 1), ops.clip(y1i, 0, height - 1)

    def weight(w, clamped, i):  # w, or 0 where pixel index i lies outside the image
        return w * ops.cast(ops.equal(clamped, i), "float32")

    fx, fy = x - x0, y - y0
    wx0, wx1 = weight(1.0 - fx, xc0, x0i), weight(fx, xc1, x1i)
    wy0, wy1 = weight(1.0 - fy, yc0, y0i), weight(fy, yc1, y1i)
    row0, row1 = first + yc0 * width, first + yc1 * width

    def neighbour(row, xc, w):  # one gather a neighbour: faster in LiteRT than one stacked gather
        return ops.take(table, row + xc, axis=0) * ops.expand_dims(ops.cast(w, table.dtype), -1)

    # Summed one neighbour after the other: (x0, y0), (x0 + 1, y0), (x0, y0 + 1), (x0 + 1, y0 + 1).
    return (neighbour(row0, xc0, wy0 * wx0) + neighbour(row0, xc1, wy0 * wx1) + neighbour(row1, xc0, wy1 * wx0)
            + neighbour(row1, xc1, wy1 * wx1))
