"""The King James Bible as a character corpus (the Grid LSTM language models' data), offline.

    from recipes.data import kjv
    text = kjv.text("train")                          # 4.2 M characters, one verse per line
    kjv.DATASETS[0].info()                            # kind "corpus", vocabulary, split sizes, licence
    x, y = kjv.DATASETS[0].load("test")               # int64 (N, 100) windows and their next characters

Source: Debian's `bible-kjv` (`apt-get install bible-kjv`), whose `bible` program prints the
Authorized (King James) Version from its compressed data: `bible -f Gen1:1-Rev22:21`, one verse
per line after its reference ("Ge1:1 In the beginning …"). The references are dropped; the
verses, joined by newlines, are the corpus (31,102 verses, 4,137,849 characters, 63 distinct). A plain-text
copy can be given instead through $ZOO_KJV_TEXT (that same format: one referenced verse per line).

Split: contiguous, as character-level benchmarks do (Hutter's enwik8 holds out its last 5 M
characters): the first 95% of the verses (Genesis 1:1 … Colossians 4:4) train, the last 5% (Colossians 4:5 …
Revelation 22:21: the later epistles and Revelation) test. The text is public domain.
"""

import functools
import os
import shutil
import subprocess

from recipes.data import kinds
from recipes.data.sources import DataNotFoundError

NAME = "kjv"
ENV = "ZOO_KJV_TEXT"
TEST_SHARE = 0.05  # the last 5% of the verses
REMEDY = (f"install Debian's bible-kjv (apt-get install bible-kjv), whose `bible` program prints the text, "
          f"or point ${ENV} at the output of `bible -f Gen1:1-Rev22:21`")


@functools.lru_cache(maxsize=1)
def _verses():
    path = os.environ.get(ENV)
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                raw = f.read()
        except OSError as e:
            raise DataNotFoundError(f"${ENV} = {path!r} cannot be read ({e}); {REMEDY}") from e
    elif shutil.which("bible"):
        raw = subprocess.run(["bible", "-f", "Gen1:1-Rev22:21"], capture_output=True, text=True, check=True).stdout
    else:
        raise DataNotFoundError(f"the KJV corpus needs the `bible` program: {REMEDY}")
    verses = tuple(tuple(line.split(" ", 1)) for line in raw.splitlines() if " " in line)
    if len(verses) < 1000:
        raise DataNotFoundError(f"expected the whole Bible (31,102 verses), got {len(verses)} lines; {REMEDY}")
    return verses  # (reference, verse) pairs


def _split(split):
    kinds.check_split(split)
    verses = _verses()
    cut = int(round(len(verses) * (1 - TEST_SHARE)))
    return verses[:cut] if split == "train" else verses[cut:]


def text(split="train"):
    """The split's text: its verses joined by newlines, without their references."""
    return "\n".join(verse for _, verse in _split(split))


@functools.lru_cache(maxsize=1)
def vocabulary():
    """The corpus's characters, sorted (both splits: a test character is never unknown)."""
    return sorted(set(text("train") + "\n" + text("test")))


class KingJames(kinds.Corpus):
    seeded = False

    def text(self, split="train"):
        return text(split)

    def vocabulary(self):
        return vocabulary()

    def info(self):
        return {
            "name": self.name,
            "kind": self.kind,
            "vocabulary": vocabulary(),
            "splits": {split: len(text(split)) for split in kinds.SPLITS},
            "unit": "characters",
            "description": "The King James Bible (1611), one verse per line, from Debian's bible-kjv; contiguous "
            f"split: the first {100 * (1 - TEST_SHARE):.0f}% of the verses train, the last {100 * TEST_SHARE:.0f}% "
            f"({_split('test')[0][0]} … {_split('test')[-1][0]}) test.",
            "license": "public domain (the Authorized Version's text); Debian package bible-kjv-text",
            "window": self.WINDOW,
        }


DATASETS = [KingJames(NAME)]
