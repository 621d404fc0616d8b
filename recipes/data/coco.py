"""MS-COCO captions (TFDS 'coco_captions', Karpathy splits; Lin et al. 2014) for users who are online.

TFDS downloads and prepares it on first use (~38 GB). Offline, `load` raises
`DataNotFoundError`; the generated scenes (`recipes.data.scenes`) are the offline captions.
Images are resized (aspect ratio not kept) to `SIZE`×`SIZE` RGB; captions are lower-cased with
punctuation removed, 5 (sometimes more) references an image. COCO names no box per word, so the
card reports BLEU only: caption and grounding accuracy need the generated scenes.
"""

import dataclasses
import re

import numpy as np

from recipes.data import kinds
from recipes.data.sources import tfds_examples

TFDS_NAME = "coco_captions"
NAME = "coco_captions"
SIZE = 224
SPLITS = {"train": 82_783, "test": 5_000}
VOCABULARY_SIZE = 10_000
MAX_WORDS = 30


def info(name=NAME):
    return {
        "name": NAME,
        "kind": "captions",
        "image_shape": (SIZE, SIZE, 3),
        "splits": dict(SPLITS),
        "references": 5,
        "max_words": MAX_WORDS,
        "vocabulary_size": VOCABULARY_SIZE,
        "description": f"MS-COCO 2014 images with 5 human captions each (TFDS 'coco_captions', Karpathy splits), "
        f"resized to {SIZE}×{SIZE}; captions lower-cased, punctuation removed, longer than {MAX_WORDS} words cut.",
        "license": "CC BY 4.0 (COCO annotations); images under their Flickr licences",
    }


@dataclasses.dataclass(frozen=True)
class Captions:
    """`images` uint8 (N, SIZE, SIZE, 3) and `references`, N lists of caption strings."""

    images: np.ndarray
    references: list

    def __len__(self):
        return len(self.images)


def clean(text):
    """Lower-case words without punctuation, at most MAX_WORDS of them."""
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text.lower()).split()[:MAX_WORDS])


def load(name=NAME, split="train", seed=0, limit=None, source="auto", data_dir=None):
    """The `Captions` of `split` in TFDS order, the first `limit` images (`seed` does not change them)."""
    import tensorflow as tf

    examples = tfds_examples(TFDS_NAME, kinds.check_split(split), data_dir, limit, "offline, use the generated "
                             "'scenes_fashion_mnist' or prepare the data elsewhere and pass data_dir.")
    images, references = [], []
    for example in examples:
        resized = tf.image.resize(example["image"], (SIZE, SIZE), antialias=True)
        images.append(np.clip(np.rint(resized.numpy()), 0, 255).astype(np.uint8))
        references.append([clean(t.decode("utf-8")) for t in example["captions"]["text"]])
    return Captions(np.stack(images) if images else np.zeros((0, SIZE, SIZE, 3), np.uint8), references)


class Coco(kinds.Captions):
    seeded = False

    def info(self):
        return info()

    def _load(self, split, seed, limit, source, data_dir):
        return load(self.name, split, seed, limit, source, data_dir)

    def tokens(self):
        """The VOCABULARY_SIZE commonest words of the training references."""
        from zoo.vocabulary import Vocabulary

        return Vocabulary.build([r for refs in self.load("train").references for r in refs], "word", VOCABULARY_SIZE).tokens


DATASETS = [Coco(NAME)]
