"""The dataset protocol: what every dataset of the catalogue (`recipes.data.catalogue`) answers, and
what each kind of dataset does alike.

    dataset.name, dataset.kind         # "cluttered60_mnist5k", "image"
    dataset.info()                     # what it is: splits, classes or vocabulary, source, license
    dataset.load(split, seed=0, limit=None, source="auto", data_dir=None)   # the examples (below)
    dataset.model_config(config, defaults)   # a recipe's model options completed from the data
    dataset.preview(path, split)       # the first examples as text lines (and images as a PNG at path)

Kinds, and what `load` gives (the first `limit` examples; same name, split and seed, same bytes):

    image     images uint8 (N, H, W, 1), labels int64 (N,)
    vector    vectors float32 (N, k), labels int64 (N,)
    corpus    windows of character ids int64 (N, WINDOW), the ids that follow each (N, WINDOW)
    sequence  ids int32 (N, T), the ids that follow each (N, T), answer weights float32 (N, T)
    text      (sources, targets): parallel lists of strings
    captions  an object with `images` uint8 (N, H, W, C) and `references` (N lists of captions)
    questions an object with `images` uint8 (S, H, W, C), and per question the scene index, question ids,
              answer index, type and boxes (`vqa.Questions`); splits train, test and compositional
    strokes   an object with `strokes` (N float32 (T_i, 3): Δx, Δy, end of stroke), `lengths`, `texts`,
              `text_ids` int32 (N, MAX_TEXT_LEN) and `tokens` (tokens[0] == "<pad>")

A module of `recipes.data` defines its datasets as subclasses of one kind here, implementing
`info()` and `_load(split, seed, limit, source, data_dir)`; `load` checks the arguments first.
Each kind owns what it does alike: `model_config` and `_preview`.
"""

import operator
import textwrap

import numpy as np

from recipes.data.preview import write_grid, write_lines  # the module imports matplotlib only when it draws

SPLITS = ("train", "test")


def check_split(split, splits=SPLITS):
    """`split` if it is one of `splits`, else a ValueError saying so."""
    if split not in splits:
        raise ValueError(f"expected one of {', '.join(splits)}; got {split!r}")
    return split


class Dataset:
    """One dataset of the catalogue. Subclasses set `kind`, `seeded` (does the seed change the
    examples: generated data) and `sources` (where the data can come from; "auto" picks), and
    implement `info` and `_load`."""

    kind = None
    splits = SPLITS  # what `load` accepts
    seeded = True
    streamed = False  # too big to hold: drawn a batch at a time (`data.chunks`, `data.fresh_draws`)
    sources = ("auto",)
    preview_size = 12  # examples `preview` shows by default

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<{self.kind} dataset {self.name!r}>"

    def info(self):
        """{name, kind, splits, description, license, …}: what `zoo data NAME` prints."""
        raise NotImplementedError

    def load(self, split="train", seed=0, limit=None, source="auto", data_dir=None):
        """The first `limit` (all if None) examples of `split`, as the kind gives them (module
        docstring); `seed` drives generated data, `source` and `data_dir` where read data comes from."""
        check_split(split, self.splits)
        seed = operator.index(seed)
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {seed}")
        if limit is not None and operator.index(limit) < 0:
            raise ValueError(f"limit must be a non-negative integer or None; got {limit}")
        if source not in self.sources:
            raise ValueError(f"source for {self.name!r} must be one of {', '.join(self.sources)}; got {source!r}")
        return self._load(split, seed, limit, source, None if data_dir is None else str(data_dir))

    def _load(self, split, seed, limit, source, data_dir):
        raise NotImplementedError

    def model_config(self, config, defaults):
        """The recipe's model options `config` completed from this data; `defaults` are the model
        builder's default options (which say what it accepts); `config` itself is left as it is."""
        raise NotImplementedError

    def preview(self, path, split="train", n=None, seed=0):
        """Text lines showing the first `n` (default `preview_size`) examples of `split`; datasets of
        images (kinds image and captions) also write them as a PNG grid to `path`."""
        return self._preview(path, split, self.preview_size if n is None else n, seed)

    def _preview(self, path, split, n, seed):
        raise NotImplementedError


def _grid(images, titles, path, title):
    write_grid(images, titles, path, title=title)
    return f"wrote {path}"


class Images(Dataset):
    """Labelled images; the model reads their shape and, if it classifies, their classes."""

    kind = "image"
    preview_size = 36

    def model_config(self, config, defaults):
        info = self.info()
        config = {**config, "image_shape": tuple(info["image_shape"])}
        if "num_classes" in defaults:  # classifiers; not generators (DRAW)
            config.update(num_classes=info["num_classes"], class_names=list(info["labels"]))
        return config

    def _preview(self, path, split, n, seed):
        images, labels = self.load(split, seed, n)
        names = self.info()["labels"]
        return [_grid(images, [names[label] for label in labels], path, f"{self.name} ({split}, seed {seed})")]


class Vectors(Dataset):
    """Labelled 0/1 vectors (parity bits); the model reads their length and class names."""

    kind = "vector"

    def model_config(self, config, defaults):
        info = self.info()
        return {**config, "bits": info["input_shape"][0], "class_names": list(info["labels"])}

    def _preview(self, path, split, n, seed):
        vectors, labels = self.load(split, seed, n)
        names = self.info()["labels"]
        return [f"  {''.join(str(int(b)) for b in vector)} -> {names[label]}" for vector, label in zip(vectors, labels)]


class Corpus(Dataset):
    """A character corpus read as windows of WINDOW characters and the ones that follow; subclasses
    give `text(split)` and `vocabulary()`."""

    kind = "corpus"
    WINDOW = 100

    def text(self, split="train"):
        raise NotImplementedError

    def vocabulary(self):
        raise NotImplementedError

    def _load(self, split, seed, limit, source, data_dir):
        """Window k: ids of characters k·WINDOW … (k + 1)·WINDOW − 1, targets shifted by one."""
        ids = np.searchsorted(np.array(self.vocabulary()), np.array(list(self.text(split))))
        count = (len(ids) - 1) // self.WINDOW if limit is None else min(limit, (len(ids) - 1) // self.WINDOW)
        windows = ids[np.arange(count)[:, None] * self.WINDOW + np.arange(self.WINDOW + 1)].astype(np.int64)
        return windows[:, :-1], windows[:, 1:]

    def model_config(self, config, defaults):
        return {**config, "tokens": self.vocabulary(), "context": self.WINDOW}

    def _preview(self, path, split, n, seed):
        return [f"  {line}" for line in self.text(split).splitlines()[:n]]


class Sequences(Dataset):
    """Symbol sequences answered after "=" (`sequence_tasks`); subclasses give `tokens` and `strings(n, seed)`."""

    kind = "sequence"
    tokens = ()

    def model_config(self, config, defaults):
        return {**config, "tokens": list(self.tokens), "context": len(self.strings(1, 0)[0]) - 1}

    def _preview(self, path, split, n, seed):
        ids, targets, _ = self.load(split, seed, n)
        return ["  " + "".join(self.tokens[i] for i in row) + self.tokens[last] for row, last in zip(ids, targets[:, -1])]


class TextPairs(Dataset):
    """Source and target texts; the model's vocabularies come from the training split."""

    kind = "text"

    def model_config(self, config, defaults):
        from zoo.vocabulary import Vocabulary

        sources, targets = self.load("train")
        level, size = config.get("level", "char"), config.get("vocabulary_size")
        config = {k: v for k, v in config.items() if k != "vocabulary_size"}
        config["source_tokens"] = Vocabulary.build(sources, level, size).tokens
        if level == "word":  # characters of the target side are the model's default (ISO dates)
            config["target_tokens"] = Vocabulary.build(targets, level, size).tokens
        return config

    def _preview(self, path, split, n, seed):
        return [f"  {source!r:>40} -> {target!r}" for source, target in zip(*self.load(split, seed, n))]


class Captions(Dataset):
    """Images with reference captions; subclasses give `tokens()`, the model's words."""

    kind = "captions"
    REFERENCES = 5  # references an image has at least

    def tokens(self):
        raise NotImplementedError

    def caption_pairs(self, split="train", seed=0, limit=None, reference=None):
        """(images uint8, one caption per image): the images drawn with `seed`, each with reference
        number `reference` (0 … 4), or with None one picked at random (by `seed`), for teacher forcing."""
        if reference is not None and reference not in range(self.REFERENCES):
            raise ValueError(f"reference must be None or one of 0 … {self.REFERENCES - 1}; got {reference!r}")
        drawn = self.load(split, seed, limit)
        picks = (np.full(len(drawn), reference) if reference is not None
                 else np.random.default_rng([seed, 11]).integers(self.REFERENCES, size=len(drawn)))
        return drawn.images, [refs[k] for refs, k in zip(drawn.references, picks)]

    def model_config(self, config, defaults):
        info = self.info()
        return {**config, "tokens": self.tokens(), "image_shape": tuple(info["image_shape"]), "max_len": info["max_words"]}

    def _preview(self, path, split, n, seed):
        drawn = self.load(split, seed, n)
        lines = [f"  scene {i}: " + "\n            ".join(refs) for i, refs in enumerate(drawn.references)]
        return lines + [_grid(drawn.images, [f"scene {i}" for i in range(len(drawn))], path, f"{self.name} ({split})")]


class StrokeLines(Dataset):
    """Pen trajectories of written lines with their texts; the model reads the tokens and the
    longest text."""

    kind = "strokes"

    def model_config(self, config, defaults):
        info = self.info()
        return {**config, "tokens": list(info["tokens"]), "max_text_len": info["max_text_len"]}

    def _preview(self, path, split, n, seed):
        from zoo.pictures import strokes_image

        drawn = self.load(split, seed, n)
        images = [strokes_image(stroke) for stroke in drawn.strokes]
        lines = [f"  {length:4d} points  {text!r}" for length, text in zip(drawn.lengths, drawn.texts)]
        return lines + [f"wrote {write_lines(images, drawn.texts, path, f'{self.name} ({split}, seed {seed})')}"]


class Questions(Dataset):
    """Images with questions and one-word-or-phrase answers (`vqa`); subclasses give `vocabularies()`,
    (question tokens, answer words)."""

    kind = "questions"
    splits = SPLITS + ("compositional",)

    def vocabularies(self):
        raise NotImplementedError

    def model_config(self, config, defaults):
        info = self.info()
        tokens, answers = self.vocabularies()
        return {**config, "image_shape": tuple(info["image_shape"]), "tokens": list(tokens), "answers": list(answers),
                "max_question_len": info["max_question_len"]}

    def _preview(self, path, split, n, seed):
        drawn = self.load(split, seed, n)
        said = [(int(s), text, drawn.answer_words[a]) for s, text, a in zip(drawn.scene, drawn.texts, drawn.answers)]
        images = drawn.inputs()["images"]
        if images.shape[-1] == 3:  # the grid draws one channel: RGB as luma
            images = np.rint(images @ np.array([0.299, 0.587, 0.114]))[..., None].astype(np.uint8)
        titles = [textwrap.fill(f"{text} → {answer}", 20) for _, text, answer in said]
        return ([f"  scene {s}: {text} → {answer}" for s, text, answer in said]
                + [_grid(images, titles, path, f"{self.name} ({split})")])
