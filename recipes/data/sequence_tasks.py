"""Grid LSTM's algorithmic sequence tasks (Kalchbrenner et al. 2015, sections 4.2 and 4.3), generated with seeds.

    from recipes.data import sequence_tasks as tasks
    ids, targets, weights = tasks.draw("addition_15", 64, seed=[0, 1])

A task is read as a sequence of symbols and answered after its "=": the model predicts every next
symbol (teacher forcing) and only the answer's symbols (and the closing ".") count (`weights` 1,
else 0). A sequence is solved when every answer symbol is the most likely one; greedy decoding
from the "=" then writes the whole answer, so this is exact-match accuracy.

* ``addition_15``: two random 15-digit integers a and b (no leading zero) and their sum, written
  with 16 digits (a leading 0 when it has 15): "a+b=sum." (49 symbols).
* ``memorisation_20``: 20 symbols drawn uniformly from 10 ("a" … "j"), then the same 20 again:
  "s=s." (42 symbols).

Test sequences come from their own seed stream (`TEST_SEED`); with 10^29 and 10^20 possible
sequences a test sequence repeats a training one with negligible probability. As datasets of the
catalogue (kind "sequence"): the test split is the `TEST_SEQUENCES` drawn with [TEST_SEED, seed];
the train split is endless (training draws batch `step` with [seed, step]), so `load("train", seed,
limit)` gives batch 0 of size `limit`.
"""

import numpy as np

from recipes.data import kinds

TEST_SEED = 2**31 - 1
TEST_SEQUENCES = 1000
TASKS = {
    "addition_15": {"tokens": list("0123456789+=."), "description": "sum of two random 15-digit integers, "
                    "written with 16 digits: 'a+b=sum.'"},
    "memorisation_20": {"tokens": list("abcdefghij=."), "description": "20 random symbols of 10, then the "
                        "same 20 again: 's=s.'"},
}


def check_task(name):
    if name not in TASKS:
        raise ValueError(f"unknown sequence task {name!r}; expected one of {', '.join(TASKS)}")
    return TASKS[name]


def strings(name, n, seed):
    """`n` sequences of task `name` as strings, drawn with NumPy `default_rng(seed)`."""
    check_task(name)
    rng = np.random.default_rng(seed)
    if name == "addition_15":
        low, high = 10**14, 10**15
        a = [int(x) for x in rng.integers(low, high, n, dtype=np.int64)]
        b = [int(x) for x in rng.integers(low, high, n, dtype=np.int64)]
        return [f"{x}+{y}={x + y:016d}." for x, y in zip(a, b)]
    symbols = np.array(TASKS[name]["tokens"][:10])
    drawn = ["".join(row) for row in symbols[rng.integers(0, 10, (n, 20))]]
    return [f"{s}={s}." for s in drawn]


def draw(name, n, seed):
    """(ids int32 (n, T), next ids int32 (n, T), weights float32 (n, T)): the sequences without
    their last symbol, the symbols that follow each, and 1 where that symbol is part of the answer
    (after the "=")."""
    tokens = check_task(name)["tokens"]
    index = {t: i for i, t in enumerate(tokens)}
    ids = np.array([[index[c] for c in s] for s in strings(name, n, seed)], np.int32)
    answer = np.cumsum(ids == index["="], axis=1) > 0  # "=" and everything after it
    return ids[:, :-1], ids[:, 1:], answer[:, :-1].astype(np.float32)


def solved(probabilities, targets, weights):
    """Per sequence: is every answer symbol the most likely one?"""
    wrong = (np.argmax(probabilities, -1) != targets) & (weights > 0)
    return ~wrong.any(axis=1)


class SequenceTask(kinds.Sequences):
    def __init__(self, name):
        super().__init__(name)
        self.tokens = check_task(name)["tokens"]

    def strings(self, n, seed):
        return strings(self.name, n, seed)

    def info(self):
        return {
            "name": self.name,
            "kind": self.kind,
            "tokens": list(self.tokens),
            "splits": {"train": None, "test": TEST_SEQUENCES},
            "description": f"Grid LSTM sequence task (Kalchbrenner et al. 2015): {TASKS[self.name]['description']}; "
            "only the answer after '=' is scored. Train: an endless stream of fresh sequences.",
            "license": "generated (CC0)",
        }

    def _load(self, split, seed, limit, source, data_dir):
        if split == "test":
            return tuple(a[:limit] for a in draw(self.name, TEST_SEQUENCES, [TEST_SEED, seed]))
        if limit is None:
            raise ValueError(f"the train split of {self.name!r} is an endless stream: give limit")
        return draw(self.name, limit, [seed, 0])


DATASETS = [SequenceTask(name) for name in TASKS]
