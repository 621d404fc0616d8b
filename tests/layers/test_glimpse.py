"""Glimpse sensor geometry against hand-computed crops, out-of-image reads, the glimpse network."""

import keras
import numpy as np
import pytest

from layers.glimpse import GlimpseNetwork, GlimpseSensor, block_mean

IMAGE = np.arange(100, dtype="float32").reshape(1, 10, 10, 1)


def sense(size, scales, location, image=IMAGE):
    return np.asarray(GlimpseSensor(size, scales)(image, np.array([location], "float32")))[0]


def test_finest_patch_is_the_crop_and_coarser_scales_are_block_means():
    # x = y = 0.6 → pixel 7.5: the 4×4 patch covers pixels 6..9, the 8×8 one 4..11, the 16×16 one
    # 0..15, each on its level's block grid; pixels from 10 on are outside the image (zeros).
    patches = sense(4, 3, [0.6, 0.6])
    assert patches.shape == (3, 4, 4, 1)
    padded = np.pad(IMAGE[0, :, :, 0], ((0, 6), (0, 6)))
    np.testing.assert_array_equal(patches[0, ..., 0], padded[6:10, 6:10])
    np.testing.assert_allclose(patches[1, ..., 0], padded[4:12, 4:12].reshape(4, 2, 4, 2).mean((1, 3)), atol=1e-4)
    np.testing.assert_allclose(patches[2, ..., 0], padded[0:16, 0:16].reshape(4, 4, 4, 4).mean((1, 3)), atol=1e-4)


@pytest.mark.parametrize("channels", [1, 3])
def test_block_mean_is_the_mean_of_each_2x2_block(channels):
    images = np.random.default_rng(channels).random((2, 6, 8, channels)).astype("float32")
    expected = images.reshape(2, 3, 2, 4, 2, channels).mean((2, 4))
    np.testing.assert_allclose(np.asarray(block_mean(images)), expected, atol=1e-6)


def test_off_grid_coarse_patches_blend_neighbouring_blocks():
    # At the centre (pixel 4.5) the 8×8 patch is off level 1's block grid by one pixel: each read
    # is halfway between two block means in x and in y.
    coarse = sense(4, 2, [0.0, 0.0])[1, ..., 0]
    blocks = IMAGE[0, :, :, 0].reshape(5, 2, 5, 2).mean((1, 3))  # level 1 of the pyramid
    expected = 0.25 * (blocks[0:4, 0:4] + blocks[0:4, 1:5] + blocks[1:5, 0:4] + blocks[1:5, 1:5])
    np.testing.assert_allclose(coarse, expected, atol=1e-4)


def test_a_reused_pyramid_gives_the_same_patches():
    sensor = GlimpseSensor(4, 3)
    location = np.array([[0.3, -0.6]], "float32")
    np.testing.assert_allclose(np.asarray(sensor(sensor.pyramid(IMAGE), location)), np.asarray(sensor(IMAGE, location)))


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


def reads_tflite(glimpses, side):
    """TFLite bytes of `glimpses` reads of one side×side image by RAM's sensor (12-pixel patches at 4
    scales), the pyramid built once; locations are inputs, so the converter cannot fold their arithmetic."""
    import tensorflow as tf

    sensor = GlimpseSensor(12, 4)

    @tf.function(input_signature=[tf.TensorSpec((1, side, side, 1), tf.float32),
                                  tf.TensorSpec((glimpses, 1, 2), tf.float32)])
    def read(images, locations):
        pyramid = sensor.pyramid(images)
        return tf.stack([sensor(pyramid, locations[t]) for t in range(glimpses)])

    return tf.lite.TFLiteConverter.from_concrete_functions([read.get_concrete_function()], tf.Module()).convert()


def image_sized_ops(glimpses, side=400):
    """The ops (other than RESHAPE, a view) of `reads_tflite` that write a tensor of at least a
    quarter of the image (pyramid level 1)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=reads_tflite(glimpses, side))
    sizes = {t["index"]: int(np.prod(t["shape"])) for t in interpreter.get_tensor_details()}
    return sorted(op["op_name"] for op in interpreter._get_ops_details()
                  if op["op_name"] != "RESHAPE" and max(sizes[i] for i in op["outputs"]) >= side * side // 4)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TFLite export runs on TensorFlow")
def test_only_the_pyramid_touches_the_whole_image():
    """Reads gather their points (out-of-image neighbours are weighted 0, not padded in): eight
    glimpses do no more image-sized work than one, and no image-sized PAD copies the image. Level 1
    of the pyramid is a row-pair SPLIT, ADD and a FULLY_CONNECTED, not LiteRT's AVERAGE_POOL_2D;
    one CONCATENATION stores the levels as the table every glimpse reads."""
    once = image_sized_ops(1)
    assert once == image_sized_ops(8) == ["ADD", "CONCATENATION", "FULLY_CONNECTED", "SPLIT"]


def glimpse_ops(glimpses, side=60):
    """{op type: count} of `reads_tflite`."""
    import collections

    from export.tflite import read_flatbuffer

    graph, op_type = read_flatbuffer(reads_tflite(glimpses, side))
    return collections.Counter(op_type(op) for op in graph.subgraphs[0].operators)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TFLite export runs on TensorFlow")
def test_a_glimpse_reads_all_its_scales_at_once():
    """All k scales of a glimpse read the pyramid's table together, a gather per neighbour: a glimpse
    adds 4 GATHERs and about a hundred ops to an unrolled file (4 scales read one by one were 370 ops
    and 16 GATHERs)."""
    one_more = glimpse_ops(3) - glimpse_ops(2)
    assert one_more["GATHER"] == 4
    assert sum(one_more.values()) <= 100


def test_bad_arguments():
    with pytest.raises(ValueError, match="must be positive"):
        GlimpseSensor(0, 1)
    with pytest.raises(ValueError, match=r"the pair pyramid\(images\)"):
        GlimpseSensor(4, 1)([IMAGE, IMAGE, IMAGE], np.zeros((1, 2), "float32"))
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
