"""Glimpse sensor geometry against hand-computed crops, out-of-image reads, the glimpse network."""

import keras
import numpy as np
import pytest

from layers.glimpse import GlimpseNetwork, GlimpseSensor

IMAGE = np.arange(100, dtype="float32").reshape(1, 10, 10, 1)


def sense(size, scales, location, image=IMAGE):
    return np.asarray(GlimpseSensor(size, scales)(image, np.array([location], "float32")))[0]


def test_centre_patch_is_the_centre_crop_and_coarser_scales_are_block_means():
    patches = sense(4, 2, [0.0, 0.0])
    assert patches.shape == (2, 4, 4, 1)
    np.testing.assert_array_equal(patches[0, ..., 0], IMAGE[0, 3:7, 3:7, 0])
    # Scale 1 covers 8×8 pixels, each output pixel the mean of a 2×2 block.
    np.testing.assert_allclose(patches[1, ..., 0], IMAGE[0, 1:9, 1:9, 0].reshape(4, 2, 4, 2).mean((1, 3)))


def test_off_centre_location_in_pixels():
    # x = -0.4 → pixel 2.5, y = 0.2 → pixel 5.5: the 2×2 patch covers columns 2..3, rows 5..6.
    patch = sense(2, 1, [-0.4, 0.2])[0, ..., 0]
    np.testing.assert_array_equal(patch, IMAGE[0, 5:7, 2:4, 0])


def test_locations_outside_the_image_read_zeros():
    corner = sense(4, 1, [1.0, 1.0])[0, ..., 0]
    np.testing.assert_array_equal(corner, [[88, 89, 0, 0], [98, 99, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    assert np.all(sense(4, 2, [3.0, -3.0]) == 0)


def test_cost_does_not_depend_on_the_image_size():
    small = GlimpseSensor(6, 3)(np.ones((2, 60, 60, 1), "float32"), np.zeros((2, 2), "float32"))
    large = GlimpseSensor(6, 3)(np.ones((2, 400, 400, 1), "float32"), np.zeros((2, 2), "float32"))
    assert small.shape == large.shape == (2, 3, 6, 6, 1)


def test_bad_arguments():
    with pytest.raises(ValueError, match="must be positive"):
        GlimpseSensor(0, 1)
    with pytest.raises(ValueError, match=r"locations must be \(batch, 2\)"):
        GlimpseSensor(4, 1)(IMAGE, np.zeros((1, 3), "float32"))


def test_glimpse_network_shapes_and_round_trip(tmp_path):
    images = keras.Input((10, 10, 1))
    locations = keras.Input((2,))
    outputs = GlimpseNetwork(4, 2, 8, 8, 16)(images, locations)
    model = keras.Model([images, locations], outputs)
    x, l = np.random.default_rng(0).random((3, 10, 10, 1)).astype("float32"), np.zeros((3, 2), "float32")
    assert model([x, l]).shape == (3, 16)
    model.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras", safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded([x, l])), np.asarray(model([x, l])), atol=1e-6)
