"""SpatialTransformer: grid geometry, identity start, projective transform, serialisation."""

import keras
import numpy as np
import pytest
from keras import ops

from layers import SpatialTransformer, transform_grid
from layers.spatial_transformer import sample_grid


def rand_images(shape=(3, 20, 24, 2), seed=0):
    return np.random.default_rng(seed).random(shape).astype("float32")


def test_starts_at_identity_and_reproduces_the_input():
    images = rand_images()
    for transform in ("affine", "projective"):
        out = np.asarray(SpatialTransformer((20, 24), transform=transform)(images))
        np.testing.assert_allclose(out, images, atol=1e-5)


def test_output_size_is_independent_of_input_size():
    layer = SpatialTransformer((10, 12))
    for shape in [(2, 32, 32, 1), (2, 64, 48, 1)]:
        # a fresh layer per input size: the localisation net's dense layer depends on it
        assert SpatialTransformer((10, 12))(rand_images(shape)).shape == (2, 10, 12, 1)
    assert layer.compute_output_shape((None, 40, 40, 3)) == (None, 10, 12, 3)


def test_affine_grid_zoom_and_translation():
    # Half scale, shifted right by 0.5: the output shows the image's right-centre region.
    theta = np.array([[0.5, 0.0, 0.5, 0.0, 0.5, 0.0]], "float32")
    grid = np.asarray(transform_grid(ops.convert_to_tensor(theta), 2, 2))
    xt = np.array([-0.5, 0.5])  # normalised centres of a 2-pixel axis
    np.testing.assert_allclose(grid[0, 0, :, 0], 0.5 * xt + 0.5, atol=1e-6)
    np.testing.assert_allclose(grid[0, :, 0, 1], 0.5 * xt, atol=1e-6)


def test_rotation_by_90_degrees_matches_numpy_rot90():
    images = rand_images((1, 8, 8, 1))
    # Source = R(+90°) · target: x_s = -y_t, y_s = x_t, i.e. out[r, c] = in[c, N-1-r], numpy rot90 with k=1.
    theta = np.array([[0.0, -1.0, 0.0, 1.0, 0.0, 0.0]], "float32")
    grid = transform_grid(ops.convert_to_tensor(theta), 8, 8)
    out = np.asarray(sample_grid(ops.convert_to_tensor(images), grid))
    np.testing.assert_allclose(out[0, ..., 0], np.rot90(images[0, ..., 0], k=1), atol=1e-5)


def test_projective_grid_divides_by_w():
    theta = np.array([[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.5, 0.0]], "float32")
    grid = np.asarray(transform_grid(ops.convert_to_tensor(theta), 1, 2, transform="projective"))
    xt = np.array([-0.5, 0.5])
    np.testing.assert_allclose(grid[0, 0, :, 0], xt / (0.5 * xt + 1.0), atol=1e-6)


def test_return_grid_and_bad_arguments():
    out, grid = SpatialTransformer((5, 6), return_grid=True)(rand_images())
    assert out.shape == (3, 5, 6, 2) and grid.shape == (3, 5, 6, 2)
    with pytest.raises(ValueError, match="transform must be one of"):
        SpatialTransformer((5, 5), transform="tps")
    with pytest.raises(ValueError, match="output_size"):
        SpatialTransformer((5,))


def test_custom_localisation_and_keras_file_round_trip(tmp_path):
    loc = keras.Sequential([keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(8, activation="tanh")])
    inputs = keras.Input((20, 24, 2))
    model = keras.Model(inputs, SpatialTransformer((10, 10), transform="projective", localisation=loc)(inputs))
    # Move away from the identity so the round trip compares a non-trivial transform.
    model.layers[-1].regressor.kernel.assign(np.random.default_rng(2).normal(0, 0.1, (8, 8)).astype("float32"))
    path = tmp_path / "st.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    images = rand_images()
    np.testing.assert_allclose(np.asarray(loaded(images)), np.asarray(model(images)), atol=1e-6)
