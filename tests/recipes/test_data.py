"""Tests of recipes.data: the catalogue and its protocol, bases, sources, seeded variants, tf.data
pipeline and previews."""

import gzip
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys

import numpy as np
import pytest

from recipes import data
from recipes.data import catalogue, sources, variants

VARIANTS = sorted(variants.VARIANTS)
# Per image, ink of the variant / ink of its item: exact for translation, more with clutter,
# about 1 for rotation, the scale² range 0.49-1.44 for RTS, looser for projective and elastic.
INK_RATIO = {
    "translated60": (1, 1),
    "cluttered60": (1, 10),
    "cluttered100": (1, 20),
    "cluttered200": (1, 60),  # 32 fragments: 2.7-19.0 on MNIST 5k's test split
    "cluttered400": (1, 240),  # 128 fragments: 8.6-79.5
    "r": (0.95, 1.05),
    "rts": (0.45, 1.5),
    "p": (0.2, 2.5),
    "e": (0.5, 2),
    "binarized": (0.8, 1.2),  # each pixel on with probability intensity / 255: the ink in expectation
}
FASHION_LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


@pytest.fixture(scope="module")
def mnist5k_test():
    return data.load_arrays("mnist5k", split="test")


def write_idx(path, array, magic=None, compress=False):
    """Write a uint8 array as an IDX file (`magic` overrides the 4-byte magic number)."""
    header = magic if magic is not None else bytes([0, 0, 8, array.ndim])
    payload = header + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(np.uint8).tobytes()
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(payload)


def write_idx_dir(directory, split_arrays, compress=True):
    """Write {"train": (images, labels), "test": ...} as the four Fashion-MNIST IDX files."""
    suffix = ".gz" if compress else ""
    for split, (images, labels) in split_arrays.items():
        image_name, label_name = sources.IDX_FILES[split]
        write_idx(directory / (image_name + suffix), images[..., 0], compress=compress)
        write_idx(directory / (label_name + suffix), labels, compress=compress)


def tiny_split(seed, n):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28, 1), dtype=np.uint8), rng.integers(0, 10, n).astype(np.int64)


def digest(*parts):
    """sha256 (16 hex digits) of arrays (dtype, shape and bytes) and JSON-able values, in order."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(str(part.dtype).encode() + str(part.shape).encode() + np.ascontiguousarray(part).tobytes())
        else:
            h.update(json.dumps(part).encode())
    return h.hexdigest()[:16]


# --- the catalogue and its protocol -----------------------------------------------------------------

# First examples of a few datasets, hashed on the code before the catalogue (same seed, same data).
FIRST_EXAMPLES = {
    "mnist5k/test": (lambda: digest(*data.load_arrays("mnist5k", "test", limit=4)), "7d2091c2dce09c88"),
    "cluttered60_mnist5k/train": (lambda: digest(*data.load_arrays("cluttered60_mnist5k", "train", limit=4)),
                                  "02e5e134791c353a"),
    "rts_fashion_mnist/test/seed 2": (lambda: digest(*data.load_arrays("rts_fashion_mnist", "test", seed=2, limit=4)),
                                      "a61f69b4f3030339"),
    "parity_64/train": (lambda: digest(*data.load_arrays("parity_64", "train", limit=8)), "f8472b5383385526"),
    "kjv/test": (lambda: digest(*data.load_arrays("kjv", "test", limit=2)), "be36ae0f87cafd94"),
    "dates/train": (lambda: digest(*data.load_texts("dates", "train", limit=5)), "12d2a4c31d6a435c"),
    "scenes_mnist5k/test": (lambda: digest(data.load_scenes("scenes_mnist5k", "test", limit=3).images,
                                           data.load_scenes("scenes_mnist5k", "test", limit=3).references),
                            "6fa019808d596445"),
    "caption_pairs/scenes_fashion_mnist/train/seed 1": (
        lambda: digest(*data.caption_pairs("scenes_fashion_mnist", "train", seed=1, limit=3)), "2c8979175503f911"),
    "fresh_draws/translated60_mnist5k/test/epoch 1": (
        lambda: digest(*data.fresh_draws("translated60_mnist5k", "test", limit=3)(1)), "83e55be0ddc0ca07"),
    "item_boxes/cluttered100_mnist5k": (lambda: digest(data.item_boxes("cluttered100_mnist5k", "test", limit=4)),
                                        "9300653b5806a1ed"),
}
NEEDS = {"fashion": os.path.isdir(sources.DEBIAN_FASHION_MNIST_DIR), "kjv": bool(shutil.which("bible"))}


@pytest.mark.parametrize("case", sorted(FIRST_EXAMPLES))
def test_first_examples_are_the_bytes_they_were(case):
    for need, present in NEEDS.items():
        if need in case and not present:
            pytest.skip(f"{need} data not installed")
    compute, expected = FIRST_EXAMPLES[case]
    assert compute() == expected


def test_every_dataset_answers_the_protocol():
    assert data.list_datasets() == sorted(data.CATALOGUE) and len(data.CATALOGUE) == 52  # 48 + strokes + 3 question sets
    for name, dataset in data.CATALOGUE.items():
        assert dataset.name == name and dataset.kind in catalogue.LOADERS and data.get(name) is dataset
        if dataset.kind == "corpus" and not NEEDS["kjv"]:
            continue
        info = dataset.info()
        assert (info["name"], info["kind"]) == (name, dataset.kind)
        assert {"splits", "description", "license"} <= set(info) and set(info["splits"]) == set(dataset.splits) >= set(data.SPLITS)
    assert {d.kind for d in data.CATALOGUE.values()} == set(catalogue.LOADERS)


@pytest.mark.parametrize("name,kind,shapes", [
    ("translated60_mnist5k", "image", [(2, 60, 60, 1), (2,)]),
    ("parity_16", "vector", [(2, 16), (2,)]),
    ("addition_15", "sequence", [(2, 48), (2, 48), (2, 48)]),
])
def test_array_datasets_load_their_kind(name, kind, shapes):
    dataset = data.get(name)
    arrays = dataset.load("test", limit=2)
    assert dataset.kind == kind and [a.shape for a in arrays] == shapes
    for a, b in zip(arrays, data.load_arrays(name, "test", limit=2)):
        np.testing.assert_array_equal(a, b)


def test_model_config_comes_from_the_dataset():
    config = {"glimpses": 3}
    cnn = data.get("rts_mnist5k").model_config(config, {"num_classes": 10})
    assert cnn == {"glimpses": 3, "image_shape": (42, 42, 1), "num_classes": 10, "class_names": [str(d) for d in range(10)]}
    assert data.get("binarized_mnist5k").model_config(config, {}) == {"glimpses": 3, "image_shape": (28, 28, 1)}
    assert data.get("parity_24").model_config({}, {}) == {"bits": 24, "class_names": ["even", "odd"]}
    assert data.get("memorisation_20").model_config({}, {}) == {"tokens": list("abcdefghij=."), "context": 41}
    scenes = data.get("scenes_mnist5k").model_config({}, {})
    assert scenes["image_shape"] == (64, 64, 1) and "nine" in scenes["tokens"] and scenes["max_len"] == 31
    dates = data.get("dates").model_config({"level": "char", "vocabulary_size": None}, {})
    assert set(dates) == {"level", "source_tokens"} and "2" in dates["source_tokens"]
    assert config == {"glimpses": 3}, "the recipe's config is not changed"


def test_the_catalogue_needs_no_keras():
    code = "import sys; from recipes import data; data.info('dates'); print('keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_an_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'LOADS'"):
        data.LOADS


def test_names_and_info():
    names = data.list_datasets()
    assert {"mnist", "fashion_mnist", "mnist5k", "cluttered100_fashion_mnist", "rts_mnist5k"} <= set(names)
    card = data.info("cluttered60_fashion_mnist")
    assert card["image_shape"] == (60, 60, 1) and card["num_classes"] == 10
    assert card["labels"] == FASHION_LABELS and card["splits"] == {"train": 60000, "test": 10000}
    assert (card["base"], card["variant"]) == ("fashion_mnist", "cluttered60")
    assert "4 8×8-px fragments" in card["description"] and card["license"] and card["source_hint"]
    assert data.info("mnist5k")["splits"] == {"train": 4000, "test": 1000}
    assert data.info("mnist")["labels"] == [str(d) for d in range(10)]
    assert data.info("mnist")["variant"] is None
    for variant in VARIANTS:
        assert data.info(f"{variant}_mnist")["description"].strip()


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match=r"'cluttered60_mnist5k'.*list_datasets\(\)"):
        data.load_arrays("cluttered60_mnist5")
    with pytest.raises(ValueError, match="list_datasets"):
        data.info("imagenet")
    with pytest.raises(ValueError, match=r"'parity_16' is a vector dataset: use load_arrays\('parity_16', split\)"):
        data.load_texts("parity_16")
    with pytest.raises(ValueError, match="endless stream: give limit"):
        data.load_arrays("addition_15")


def test_bad_split_and_source():
    with pytest.raises(ValueError, match="expected one of train, test; got 'tset'"):
        data.load_arrays("mnist5k", split="tset")
    with pytest.raises(ValueError, match="must be one of auto, tfds, idx; got 'csv'"):
        data.load_arrays("fashion_mnist", source="csv")
    with pytest.raises(ValueError, match="seed"):
        data.load_arrays("r_mnist5k", seed=-1)
    with pytest.raises(ValueError, match="limit must be a non-negative integer or None; got -2"):
        data.load_texts("dates", limit=-2)
    with pytest.raises(ValueError, match="source for 'dates' must be one of auto; got 'tfds'"):
        data.get("dates").load("test", source="tfds")


# --- bases -------------------------------------------------------------------------------------


def test_mnist5k_split(mnist5k_test):
    train_images, train_labels = data.load_arrays("mnist5k", split="train")
    test_images, test_labels = mnist5k_test
    assert train_images.shape == (4000, 28, 28, 1) and test_images.shape == (1000, 28, 28, 1)
    assert train_images.dtype == np.uint8 and train_labels.dtype == np.int64
    assert np.bincount(train_labels).tolist() == [400] * 10 and np.bincount(test_labels).tolist() == [100] * 10
    assert 0 < test_images.mean() < 255 and test_images.max() == 255
    assert not train_images.flags.writeable
    np.testing.assert_array_equal(sources.canonical_order(test_images, test_labels), np.arange(1000))


def test_read_idx_plain_and_gzip(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    for compress in (False, True):
        path = tmp_path / f"a{compress}"
        write_idx(path, array, compress=compress)
        np.testing.assert_array_equal(sources.read_idx(path), array)


def test_read_idx_rejects_bad_files(tmp_path):
    write_idx(tmp_path / "magic", np.zeros((2, 28, 28)), magic=b"\x12\x34\x56\x78")
    with pytest.raises(ValueError, match="magic number 0x12345678"):
        sources.read_idx(tmp_path / "magic")
    (tmp_path / "short").write_bytes(b"\x00\x00\x08\x03" + struct.pack(">3I", 5, 28, 28) + bytes(100))
    with pytest.raises(ValueError, match=r"shape \(5, 28, 28\) \(3920 data bytes\) but the file has 100"):
        sources.read_idx(tmp_path / "short")
    (tmp_path / "broken.gz").write_bytes(gzip.compress(bytes(50))[:20])
    with pytest.raises(ValueError, match="corrupt gzip"):
        sources.read_idx(tmp_path / "broken.gz")


def test_idx_directory_loads_in_canonical_order(tmp_path):
    splits = {"train": tiny_split(1, 30), "test": tiny_split(2, 10)}
    write_idx_dir(tmp_path, splits, compress=False)
    images, labels = data.load_arrays("fashion_mnist", split="train", source="idx", data_dir=tmp_path)
    order = sources.canonical_order(*splits["train"])
    np.testing.assert_array_equal(images, splits["train"][0][order])
    np.testing.assert_array_equal(labels, splits["train"][1][order])
    assert data.load_arrays("translated60_fashion_mnist", "test", data_dir=tmp_path)[0].shape == (10, 60, 60, 1)


def test_fashion_mnist_missing_everywhere_names_every_place(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise RuntimeError("no network")

    (tmp_path / "env").mkdir()
    monkeypatch.setenv(sources.FASHION_MNIST_ENV, str(tmp_path / "env"))
    monkeypatch.setattr(sources, "DEBIAN_FASHION_MNIST_DIR", str(tmp_path / "debian"))
    monkeypatch.setattr(sources, "read_tfds", offline)
    with pytest.raises(data.DataNotFoundError) as error:
        data.load_arrays("fashion_mnist", data_dir=tmp_path)
    message = str(error.value)
    for place in (str(tmp_path), str(tmp_path / "env"), str(tmp_path / "debian"), "TFDS download: RuntimeError: no network"):
        assert place in message
    assert "apt-get install dataset-fashion-mnist" in message and "tfds.load('fashion_mnist')" in message


def test_mnist_without_tfds_points_to_mnist5k(monkeypatch):
    def offline(*args, **kwargs):
        raise RuntimeError("no network")

    monkeypatch.setattr(sources, "read_tfds", offline)
    with pytest.raises(data.DataNotFoundError, match="(?s)no network.*'mnist5k'"):
        data.load_arrays("mnist", data_dir="/nonexistent/for-this-test")


def test_tfds_source_with_mock_data_matches_idx(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=12):
        images, labels = data.load_arrays("fashion_mnist", split="train", source="tfds", data_dir=tmp_path / "tfds")
        test_images, test_labels = data.load_arrays("fashion_mnist", split="test", source="tfds", data_dir=tmp_path / "tfds")
        digits = data.load_arrays("mnist", split="test", source="tfds", data_dir=tmp_path / "tfds")
    assert images.shape == (12, 28, 28, 1) and images.dtype == np.uint8 and labels.dtype == np.int64
    assert digits[0].shape == (12, 28, 28, 1)
    np.testing.assert_array_equal(sources.canonical_order(images, labels), np.arange(12))
    # The same examples, shuffled and written as IDX files, come back identical.
    shuffle = np.random.default_rng(0).permutation(12)
    (tmp_path / "idx").mkdir()
    write_idx_dir(tmp_path / "idx", {"train": (images[shuffle], labels[shuffle]), "test": (test_images, test_labels)})
    idx_images, idx_labels = data.load_arrays("fashion_mnist", split="train", source="idx", data_dir=tmp_path / "idx")
    np.testing.assert_array_equal(idx_images, images)
    np.testing.assert_array_equal(idx_labels, labels)


@pytest.mark.skipif(not os.path.isdir(sources.DEBIAN_FASHION_MNIST_DIR), reason="dataset-fashion-mnist not installed")
def test_debian_fashion_mnist_counts():
    for split, count in (("train", 60000), ("test", 10000)):
        images, labels = data.load_arrays("fashion_mnist", split, source="idx", data_dir=sources.DEBIAN_FASHION_MNIST_DIR)
        assert images.shape == (count, 28, 28, 1)
        assert np.bincount(labels).tolist() == [count // 10] * 10


# --- variants ------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_variant_shape_determinism_and_seeds(variant, mnist5k_test):
    images, labels = mnist5k_test
    made = variants.generate(variant, images, seed=0, split_index=1)
    size = variants.VARIANTS[variant].size
    assert made.shape == (1000, size, size, 1) and made.dtype == np.uint8
    assert data.info(f"{variant}_mnist5k")["image_shape"] == made.shape[1:]
    np.testing.assert_array_equal(made, variants.generate(variant, images, seed=0, split_index=1))
    assert not np.array_equal(made, variants.generate(variant, images, seed=1, split_index=1))
    assert not np.array_equal(made, variants.generate(variant, images, seed=0, split_index=0))
    # A prefix is the prefix of the whole (chunks have their own generators).
    np.testing.assert_array_equal(variants.generate(variant, images, seed=0, split_index=1, count=1234), made[:1000])
    np.testing.assert_array_equal(variants.generate(variant, images, seed=0, split_index=1, count=7), made[:7])
    # Every output holds its item: its ink over the item's ink stays in the range the transform allows.
    ratio = made.sum(axis=(1, 2, 3), dtype=np.int64) / images.sum(axis=(1, 2, 3), dtype=np.int64)
    low, high = INK_RATIO[variant]
    assert low <= ratio.min() and ratio.max() <= high, (ratio.min(), ratio.max())


def test_same_bytes_on_every_machine(mnist5k_test):
    """Pinned digests: a change means someone's data changed (code, NumPy's generator streams, SciPy)."""
    images, labels = mnist5k_test
    assert hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()[:16] == "4487f1ad78b2673c"
    digests = {
        variant: hashlib.sha256(variants.generate(variant, images, seed=0, split_index=1, count=200).tobytes()).hexdigest()[:16]
        for variant in VARIANTS
    }
    assert digests == {
        "binarized": "0572da8ce919aab4",
        "cluttered100": "c0f2058c9e297c08",
        "cluttered200": "6c589846ab3e5851",
        "cluttered400": "38d32f0ee552b576",
        "cluttered60": "e26ac5c6c71d3cb4",
        "e": "79a806d90d100c56",
        "p": "8362ff6f0a1ecae8",
        "r": "3127a7bc0620d8f4",
        "rts": "149771ad31ea30e7",
        "translated60": "355512341b344fb4",
    }


def test_binarized_pixels_are_off_or_on_and_follow_the_intensity(mnist5k_test):
    images = mnist5k_test[0]
    made = variants.generate("binarized", images, seed=0, split_index=1)
    assert set(np.unique(made)) == {0, 255}
    assert not made[images == 0].any() and made[images == 255].all()  # 0 and 1 are certain
    grey = (images > 0) & (images < 255)
    np.testing.assert_allclose(made[grey].mean(), images[grey].mean(), rtol=0.02)


def test_load_arrays_variant_matches_generator(mnist5k_test):
    images, labels = data.load_arrays("cluttered60_mnist5k", split="test", seed=3)
    np.testing.assert_array_equal(images, variants.generate("cluttered60", mnist5k_test[0], seed=3, split_index=1))
    np.testing.assert_array_equal(labels, mnist5k_test[1])
    assert not images.flags.writeable
    train = data.load_arrays("cluttered60_mnist5k", split="train", seed=3)[0]
    assert train.shape == (4000, 60, 60, 1) and not np.array_equal(train[:1000], images)


def test_translated_preserves_the_item_exactly(mnist5k_test):
    images = mnist5k_test[0]
    made = variants.generate("translated60", images, seed=0, split_index=1)
    np.testing.assert_array_equal(made.sum(axis=(1, 2, 3), dtype=np.int64), images.sum(axis=(1, 2, 3), dtype=np.int64))
    rows, cols = made[..., 0].any(axis=2), made[..., 0].any(axis=1)
    height = 60 - rows.argmax(axis=1) - rows[:, ::-1].argmax(axis=1)
    width = 60 - cols.argmax(axis=1) - cols[:, ::-1].argmax(axis=1)
    assert (height <= 28).all() and (width <= 28).all()


def test_clutter_adds_ink_on_top_of_the_item(mnist5k_test):
    images = mnist5k_test[0]
    item_ink = images.sum(axis=(1, 2, 3), dtype=np.int64)
    for variant, extra in (("cluttered60", 1.05), ("cluttered100", 1.1)):
        ink = variants.generate(variant, images, seed=0, split_index=1).sum(axis=(1, 2, 3), dtype=np.int64)
        assert (ink >= item_ink).all() and ink.mean() > extra * item_ink.mean()


def test_item_boxes_are_where_the_generator_put_the_item(mnist5k_test):
    items = mnist5k_test[0][..., 0]
    for name, exact in (("translated60_mnist5k", True), ("cluttered100_mnist5k", False)):
        images = data.load_arrays(name, "test", seed=3)[0][..., 0]
        boxes = data.item_boxes(name, "test", seed=3)
        assert boxes.shape == (len(images), 4) and (boxes[:, 2:] - boxes[:, :2] == 28).all()
        inside = np.stack([image[t:b, l:r] for image, (t, l, b, r) in zip(images, boxes)])
        # the item itself, with clutter on top (np.maximum) where there is clutter
        assert (inside == items).all() if exact else (inside >= items).all() and (inside > items).any()
        np.testing.assert_array_equal(data.item_boxes(name, "test", seed=3, limit=7), boxes[:7])
    with pytest.raises(ValueError, match="translated and cluttered"):
        data.item_boxes("rts_mnist5k")


def test_identity_warp_is_exact(mnist5k_test):
    items = mnist5k_test[0][:50, ..., 0]
    identity = variants._similarity(np.zeros(50), np.ones(50), 42)
    warped = variants._warp(items, identity, 42)
    np.testing.assert_array_equal(warped[:, 7:35, 7:35], items)
    assert warped.sum(dtype=np.int64) == items.sum(dtype=np.int64)


def test_rts_keeps_digits_inside_the_canvas(mnist5k_test):
    made = variants.generate("rts", mnist5k_test[0], seed=0, split_index=1)[..., 0]
    border = np.concatenate([made[:, 0], made[:, -1], made[:, :, 0], made[:, :, -1]], axis=1)
    assert (border.max(axis=1) < 128).mean() > 0.99


# --- tf.data pipeline and preview ----------------------------------------------------------------


def test_dataset_batches_dtypes_and_limit():
    ds = data.dataset("translated60_mnist5k", split="test", batch_size=32, limit=100)
    batches = list(ds)
    assert [len(b[1]) for b in batches] == [32, 32, 32, 4]
    images, labels = batches[0]
    assert images.shape == (32, 60, 60, 1) and images.dtype.name == "float32" and labels.dtype.name == "int32"
    assert 0.0 <= float(np.min(images)) and float(np.max(images)) <= 1.0
    expected, expected_labels = data.load_arrays("translated60_mnist5k", split="test")
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), expected_labels[:100])
    np.testing.assert_allclose(images.numpy(), expected[:32] / 255.0, rtol=1e-6)


def test_dataset_shuffle_is_seeded():
    def labels(**kwargs):
        ds = data.dataset("mnist5k", batch_size=1000, limit=1000, **kwargs)
        return np.concatenate([b[1].numpy() for b in ds])

    in_order = labels(split="train", shuffle=False)
    first = labels(split="train", seed=1)
    np.testing.assert_array_equal(first, labels(split="train", seed=1))
    assert not np.array_equal(first, in_order) and sorted(first) == sorted(in_order)
    assert not np.array_equal(first, labels(split="train", seed=2))
    np.testing.assert_array_equal(labels(split="test"), data.load_arrays("mnist5k", "test")[1][:1000])
    repeated = data.dataset("mnist5k", split="test", batch_size=400, limit=500, epochs=None)
    repeated_labels = np.concatenate([b[1].numpy() for b in repeated.take(3)])
    # Batches never straddle epochs: 400 + 100, then 400 of the next pass.
    np.testing.assert_array_equal(repeated_labels, np.tile(data.load_arrays("mnist5k", "test")[1][:500], 2)[:900])


def test_each_epoch_has_its_own_order_and_a_resumed_run_sees_the_same_batches():
    indices = (np.arange(10), np.arange(10) * 2)

    def orders(**kwargs):
        return [b[0].numpy() for b in data.tf_batches(indices, 4, seed=3, **kwargs)]

    three = orders(epochs=3)
    assert [len(b) for b in three] == [4, 4, 2] * 3
    epochs = [np.concatenate(three[i:i + 3]) for i in (0, 3, 6)]
    assert all(sorted(e) == list(range(10)) for e in epochs)
    assert not np.array_equal(epochs[0], epochs[1])
    resumed = orders(epochs=3, first_epoch=1)
    np.testing.assert_array_equal(np.concatenate(resumed), np.concatenate(epochs[1:]))
    np.testing.assert_array_equal(np.concatenate(orders(shuffle=False, epochs=1)), np.arange(10))
    # Without TensorFlow (PyDataset), the same batches in the same order, epoch after epoch.
    batches = data.ArrayBatches(indices, 4, seed=3)
    for epoch in epochs:
        np.testing.assert_array_equal(np.concatenate([batches[i][0] for i in range(len(batches))]), epoch)
        np.testing.assert_array_equal(np.concatenate([batches[i][1] for i in range(len(batches))]), 2 * epoch)
        batches.on_epoch_end()


def test_fresh_draws_place_the_items_anew_each_epoch():
    draw = data.fresh_draws("cluttered100_mnist5k", limit=50)
    first, again, second = draw(0), draw(0), draw(1)
    np.testing.assert_array_equal(first[0], data.load_arrays("cluttered100_mnist5k", limit=50)[0])
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    batches = data.ArrayBatches(draw, 50, shuffle=False)
    batches.on_epoch_end()
    np.testing.assert_allclose(batches[0][0], second[0] / 255.0, rtol=1e-6)
    with pytest.raises(ValueError, match="generated data that the seed changes"):
        data.fresh_draws("mnist5k")
    bits = data.fresh_draws("parity_16", limit=4)
    assert not np.array_equal(bits(0)[0], bits(1)[0])


def test_preview_writes_a_png(tmp_path):
    path = tmp_path / "previews" / "rts.png"
    assert data.preview("rts_mnist5k", path, n=9) == [f"wrote {path}"]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert os.listdir(path.parent) == ["rts.png"]
    lines = data.preview("parity_16", None, split="test", n=2)
    bits, labels = data.load_arrays("parity_16", "test", limit=2)
    assert lines == [f"  {''.join(str(int(b)) for b in row)} -> {['even', 'odd'][label]}" for row, label in zip(bits, labels)]
    assert data.preview("memorisation_20", None, n=1)[0].strip().endswith(".")


# --- dates (text) --------------------------------------------------------------------------------


def test_dates_are_seeded_iso_and_test_days_are_unseen():
    from recipes.data import dates

    sources, targets = data.load_texts("dates", "train", limit=300)
    again, _ = data.load_texts("dates", "train", limit=300)
    other, _ = data.load_texts("dates", "train", seed=1, limit=300)
    assert sources == again and sources != other
    assert all(len(t) == 10 and t[4] == t[7] == "-" for t in targets)
    test_sources, test_targets = data.load_texts("dates", "test", limit=300)
    train_days = {d.isoformat() for d in dates._days("train")}
    assert not train_days & set(test_targets), "a test day appears in training"
    assert max(len(s) for s in sources + test_sources) <= 40
    assert data.info("dates")["kind"] == "text" and data.info("dates")["splits"]["test"] == 5000
    with pytest.raises(ValueError, match="text dataset"):
        data.load_arrays("dates")
    with pytest.raises(ValueError, match="Did you mean 'dates'"):
        data.load_texts("date")


def test_ted_translation_through_tfds_mock_data():
    tfds = pytest.importorskip("tensorflow_datasets")
    from recipes import configs, train

    with tfds.testing.mock_data(num_examples=8):
        sources, targets = data.load_texts("ted_pt_en", "train", limit=5)
        all_targets = data.load_texts("ted_pt_en", "train")[1]
        config = train.model_config(configs.get("seq2seq_ted_pt_en_bahdanau"))
    assert len(sources) == len(targets) == 5 and all(isinstance(s, str) and s for s in sources + targets)
    assert len(all_targets) == 8
    assert config["level"] == "word" and "vocabulary_size" not in config
    assert set(config["target_tokens"]) == {w for t in all_targets for w in t.split()}
