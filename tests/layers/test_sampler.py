"""The shared bilinear sampler, against SciPy and hand-computed values, on the active backend."""

import numpy as np
from keras import ops
from scipy import ndimage

from layers.sampler import bilinear_sample, normalized_to_pixel
from tests.helpers import gradient


def sample(images, x, y):
    return np.asarray(bilinear_sample(ops.convert_to_tensor(images), ops.convert_to_tensor(x), ops.convert_to_tensor(y)))


def test_matches_scipy_map_coordinates_including_outside_points():
    rng = np.random.default_rng(0)
    images = rng.random((2, 7, 9, 3)).astype("float32")
    x = rng.uniform(-3, 11, (2, 5, 4)).astype("float32")
    y = rng.uniform(-3, 9, (2, 5, 4)).astype("float32")
    # SciPy's "grid-constant" mode interpolates against zeros outside, as the sampler does.
    expected = np.stack(
        [
            np.stack(
                [
                    ndimage.map_coordinates(images[b, :, :, c], [y[b].ravel(), x[b].ravel()], order=1,
                                            mode="grid-constant", cval=0.0).reshape(5, 4)
                    for c in range(3)
                ],
                -1,
            )
            for b in range(2)
        ]
    )
    np.testing.assert_allclose(sample(images, x, y), expected, atol=1e-5)


def test_integer_points_read_pixels_and_half_points_average():
    images = np.arange(12, dtype="float32").reshape(1, 3, 4, 1)
    x = np.array([[0.0, 3.0, 1.5, 0.5]], "float32")
    y = np.array([[0.0, 2.0, 1.0, 0.5]], "float32")
    # (0,0)=0, (2,3)=11, between (1,1)=5 and (1,2)=6 -> 5.5, centre of 0,1,4,5 -> 2.5
    np.testing.assert_allclose(sample(images, x, y)[0, :, 0], [0.0, 11.0, 5.5, 2.5], atol=1e-6)


def test_far_outside_reads_zero_and_border_blends_with_zero():
    images = np.ones((1, 4, 4, 1), "float32")
    x = np.array([[-5.0, 100.0, -0.5, 3.25]], "float32")
    y = np.array([[1.0, 1.0, 1.0, 1.0]], "float32")
    np.testing.assert_allclose(sample(images, x, y)[0, :, 0], [0.0, 0.0, 0.5, 0.75], atol=1e-6)


def test_normalized_coordinates_are_pixel_edges():
    assert normalized_to_pixel(-1.0, 10) == -0.5
    assert normalized_to_pixel(1.0, 10) == 9.5
    assert normalized_to_pixel(0.0, 10) == 4.5


def test_gradient_flows_to_points_and_image():
    images = np.random.default_rng(1).random((1, 6, 6, 1)).astype("float32")
    x0 = np.array([[2.3, 3.7]], "float32")
    y0 = np.array([[1.6, 4.2]], "float32")
    grads, _ = gradient(lambda xs: (ops.sum(bilinear_sample(xs[2], xs[0], xs[1])), None), [x0, y0, images])
    gx, gy, gimg = grads
    assert np.all(np.isfinite(gx)) and np.all(np.abs(gx) > 0)
    assert np.all(np.isfinite(gy)) and np.all(np.abs(gy) > 0)
    # Each point spreads weight 1 over its four neighbours.
    np.testing.assert_allclose(gimg.sum(), 2.0, atol=1e-5)
    # d/dx of bilinear interpolation at (x, y) equals the finite difference along x.
    eps = 1e-3
    numeric = (sample(images, x0 + eps, y0) - sample(images, x0 - eps, y0)).sum(axis=-1)[0] / (2 * eps)
    np.testing.assert_allclose(gx[0], numeric, rtol=1e-2, atol=1e-3)
