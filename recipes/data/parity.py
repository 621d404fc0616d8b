"""k-bit parity (Kalchbrenner et al. 2015, section 4.1), generated with seeds: `parity_K` for K in `BITS`.

    from recipes.data import parity
    bits, labels = parity.load("parity_64", "train")   # float32 (N, 64) of 0/1, int64 (N,)
    parity.info("parity_64")                            # kind "vector", input shape, splits, …

Each example is a string of k independent fair coin flips (NumPy `default_rng([seed, k, split])`,
then `integers(0, 2)`), given as a float32 vector of 0s and 1s; its label is the parity of the
number of ones: 0 when even, 1 when odd. A string belongs to the test split iff the sha256 of its
packed bits is divisible by `TEST_SHARE` (one string in 10), so a test string never appears in
training, whatever the seed; draws of the other split's strings are dropped and drawing goes on.
Strings may repeat within a split when 2^k is small (k = 16: 2^16 strings in all). Same name,
split and seed, same arrays on every machine.
"""

import functools
import hashlib

import numpy as np

from recipes.data import kinds

BITS = (16, 24, 32, 48, 64, 96, 128)
SPLITS = {"train": 400_000, "test": 2_000}
TEST_SHARE = 10  # one string in 10 (by hash) belongs to the test split
LABELS = ["even", "odd"]
NAMES = {f"parity_{k}": k for k in BITS}


def bits_of(name):
    """k of the dataset `name` ("parity_64" → 64), or a ValueError naming the valid ones."""
    if name not in NAMES:
        raise ValueError(f"unknown parity dataset {name!r}; expected one of {', '.join(NAMES)}")
    return NAMES[name]


def info(name):
    """The dataset's description (`Dataset.info`, kind "vector")."""
    k = bits_of(name)
    return {
        "name": name,
        "kind": "vector",
        "input_shape": (k,),
        "num_classes": 2,
        "labels": list(LABELS),
        "splits": dict(SPLITS),
        "description": f"{k}-bit parity: uniformly random strings of {k} bits as float32 0/1 vectors, label 1 iff the "
        f"number of ones is odd; a string is a test string iff sha256 of its packed bits ≡ 0 mod {TEST_SHARE}, "
        "so no test string is in train.",
        "license": "generated (CC0)",
    }


def is_test(bits):
    """Per row of a 0/1 array (N, k): does that string belong to the test split?"""
    packed = np.packbits(np.asarray(bits, np.uint8), axis=-1)
    return np.array([int.from_bytes(hashlib.sha256(row.tobytes()).digest()[:8], "big") % TEST_SHARE == 0
                     for row in packed], dtype=bool)


def load(name, split="train", seed=0, limit=None):
    """(bits float32 (N, k) of 0/1, labels int64 (N,)) of one split; read-only and cached.

    `limit` keeps the first N examples (generating only those)."""
    count = SPLITS[kinds.check_split(split)]
    count = count if limit is None else min(int(limit), count)
    return _generate(bits_of(name), split, int(seed), count)


@functools.lru_cache(maxsize=4)
def _generate(k, split, seed, count):
    rng = np.random.default_rng([seed, k, list(SPLITS).index(split)])
    kept, have = [], 0
    while have < count:
        draw = rng.integers(0, 2, size=(max(2 * (count - have), 64), k), dtype=np.uint8)
        draw = draw[is_test(draw) == (split == "test")]
        kept.append(draw)
        have += len(draw)
    bits = np.concatenate(kept)[:count]
    labels = (bits.sum(axis=1) % 2).astype(np.int64)
    bits = bits.astype(np.float32)
    bits.flags.writeable = labels.flags.writeable = False
    return bits, labels


class Parity(kinds.Vectors):
    def info(self):
        return info(self.name)

    def _load(self, split, seed, limit, source, data_dir):
        return load(self.name, split, seed, limit)


DATASETS = [Parity(name) for name in NAMES]
