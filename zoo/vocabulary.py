"""A character or word vocabulary saved with a model (in its config and its card).

Imports NumPy only, so the LiteRT drivers in `export/` tokenise without TensorFlow.

    vocab = Vocabulary.build(["2026-11-22", ...], level="char")
    ids = vocab.encode(["2026-11-22"], length=12, bos=True, eos=True)   # int32 (1, 12), 0-padded
    vocab.decode(ids[0])                                                  # "2026-11-22"
"""

import collections
import re

import numpy as np

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"
SPECIALS = (PAD, UNK, BOS, EOS)  # ids 0..3; PAD is 0 so that padding masks are `ids != 0`


UNKNOWN_SHARE = 0.5  # a text with more unknown tokens than this share is refused, not guessed at

class Vocabulary:
    """Token ↔ id maps; `tokens` are the ordinary tokens, after the four specials."""

    LEVELS = ("char", "word")

    def __init__(self, tokens, level="char"):
        if level not in self.LEVELS:
            raise ValueError(f"level must be one of {self.LEVELS}; got {level!r}")
        tokens = list(tokens)
        if len(set(tokens)) != len(tokens) or set(tokens) & set(SPECIALS):
            raise ValueError("vocabulary tokens must be unique and must not repeat the special tokens")
        self.level, self.tokens = level, tokens
        self.itos = list(SPECIALS) + tokens
        self.stoi = {token: i for i, token in enumerate(self.itos)}

    @classmethod
    def build(cls, texts, level="char", max_size=None):
        """The tokens of `texts`, sorted; with `max_size`, only the most frequent (ties by token)."""
        counts = collections.Counter(t for text in texts for t in cls.split(text, level))
        kept = sorted(counts, key=lambda t: (-counts[t], t))[:max_size]
        return cls(sorted(kept), level)

    @staticmethod
    def split(text, level):
        return list(text) if level == "char" else text.split()

    def __len__(self):
        return len(self.itos)

    pad_id, unk_id, bos_id, eos_id = 0, 1, 2, 3

    def encode(self, texts, length, bos=False, eos=False):
        """int32 (N, length): each text's ids, optionally framed by <s> … </s>, padded with 0.

        Unknown tokens become <unk>; a text longer than `length` is a ValueError naming it.
        """
        if isinstance(texts, str):
            raise TypeError("encode takes a list of texts; wrap a single string in a list")
        ids = np.zeros((len(texts), length), np.int32)
        for row, text in enumerate(texts):
            tokens = [self.stoi.get(t, self.unk_id) for t in self.split(text, self.level)]
            tokens = [self.bos_id] * bos + tokens + [self.eos_id] * eos
            if len(tokens) > length:
                raise ValueError(f"{text!r} is {len(tokens)} tokens with framing; this model reads at most {length}")
            ids[row, : len(tokens)] = tokens
        return ids

    def check_readable(self, texts):
        """A ValueError for a text the model cannot read: empty or only spaces, or more than
        UNKNOWN_SHARE of its tokens outside the vocabulary (emoji, another script)."""
        for text in texts:
            tokens = [t for t in self.split(text, self.level) if not t.isspace()]
            if not tokens:
                raise ValueError(f"expected a text to read; got {text!r} (empty or only spaces)")
            unknown = [t for t in tokens if t not in self.stoi]
            if len(unknown) > UNKNOWN_SHARE * len(tokens):
                kind = "characters" if self.level == "char" else "words"
                raise ValueError(f"expected a text mostly in the model's vocabulary; {len(unknown)} of the "
                                 f"{len(tokens)} {kind} of {text!r} are outside it (e.g. {unknown[0]!r})")

    def unknown(self, text):
        """The tokens of `text` that are not in the vocabulary."""
        return [t for t in self.split(text, self.level) if t not in self.stoi]

    def decode(self, ids):
        """The text of one id sequence, up to its first </s>; specials are dropped."""
        out = []
        for i in np.asarray(ids).tolist():
            if i == self.eos_id:
                break
            if i >= len(SPECIALS):
                out.append(self.itos[i])
        return ("" if self.level == "char" else " ").join(out)

    def get_config(self):
        return {"tokens": self.tokens, "level": self.level}


def question_words(text):
    """The words of a question: lower-cased, with "?", ";" and "," split off as words of their own
    (how the question datasets write them and the question answerers read them)."""
    return re.findall(r"[^\s?;,]+|[?;,]", str(text).lower())


def encode_questions(questions, tokens, max_len, who="the model", truncate=False):
    """int32 (Q, max_len): the word ids (`question_words`) of question strings, 0-padded. Unknown
    words become "<unk>" in a vocabulary that has it (CLEVR's) and are refused otherwise, naming
    them; too long questions are refused, or with `truncate` cut at max_len (a dataset's longest).
    `who` names the reader in the errors."""
    if isinstance(questions, str):
        raise ValueError(f"{who} takes a list of questions; wrap a single one in a list")
    index = {t: i for i, t in enumerate(tokens)}
    ids = np.zeros((len(questions), max_len), np.int32)
    for row, text in enumerate(questions):
        words = question_words(text)[:max_len] if truncate else question_words(text)
        unknown = [w for w in words if w not in index]
        if unknown and UNK not in index:
            known = " ".join(sorted(t for t in tokens if t != PAD))
            raise ValueError(f"{who} does not know the word(s) {', '.join(map(repr, unknown))} of {text!r}; "
                             f"it knows: {known}")
        if not words or len(words) > max_len:
            raise ValueError(f"{who} reads questions of 1 to {max_len} words; {text!r} has {len(words)}")
        ids[row, : len(words)] = [index.get(w, index.get(UNK)) for w in words]
    return ids


def encode_characters(texts, tokens, max_len):
    """int32 (N, max_len): the ids of each text's characters in `tokens` (tokens[0] is padding),
    0-padded; a ValueError names unknown characters and texts too long."""
    if isinstance(texts, str) or not all(isinstance(t, str) and t for t in texts):
        raise ValueError(f"expected a list of non-empty texts; got {texts!r}")
    index = {t: i for i, t in enumerate(tokens) if i}
    ids = np.zeros((len(texts), max_len), np.int32)
    for row, text in enumerate(texts):
        unknown = sorted(set(text) - set(index))
        if unknown or len(text) > max_len:
            raise ValueError(f"expected texts of at most {max_len} characters of {''.join(tokens[1:])!r}; got {text!r}"
                             + (f" (unknown: {unknown})" if unknown else ""))
        ids[row, : len(text)] = [index[c] for c in text]
    return ids
