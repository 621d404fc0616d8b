"""Handwriting-like pen trajectories, generated with seeds from the Hershey script font (the
handwriting-synthesis recipes' data; no pen-tablet corpus can be downloaded here): `strokes_kjv`.

    from recipes.data import strokes
    lines = strokes.DATASETS[0].load("test", limit=8)   # a `Strokes`
    lines.strokes[0]       # float32 (T, 3): (Δx, Δy, end of stroke), in units of info()["offset_scale"]
    lines.texts[0]         # the text it writes
    lines.text_ids[0]      # int32 (MAX_TEXT_LEN,): indices into lines.tokens, 0 (<pad>) after the text
    strokes.font()["a"]    # the glyph: Hershey bounds and polylines

Font: Debian's `hershey-fonts-data` (/usr/share/hershey-fonts, or $ZOO_HERSHEY_FONTS), the .jhf
format: per glyph its number (5 columns), vertex count (3), then the left and right bounds and the
vertices as pairs of characters, each coordinate its character's code minus ord("R"), y downwards;
" R" lifts the pen; a glyph may wrap over lines of 72 columns. The 96 glyphs of a face are printable
ASCII from the space in order. Its letters are the "cursive" face (the same as "scripts": one pen
path per letter, drawn to join its neighbours); "scriptc" traces each letter with 2-6 outline strokes
of a broad nib, not a pen's path, and is not used.

Texts: 1-4 words of the King James Bible (`kjv`, both splits), letters only: words with an apostrophe
are left out, words keep their case ("LORD", "Israel"), a line has at most MAX_TEXT_LEN characters.
Words are drawn with probability proportional to the square root of their count. A word (any case)
belongs to the test split if its sha256 says so (1 in TEST_WORD_SHARE, fixed, whatever the seed), so
no test text shares a word with a training text.

Each line is written by one "hand" drawn per sample: scale, width, slant (a shear), letter spacing,
word spacing, a baseline that tilts and wanders, per-letter shifts. Within a word a letter joins the
next where the font joins them and goes on up a stem the font lifts from (m, n, u: RETRACE), dots of
i and j come after the word, the pen lifts between words. The path is resampled at an even spacing
(tablet-like, 3.3-4.1 font units) and given smooth jitter (Gaussian noise low-passed along the path).
Rows are offsets from the previous point (the first from the line's origin, the left end of its
baseline; y upwards), end of stroke = 1 on the last point before a pen lift (and on the last point),
divided by one global scale: the std of the offsets of the first SCALE_LINES training lines of seed 0.
Same split, seed and index, same line. Train: 16 characters, 203 points, 13 strokes per line (medians
and mean), 333 points at the 95th percentile, 498 at most; about 45 s to generate here.
"""

import dataclasses
import functools
import hashlib
import os
import re

import numpy as np

from recipes.data import kinds, kjv
from recipes.data.sources import DataNotFoundError

NAME = "strokes_kjv"
FONT_DIR, ENV = "/usr/share/hershey-fonts", "ZOO_HERSHEY_FONTS"
FACE = "cursive"
REMEDY = f"install Debian's hershey-fonts-data (apt-get install hershey-fonts-data) or point ${ENV} at a folder of .jhf files"
SPLITS = {"train": 20_000, "test": 1_000}
MAX_TEXT_LEN, MAX_WORDS = 25, 4
TOKENS = ["<pad>", " "] + [chr(c) for c in range(ord("A"), ord("Z") + 1)] + [chr(c) for c in range(ord("a"), ord("z") + 1)]
TEST_WORD_SHARE = 10  # one word in 10 (by hash) belongs to the test split
SCALE_LINES = 1_000
BASELINE = 9  # the script face's baseline, in Hershey's y (downwards)
DOT = 1  # font units: a stroke within a square this big is a dot (of i and j), written after its word
JOIN = 1.5  # font units: a letter whose first point is this close to the last letter's last joins it
RETRACE = 3.5  # font units: a letter's stroke this close to its previous one goes on from it (m, n, u: up the stem)
SPACING = (3.3, 4.1)  # resampling step along the path, font units (per line)


# --- the font -----------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Glyph:
    """One Hershey glyph: its `number`, `left` and `right` bounds and `strokes`, int arrays (n, 2)
    of (x, y) vertices (y downwards), the pen down along each."""

    number: int
    left: int
    right: int
    strokes: tuple


def parse_jhf(text):
    """The glyphs of a .jhf file's text, in order (a ValueError naming the glyph if one is cut short)."""
    glyphs, record = [], ""
    for line in text.splitlines():
        if not record and not line.strip():
            continue
        record += line
        try:
            count = int(record[5:8])
        except ValueError:
            raise ValueError(f"expected a Hershey glyph header (number, vertex count) at {record[:10]!r}") from None
        if len(record) < 8 + 2 * count:
            continue  # the glyph goes on on the next line
        pairs = [record[k:k + 2] for k in range(10, 8 + 2 * count, 2)]
        strokes, current = [], []
        for pair in pairs + [" R"]:
            if pair == " R":
                if current:
                    strokes.append(np.array(current, dtype=np.int64))
                current = []
            else:
                current.append((ord(pair[0]) - ord("R"), ord(pair[1]) - ord("R")))
        glyphs.append(Glyph(int(record[:5]), ord(record[8]) - ord("R"), ord(record[9]) - ord("R"), tuple(strokes)))
        record = ""
    if record:
        raise ValueError(f"glyph {record[:5].strip()} is cut short: expected {2 * count} coordinate characters, "
                         f"got {len(record) - 8}")
    return glyphs


@functools.lru_cache(maxsize=4)
def font(face=FACE):
    """{character: Glyph} for printable ASCII (space … "~") of a Hershey face (e.g. cursive,
    scripts, scriptc)."""
    path = os.path.join(os.environ.get(ENV) or FONT_DIR, f"{face}.jhf")
    if not os.path.isfile(path):
        raise DataNotFoundError(f"the Hershey font {path} is missing: {REMEDY}")
    with open(path, encoding="ascii") as f:
        glyphs = parse_jhf(f.read())
    if len(glyphs) < 95:
        raise ValueError(f"expected 95 or 96 glyphs (printable ASCII) in {path}; got {len(glyphs)}")
    return {chr(32 + k): glyph for k, glyph in enumerate(glyphs[:95])}


# --- the texts ------------------------------------------------------------------------------------

def is_test_word(word):
    """Whether `word` (any case) belongs to the test split."""
    return int(hashlib.sha256(word.lower().encode()).hexdigest(), 16) % TEST_WORD_SHARE == 0


@functools.lru_cache(maxsize=2)
def words(split):
    """(words, cumulative probabilities) of `split`: KJV word forms of letters only, drawn ∝ √count."""
    kinds.check_split(split)
    found = re.findall(r"[A-Za-z']+", kjv.text("train") + "\n" + kjv.text("test"))
    forms, counts = np.unique([w for w in found if "'" not in w], return_counts=True)
    keep = np.array([is_test_word(w) == (split == "test") and len(w) <= MAX_TEXT_LEN for w in forms])
    weights = np.cumsum(np.sqrt(counts[keep]))
    return list(forms[keep]), weights / weights[-1]


def _text(rng, split):
    """1-MAX_WORDS words of `split` drawn by `rng`, those that would make the line too long left out."""
    forms, cumulative = words(split)
    count, line = rng.integers(1, MAX_WORDS + 1), []
    for k in np.searchsorted(cumulative, rng.random(count), side="right"):
        if len(" ".join(line + [forms[k]])) <= MAX_TEXT_LEN:
            line.append(forms[k])
    return " ".join(line)  # never empty: the first word always fits


# --- the hand -----------------------------------------------------------------------------------

def _placed(text, rng):
    """The text's polylines in font units (y up, baseline 0), in writing order: glyphs side by side
    with this line's letter and word spacing; strokes that join (JOIN, RETRACE) merged, the pen
    going straight from one to the next; dots after their word."""
    glyphs, space = font(), font()[" "]
    gap, word_gap = rng.uniform(-0.5, 2.5), rng.uniform(0.6, 1.1) * (space.right - space.left)
    x, out = 0.0, []
    for word in text.split(" "):
        strokes, dots, exit_point = [], [], None  # the last letter's last point, from its right bound
        for ch in word:
            glyph = glyphs[ch]
            shift = np.array([x - glyph.left + rng.normal(0, 0.4), rng.normal(0, 0.4)])
            previous, reach = None if exit_point is None else exit_point + [glyph.left, 0], JOIN
            for stroke in glyph.strokes:
                points = (stroke - [0, BASELINE]) * [1, -1] + shift
                if np.ptp(stroke, axis=0).max() <= DOT:
                    dots.append(points)
                    continue
                if previous is not None and np.hypot(*(stroke[0] - previous)) <= reach:
                    strokes[-1] = np.concatenate([strokes[-1], points])  # the pen goes on
                else:
                    strokes.append(points)
                previous, reach = stroke[-1], RETRACE
            exit_point = previous - [glyph.right, 0]
            x += glyph.right - glyph.left + gap
        out += strokes + dots
        x += word_gap - gap
    return out


def _resample(strokes, step):
    """The strokes' points at an even spacing of about `step` along each (both ends kept; a stroke of
    no length stays one point), all strokes at once: (points (T, 2), each stroke's point count)."""
    points, counts = np.concatenate(strokes), np.array([len(stroke) for stroke in strokes])
    firsts = np.cumsum(counts) - counts
    segments = np.hypot(*np.diff(points, axis=0).T)
    segments[firsts[1:] - 1] = 1.0  # pen lifts: a unit of arc that no sample falls inside
    arc = np.concatenate([[0.0], np.cumsum(segments)])
    start, length = arc[firsts], arc[firsts + counts - 1] - arc[firsts]
    samples = np.where(length > 0, np.maximum(2, np.round(length / step).astype(int) + 1), 1)
    stroke = np.repeat(np.arange(len(strokes)), samples)
    k = np.arange(samples.sum()) - np.repeat(np.cumsum(samples) - samples, samples)
    at = start[stroke] + length[stroke] * k / np.maximum(samples[stroke] - 1, 1)
    return np.column_stack([np.interp(at, arc, points[:, 0]), np.interp(at, arc, points[:, 1])]), samples


def _smooth_noise(rng, count, sigma_points):
    """Gaussian noise (count, 2) low-passed by a Gaussian of `sigma_points`, unit std."""
    radius = int(3 * sigma_points)
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_points) ** 2)
    kernel /= np.sqrt((kernel ** 2).sum())
    white = rng.normal(size=(count + 2 * radius, 2))
    return np.stack([np.convolve(white[:, k], kernel, mode="valid") for k in range(2)], axis=1)


def pen_path(text, rng):
    """The pen's strokes writing `text` with a hand drawn from `rng`: a list of float arrays (n, 2),
    font units, y up, the pen down along each and lifted between them."""
    strokes = _placed(text, rng)
    size, width, slant = rng.uniform(0.85, 1.15), rng.uniform(0.9, 1.1), rng.uniform(-0.1, 0.4)
    tilt, wander, wavelength, phase = rng.normal(0, 0.02), rng.uniform(0, 1.5), rng.uniform(80, 250), rng.uniform(0, 2 * np.pi)
    step, jitter, smoothness = rng.uniform(*SPACING), rng.uniform(0.15, 0.5), rng.uniform(2, 4)
    hand = np.array([[width, 0], [slant, 1]]) * size  # row vectors: x' = size (width x + slant y), y' = size y
    points, counts = _resample([stroke @ hand for stroke in strokes], step)
    points[:, 1] += tilt * points[:, 0] + wander * np.sin(2 * np.pi * points[:, 0] / wavelength + phase)
    points += jitter * _smooth_noise(rng, len(points), smoothness)
    return np.split(points, np.cumsum(counts)[:-1])


def offsets(strokes):
    """float64 (T, 3) rows (Δx, Δy, end of stroke) of a list of strokes: each point minus the one
    before (the first minus the origin), end of stroke 1 on each stroke's last point."""
    points = np.concatenate(strokes)
    ends = np.zeros(len(points))
    ends[np.cumsum([len(s) for s in strokes]) - 1] = 1
    return np.column_stack([np.diff(points, axis=0, prepend=np.zeros((1, 2))), ends])


def encode(texts):
    """int32 (N, MAX_TEXT_LEN) token ids of texts (0 pads); a ValueError for a character not in TOKENS."""
    ids = np.zeros((len(texts), MAX_TEXT_LEN), np.int32)
    index = {token: k for k, token in enumerate(TOKENS)}
    for row, text in enumerate(texts):
        if len(text) > MAX_TEXT_LEN or any(ch not in index for ch in text):
            raise ValueError(f"expected texts of at most {MAX_TEXT_LEN} letters and spaces; got {text!r}")
        ids[row, :len(text)] = [index[ch] for ch in text]
    return ids


# --- the dataset --------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Strokes:
    """`strokes` N float32 arrays (T_i, 3) of (Δx, Δy, end of stroke) in units of `scale`, `lengths`
    int32 (N,) their T_i, `texts` N strings, `text_ids` int32 (N, MAX_TEXT_LEN) (0 pads), `tokens`
    the ids' characters (tokens[0] == "<pad>")."""

    strokes: list
    lengths: np.ndarray
    texts: list
    text_ids: np.ndarray
    tokens: list
    scale: float

    def __len__(self):
        return len(self.strokes)

    def padded(self, rows=None):
        """float32 (n, T, 3): the strokes of lines `rows` (all if None), zero rows after each up to the
        longest of them."""
        strokes = self.strokes if rows is None else [self.strokes[i] for i in rows]
        out = np.zeros((len(strokes), max(map(len, strokes), default=0), 3), np.float32)
        for row, stroke in zip(out, strokes):
            row[: len(stroke)] = stroke
        return out

    def inputs(self, rows=None):
        """A stroke writer's inputs for lines `rows` (all if None): {"strokes": `padded(rows)`, "text":
        their ids}."""
        return {"strokes": self.padded(rows), "text": self.text_ids if rows is None else self.text_ids[rows]}


def _raw_lines(split, seed, count):
    """(texts, float64 offsets in font units) of the first `count` lines of `split`."""
    texts, rows = [], []
    for index in range(count):
        rng = np.random.default_rng([seed, kinds.SPLITS.index(split), index])
        texts.append(_text(rng, split))
        rows.append(offsets(pen_path(texts[-1], rng)))
    return texts, rows


@functools.lru_cache(maxsize=1)
def offset_scale():
    """The std of the offsets (Δx and Δy together) of the first SCALE_LINES training lines of seed 0."""
    return float(np.concatenate([r[:, :2] for r in _raw_lines("train", 0, SCALE_LINES)[1]]).std())


@functools.lru_cache(maxsize=2)
def _generate(split, seed, count):
    texts, rows = _raw_lines(split, seed, count)
    scale = offset_scale()
    strokes = []
    for r in rows:
        stroke = np.column_stack([r[:, :2] / scale, r[:, 2]]).astype(np.float32)
        stroke.flags.writeable = False
        strokes.append(stroke)
    ids, lengths = encode(texts), np.array([len(s) for s in strokes], np.int32)
    ids.flags.writeable = lengths.flags.writeable = False
    return Strokes(strokes, lengths, texts, ids, list(TOKENS), scale)


class StrokesKJV(kinds.StrokeLines):
    def info(self):
        return {
            "name": self.name,
            "kind": self.kind,
            "splits": dict(SPLITS),
            "tokens": list(TOKENS),
            "max_text_len": MAX_TEXT_LEN,
            "offset_scale": offset_scale(),
            "face": FACE,
            "description": f"Pen trajectories (Δx, Δy, end of stroke) of 1-{MAX_WORDS} KJV words (letters only, at most "
            f"{MAX_TEXT_LEN} characters) written in the Hershey {FACE} face by a hand drawn per line (scale, slant, "
            "spacing, wandering baseline, smooth jitter), resampled evenly; test words never occur in training.",
            "license": "generated (CC0) from the Hershey fonts (free use, as distributed by Debian's hershey-fonts-data) "
            "and the King James Bible (public domain, Debian bible-kjv)",
        }

    def _load(self, split, seed, limit, source, data_dir):
        return _generate(split, seed, SPLITS[split] if limit is None else min(int(limit), SPLITS[split]))


DATASETS = [StrokesKJV(NAME)]
