"""The catalogue: every dataset of `recipes.data` by name, one dict of `kinds.Dataset` objects.

    from recipes.data.catalogue import CATALOGUE, get
    get("cluttered60_mnist5k").load("test", seed=0, limit=8)

A new dataset is a `kinds` subclass in its module's `DATASETS`, and its module in `MODULES`.
"""

from recipes.data import coco, dates, images, kjv, parity, scenes, sequence_tasks, strokes, ted, vqa
from zoo.registry import did_you_mean

MODULES = (images, parity, kjv, sequence_tasks, dates, ted, scenes, coco, strokes, vqa)
CATALOGUE = {dataset.name: dataset for module in MODULES for dataset in module.DATASETS}
# The public function that reads each kind (recipes.data.load_arrays, …).
LOADERS = {"image": "load_arrays", "vector": "load_arrays", "corpus": "load_arrays", "sequence": "load_arrays",
           "text": "load_texts", "captions": "load_scenes", "strokes": "load_strokes",
           "questions": "load_questions"}


def get(name, loader=None):
    """The dataset called `name` (ValueError with close matches if none is); with `loader`, the name
    of a public loading function, one of the kinds it reads (else a ValueError naming the right one)."""
    if name not in CATALOGUE:
        raise ValueError(f"unknown dataset {name!r}.{did_you_mean(name, CATALOGUE, n=5, cutoff=0.6)} "
                         "List every name with recipes.data.list_datasets().")
    dataset = CATALOGUE[name]
    if loader is not None and LOADERS[dataset.kind] != loader:
        raise ValueError(f"{name!r} is a {dataset.kind} dataset: use {LOADERS[dataset.kind]}({name!r}, split)")
    return dataset
