"""Datasets: one catalogue (`catalogue.CATALOGUE`) of datasets that all answer one protocol
(`kinds.Dataset`: name, kind, info(), load(split, …)), and the training pipeline over them (`pipeline`).

    from recipes import data
    data.list_datasets()                       # every name
    data.info("cluttered60_mnist5k")           # kind, shape, labels, splits, description, license
    data.get("cluttered60_mnist5k").load("test", seed=0, limit=8)   # the dataset object
    images, labels = data.load_arrays("rts_fashion_mnist", split="test", seed=0)
    ds = data.dataset("translated60_mnist5k", batch_size=128)   # (float32 [0, 1], int32)
    for images, labels in data.chunks("cluttered400_fashion_mnist", "test"): ...   # 1,000 at a time
    data.preview("p_mnist5k", "p_mnist5k.png")
    sources, targets = data.load_texts("dates", split="test")   # text datasets: parallel lists

Datasets by kind: image — the MNIST-family bases and their seeded translated, cluttered and distorted
variants (`images`); vector — k-bit parity (`parity`); corpus — the King James Bible (`kjv`);
sequence — Grid LSTM's addition and memorisation (`sequence_tasks`); text — dates (`dates`,
generated) and TED Portuguese → English (`ted`, TFDS online); captions — generated scenes with object
boxes (`scenes`) and COCO (`coco`, TFDS online); strokes — pen trajectories written in the Hershey
script face (`strokes`, generated); questions — about the generated scenes, with a compositional
split (`vqa`), and CLEVR (`vqa`, TFDS online). The pipeline (tf.data, batches, fresh draws) is
imported on first use: it imports Keras, the catalogue does not.
"""

from recipes.data.catalogue import CATALOGUE, get
from recipes.data.kinds import SPLITS, Corpus
from recipes.data.sources import DataNotFoundError

__all__ = ["CATALOGUE", "SPLITS", "WINDOW", "ArrayBatches", "DataNotFoundError", "LengthBuckets", "Stream", "batches", "caption_pairs",
           "chunks", "dataset",
           "epoch_examples", "epoch_order", "for_model", "fresh_draws", "get", "info", "item_boxes", "list_datasets",
           "load_arrays", "load_questions", "load_scenes", "load_strokes", "load_texts", "preview", "tf_batches"]

WINDOW = Corpus.WINDOW
_PIPELINE = ("ArrayBatches", "LengthBuckets", "Stream", "batches", "chunks", "dataset", "epoch_examples", "epoch_order", "for_model",
             "fresh_draws", "tf_batches")


def __getattr__(name):
    """The pipeline's names, imported on first use."""
    if name in _PIPELINE:
        from recipes.data import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'recipes.data' has no attribute {name!r}")


def list_datasets():
    """Every valid dataset name, sorted."""
    return sorted(CATALOGUE)


def info(name):
    """What dataset `name` is (`Dataset.info`): kind, splits, description, license, and by kind its
    image shape and classes, vocabulary or tokens."""
    return get(name).info()


def load_arrays(name, split="train", seed=0, source="auto", data_dir=None, limit=None):
    """The arrays of one split of an image, vector, corpus or sequence dataset (read-only, cached):
    images uint8 (N, H, W, 1) and labels int64 (N,); vectors float32 (N, k) and labels; windows of
    WINDOW character ids int64 (N, WINDOW) and the ids that follow each; or sequence ids, next ids
    and answer weights (`kinds`). `seed` drives generated data (read bases ignore it); `source` and
    `data_dir` pick where read data comes from (`recipes.data.sources`); `limit` keeps the first N
    examples (generating only those)."""
    return get(name, "load_arrays").load(split, seed, limit, source, data_dir)


def load_texts(name, split="train", seed=0, limit=None):
    """(sources, targets): parallel lists of strings of a text dataset's split."""
    return get(name, "load_texts").load(split, seed, limit)


def load_scenes(name, split="train", seed=0, limit=None, source="auto", data_dir=None):
    """The captions of a dataset split: `scenes.Scenes` (images, references, object boxes) of the
    generated scenes, or `coco.Captions` (images, references) of COCO (online)."""
    return get(name, "load_scenes").load(split, seed, limit, source, data_dir)


def load_strokes(name, split="train", seed=0, limit=None):
    """The pen trajectories of a strokes dataset's split: `strokes.Strokes` (Δx, Δy, end of stroke
    rows per line, texts and their token ids)."""
    return get(name, "load_strokes").load(split, seed, limit)


def load_questions(name, split="train", seed=0, limit=None, source="auto", data_dir=None):
    """The questions of a dataset split (train, test or, for the generated scenes, compositional):
    `vqa.Questions` (scenes, question ids, answers, types, boxes of the named and answering items)."""
    return get(name, "load_questions").load(split, seed, limit, source, data_dir)


def caption_pairs(name, split="train", seed=0, limit=None, reference=None):
    """(images uint8, one caption per image) for teacher forcing (`kinds.Captions.caption_pairs`)."""
    return get(name, "load_scenes").caption_pairs(split, seed, limit, reference)


def item_boxes(name, split="test", seed=0, limit=None):
    """(N, 4) boxes of the item in each example of a translated or cluttered image variant
    (`images.ImageDataset.item_boxes`): where an attention model should look."""
    dataset = get(name, "load_arrays")
    if dataset.kind != "image":
        raise ValueError(f"item boxes need a translated or cluttered image variant; {name!r} is a {dataset.kind} dataset")
    return dataset.item_boxes(split, seed, limit)


def preview(name, path, split="train", n=None, seed=0):
    """The first `n` examples of `split` (default: 36 images, else 12) as text lines; image and caption
    datasets also write them as a PNG grid to `path` (`Dataset.preview`): what `zoo data NAME --preview` shows."""
    return get(name).preview(path, split, n, seed)
