"""Issue 32, prepared: streamed cluttered data at 200 and 400 px (drawn per batch, reproducible, memory-flat),
the equal-compute CNN (RAM's multiply-accumulates through a pooled front end) and the recipes of both."""

import tracemalloc

import keras
import numpy as np
import pytest

from export.macs import keras_macs
from recipes import configs, data, evaluate, train
from recipes.data import variants
from zoo import cards, registry
from zoo import weights as store

NEW = configs.cost_vs_size_recipes()


def built(recipe):
    """The recipe's model, built on its image size."""
    model = registry.build(recipe.model, **train.model_config(recipe))
    model(keras.ops.zeros((1, *model.image_shape)))
    return model


# --- streamed data ---------------------------------------------------------------------------------


def test_big_variants_keep_the_clutter_density_of_100_px():
    assert [variants.VARIANTS[f"cluttered{size}"].fragments for size in (100, 200, 400)] == [0, 32, 128]
    assert variants.VARIANTS["cluttered400"].streamed and not variants.VARIANTS["cluttered100"].streamed
    assert data.info("cluttered400_fashion_mnist")["image_shape"] == (400, 400, 1)
    assert "128 8×8-px fragments" in data.info("cluttered400_mnist5k")["description"]


def test_a_batch_is_drawn_from_seed_epoch_and_index_alone():
    stream = data.fresh_draws("cluttered200_mnist5k", seed=2)
    assert isinstance(stream, data.Stream) and len(stream) == 4000
    images, labels = stream.batch(3, 5, 16)
    assert images.shape == (16, 200, 200, 1) and images.dtype == np.uint8 and labels.shape == (16,)
    again = data.fresh_draws("cluttered200_mnist5k", seed=2)
    again.batch(0, 0, 16)  # another epoch in between changes nothing
    np.testing.assert_array_equal(again.batch(3, 5, 16)[0], images)
    assert not np.array_equal(stream.batch(4, 5, 16)[0], images)  # the next epoch: new items, places and clutter
    assert not np.array_equal(stream.batch(3, 6, 16)[0], images)
    rows = data.epoch_order(4000, 2, 3)[80:96]
    np.testing.assert_array_equal(labels, data.load_arrays("mnist5k", "train")[1][rows])
    in_order = stream.batch(3, 0, 16, shuffle=False)[1]
    np.testing.assert_array_equal(in_order, data.load_arrays("mnist5k", "train")[1][:16])
    with pytest.raises(IndexError, match="past the end"):
        stream.batch(0, 250, 16)


def test_drawing_a_400_px_batch_allocates_only_that_batch():
    stream = data.fresh_draws("cluttered400_mnist5k")
    stream.batch(0, 0, 8)  # the base split loaded and cached
    tracemalloc.start()
    images, _ = stream.batch(0, 1, 32)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert images.nbytes == 32 * 400 * 400 and peak < 1.5 * images.nbytes, peak


def test_a_streamed_split_is_never_loaded_whole_but_walks_in_chunks_of_the_same_bytes():
    with pytest.raises(ValueError, match="stream them"):  # 9.6 GB; refused before anything is read
        data.load_arrays("cluttered400_mnist", "train")
    prefix, labels = data.load_arrays("cluttered400_mnist5k", "train", limit=1200)
    walked = list(data.chunks("cluttered400_mnist5k", "train", limit=1200))
    assert [len(x) for x, _ in walked] == [1000, 200]
    np.testing.assert_array_equal(np.concatenate([x for x, _ in walked]), prefix)
    np.testing.assert_array_equal(np.concatenate([y for _, y in walked]), labels)
    held = list(data.chunks("cluttered100_mnist5k", "test", limit=1500))  # a held dataset: slices of `load`
    np.testing.assert_array_equal(np.concatenate([x for x, _ in held]), data.load_arrays("cluttered100_mnist5k", "test", limit=1500)[0])


def test_item_boxes_at_400_px_frame_the_item():
    items = data.load_arrays("mnist5k", "test", limit=50)[0][..., 0]
    images = data.load_arrays("cluttered400_mnist5k", "test", limit=50)[0][..., 0]
    boxes = data.item_boxes("cluttered400_mnist5k", "test", limit=50)
    assert (boxes[:, 2:] - boxes[:, :2] == 28).all() and boxes.min() >= 0 and boxes.max() <= 400
    inside = np.stack([image[t:b, l:r] for image, (t, l, b, r) in zip(images, boxes)])
    assert (inside >= items).all()  # the item, with clutter on top (np.maximum) where there is clutter


def test_training_batches_on_either_backend_path_are_the_streams_batches():
    stream = data.fresh_draws("cluttered200_mnist5k", limit=40)
    expected = data.for_model(stream.batch(1, 1, 16)[0])
    py_batches = data.ArrayBatches(stream, 16, first_epoch=1)
    assert len(py_batches) == 3
    np.testing.assert_array_equal(py_batches[1][0], expected)
    tf_batches = list(data.tf_batches(stream, 16, epochs=2, first_epoch=1))
    assert [len(x) for x, _ in tf_batches] == [16, 16, 8]
    np.testing.assert_array_equal(np.asarray(tf_batches[1][0]), expected)


def test_evaluate_walks_a_streamed_test_split_with_the_numbers_of_its_arrays():
    model = built(configs.get("cnn_cluttered400_mnist5k_equal_macs_300e"))
    images, labels = data.load_arrays("cluttered400_mnist5k", "test", limit=300)
    predicted = np.argmax(np.asarray(model(data.for_model(images), training=False)), -1)
    expected = round(100.0 * float(np.mean(predicted == labels)), 2)
    assert evaluate.evaluate(model, "cluttered400_mnist5k", limit=300, batch_size=128)["accuracy"] == expected


# --- the equal-compute CNN ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [200, 400])
def test_the_equal_compute_cnn_has_rams_macs_within_ten_percent(size):
    ram = keras_macs(built(configs.get(f"ram_cluttered{size}_fashion_mnist_lstm_300e")))  # the same on MNIST 5k
    cnn = keras_macs(built(configs.get(f"cnn_cluttered{size}_mnist5k_equal_macs_300e")))
    assert abs(cnn / ram - 1) <= 0.10, (size, ram, cnn)
    assert (ram, cnn) == {200: (2_350_920, 2_425_000), 400: (2_578_376, 2_425_000)}[size]


def test_the_same_parameter_cnn_at_200_px_has_rams_parameters():
    ram = built(configs.get("ram_cluttered200_fashion_mnist_lstm_300e")).count_params()
    cnn = built(configs.get("cnn_cluttered200_fashion_mnist_300e"))
    assert abs(cnn.count_params() / ram - 1) <= 0.01 and keras_macs(cnn) == 41_565_904


def test_every_shipped_cnn_card_builds_the_parameters_it_states():
    shipped = [cards.Card.load(p) for p in sorted(store.SHIPPED_DIR.glob("cnn.*.json")) if not p.name.endswith(".recipe.json")]
    assert shipped
    for card in shipped:
        model = registry.build("cnn", **card.config)
        model(keras.ops.zeros((1, *model.image_shape)))
        assert model.count_params() == card.parameters and model.downsample == 1, card.tag
        assert not any(isinstance(layer, keras.layers.AveragePooling2D) for layer in model.classifier.layers)


def test_a_bad_downsample_is_refused():
    with pytest.raises(ValueError, match="downsample"):
        registry.build("cnn", image_shape=(200, 200, 1), downsample=0)


# --- the recipes ------------------------------------------------------------------------------------


def test_the_recipes_share_the_100_px_gpu_schedule():
    reference = configs.get("ram_cluttered100_fashion_mnist_lstm_300e")
    assert len(NEW) == 10
    for recipe in NEW:
        assert (recipe.epochs, recipe.batch_size, recipe.learning_rate, recipe.seed, recipe.fresh_data, recipe.clipnorm) == \
            (reference.epochs, reference.batch_size, reference.learning_rate, reference.seed, True, None)
        assert configs.get(recipe.name) == recipe and data.get(recipe.data).streamed
