"""TED talk transcripts, Portuguese → English (TFDS 'ted_hrlr_translate/pt_to_en', Qi et al. 2018).

For users who are online: TFDS downloads and prepares it on first use (into `data_dir` or
TFDS's default directory). Offline, `load` raises `DataNotFoundError`; the dates dataset
is the offline one. Sentences come in TFDS order; `seed` is accepted for the common
interface and does not change them.
"""

from recipes.data import kinds
from recipes.data.sources import tfds_examples

TFDS_NAME = "ted_hrlr_translate/pt_to_en"
SPLITS = {"train": 51_785, "test": 1_803}
INFO = {
    "name": "ted_pt_en",
    "kind": "text",
    "splits": dict(SPLITS),
    "description": "TED talk transcripts, Portuguese → English sentence pairs (TFDS 'ted_hrlr_translate/pt_to_en'); "
    "word-level, lower-cased as TFDS gives them.",
    "license": "CC BY-NC-ND 4.0 (TED talks)",
}


def load(split="train", seed=0, limit=None, data_dir=None):
    """(sources, targets): Portuguese and English sentences of `split`, the first `limit` of them."""
    examples = tfds_examples(TFDS_NAME, kinds.check_split(split), data_dir, limit,
                             "offline, use the 'dates' dataset or prepare the data elsewhere and pass data_dir.")
    pairs = [(ex["pt"].decode("utf-8"), ex["en"].decode("utf-8")) for ex in examples]
    return [pt for pt, _ in pairs], [en for _, en in pairs]


class Ted(kinds.TextPairs):
    seeded = False

    def info(self):
        return dict(INFO, splits=dict(SPLITS))

    def _load(self, split, seed, limit, source, data_dir):
        return load(split, seed, limit, data_dir)


DATASETS = [Ted(INFO["name"])]
