"""Tests of the handwriting data (recipes.data.strokes), its drawing (zoo.pictures.strokes_image)
and the readability measure (recipes.ocr)."""

import os
import shutil

import numpy as np
import pytest

from recipes import data, ocr
from recipes.data import kinds, strokes
from zoo.pictures import strokes_image

FONTS = os.path.isfile(os.path.join(strokes.FONT_DIR, "cursive.jhf")) or bool(os.environ.get(strokes.ENV))
needs_data = pytest.mark.skipif(not (FONTS and shutil.which("bible")), reason="hershey-fonts-data or bible-kjv not installed")
needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr not installed")

# The letter "i" of cursive.jhf, as the file has it, and its coordinates read by hand: characters
# minus "R" (P = -2, W = 5, S = 1, M = -5, …); " R" lifts the pen between the dot and the body.
I_RECORD = "12345 16PWSMSNTNTMSM RPVRRPXPZQ[R[TZUYWV"
I_LEFT, I_RIGHT = -2, 5
I_STROKES = [[(1, -5), (1, -4), (2, -4), (2, -5), (1, -5)],
             [(-2, 4), (0, 0), (-2, 6), (-2, 8), (-1, 9), (0, 9), (2, 8), (3, 7), (5, 4)]]


def test_the_parser_reads_a_glyph_decoded_by_hand_also_when_it_wraps():
    space = "12345  1JZ"
    for text in (f"{space}\n{I_RECORD}\n", f"{space}\n{I_RECORD[:21]}\n{I_RECORD[21:]}\n"):  # cut after the " " of " R"
        blank, glyph = strokes.parse_jhf(text)
        assert (blank.left, blank.right, blank.strokes) == (-8, 8, ())
        assert (glyph.number, glyph.left, glyph.right) == (12345, I_LEFT, I_RIGHT)
        assert [s.tolist() for s in glyph.strokes] == [[list(p) for p in s] for s in I_STROKES]
    with pytest.raises(ValueError, match="glyph 12345 is cut short"):
        strokes.parse_jhf(I_RECORD[:30])


@needs_data
def test_the_debian_font_file_has_that_glyph():
    font = strokes.font()
    assert len(font) == 95 and font[" "].strokes == () and font["i"].left == I_LEFT
    assert [s.tolist() for s in font["i"].strokes] == [[list(p) for p in s] for s in I_STROKES]


@needs_data
def test_lines_are_seeded_and_a_prefix_is_the_prefix():
    first = data.load_strokes("strokes_kjv", "test", limit=6)
    again = strokes.DATASETS[0].load("test", limit=3)
    other = data.load_strokes("strokes_kjv", "test", seed=1, limit=3)
    assert first.texts[:3] == again.texts and first.texts[:3] != other.texts
    for a, b in zip(first.strokes, again.strokes):
        np.testing.assert_array_equal(a, b)
    assert not first.strokes[0].flags.writeable


@needs_data
def test_arrays_tokens_and_padding():
    lines = data.load_strokes("strokes_kjv", "test", limit=50)
    assert lines.tokens[0] == "<pad>" and lines.text_ids.dtype == np.int32 and lines.text_ids.shape == (50, 25)
    assert ["".join(lines.tokens[i] for i in row if i) for row in lines.text_ids] == lines.texts
    assert all(len(t) <= 25 and set(t) <= set(strokes.TOKENS[1:]) for t in lines.texts)
    assert {len(t.split(" ")) for t in lines.texts} <= {1, 2, 3, 4}
    for stroke, length in zip(lines.strokes, lines.lengths):
        assert stroke.dtype == np.float32 and stroke.shape == (length, 3)
        assert set(np.unique(stroke[:, 2])) == {0.0, 1.0} and stroke[-1, 2] == 1
    padded = lines.padded()
    assert padded.shape == (50, lines.lengths.max(), 3)
    k = int(np.argmin(lines.lengths))
    np.testing.assert_array_equal(padded[k, :lines.lengths[k]], lines.strokes[k])
    assert not padded[k, lines.lengths[k]:].any()
    assert strokes.DATASETS[0].model_config({"mixtures": 20}, {}) == {
        "mixtures": 20, "tokens": strokes.TOKENS, "max_text_len": 25}
    with pytest.raises(ValueError, match="use load_strokes"):
        data.load_arrays("strokes_kjv")


@needs_data
def test_test_words_never_occur_in_training_texts():
    train, test = ({w.lower() for w in strokes.words(split)[0]} for split in kinds.SPLITS)
    assert not train & test and 0.08 < len(test) / len(train | test) < 0.12
    train_words = {w.lower() for t in data.load_strokes("strokes_kjv", "train", limit=2000).texts for w in t.split()}
    test_words = {w.lower() for t in data.load_strokes("strokes_kjv", "test").texts for w in t.split()}
    assert len(test_words) > 500 and not train_words & test_words and test_words <= test


@needs_data
def test_offsets_add_up_to_the_pen_path_and_mark_its_lifts():
    lines = data.load_strokes("strokes_kjv", "train", limit=3)
    for index, (stroke, text) in enumerate(zip(lines.strokes, lines.texts)):
        rng = np.random.default_rng([0, 0, index])  # the line's generator: seed 0, train, index
        assert strokes._text(rng, "train") == text
        path = strokes.pen_path(text, rng)
        np.testing.assert_allclose(np.cumsum(stroke[:, :2].astype(np.float64), axis=0) * lines.scale,
                                   np.concatenate(path), atol=1e-3)
        assert np.flatnonzero(stroke[:, 2]).tolist() == (np.cumsum([len(p) for p in path]) - 1).tolist()
    # In the font, m, i, n and u join, so "minimum" is one stroke and the dots of its two i's.
    rows = strokes.offsets(strokes.pen_path("minimum", np.random.default_rng(5)))
    assert rows[:, 2].sum() == 3 and rows[-1, 2] == 1
    steps = np.hypot(rows[1:, 0], rows[1:, 1])
    within, lifts = steps[rows[:-1, 2] == 0], steps[rows[:-1, 2] == 1]
    assert 2.5 < np.median(within) < 5 and lifts.min() > within.max()  # tablet-like spacing; dots sit apart
    assert strokes.offsets(strokes.pen_path("mum mum", np.random.default_rng(5)))[:, 2].sum() == 2


@needs_data
def test_the_offset_scale_is_the_std_of_the_training_offsets():
    lines = data.load_strokes("strokes_kjv", "train", limit=strokes.SCALE_LINES)
    assert data.info("strokes_kjv")["offset_scale"] == lines.scale
    np.testing.assert_allclose(np.concatenate([s[:, :2] for s in lines.strokes]).std(), 1.0, rtol=1e-4)


@needs_data
def test_preview_draws_lines_with_their_texts(tmp_path):
    lines = data.preview("strokes_kjv", tmp_path / "s.png", split="test", n=3)
    assert len(lines) == 4 and lines[-1] == f"wrote {tmp_path / 's.png'}"
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_drawn_line_lifts_the_pen():
    # two horizontal strokes, the pen lifted between them: (0, 0) → (10, 0), then (0, -5) → (10, -5)
    rows = np.array([[0, 0, 0], [10, 0, 1], [-10, -5, 0], [10, 0, 1]], np.float32)
    image = strokes_image(rows, height=40, thickness=2, margin=4)
    assert image.dtype == np.uint8 and image.shape == (40, 4 + 64 + 4) and image[0, 0] == 255
    ink = image < 128
    rows_inked = np.flatnonzero(ink.any(axis=1))
    assert rows_inked.min() <= 6 and rows_inked.max() >= 33  # y up: the first stroke on top
    assert not ink[12:28].any(), "no ink between the strokes: the pen was lifted"
    with pytest.raises(ValueError, match=r"\(T, 3\)"):
        strokes_image(np.zeros((4, 2)))


def test_edit_distance_and_normalisation():
    for a, b, distance in (("kitten", "sitting", 3), ("flaw", "lawn", 2), ("", "abc", 3), ("abc", "", 3), ("ab", "ab", 0)):
        assert ocr.edit_distance(a, b) == distance == ocr.edit_distance(b, a)
    assert ocr.normalise("  The\tLORD \n said ") == "the lord said"


def test_the_error_rate_counts_edits_over_reference_characters(monkeypatch):
    monkeypatch.setattr(ocr, "read_lines", lambda images, workers: ["Abd ", "d  e", "xyzzy"])
    # "abd" vs "abc": 1; "d e" vs "de": 1; "xyzzy" vs "": 5 — over 3 + 2 + 0 reference characters
    assert ocr.character_error_rate([None] * 3, ["abc", "de", " "]) == pytest.approx(100 * 7 / 5)
    with pytest.raises(ValueError, match="as many images as texts"):
        ocr.character_error_rate([None], ["a", "b"])


def test_a_missing_tesseract_says_what_to_install(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install tesseract-ocr"):
        ocr.read_lines([np.zeros((8, 8), np.uint8)])


@needs_tesseract
def test_tesseract_reads_a_printed_line():
    from PIL import Image, ImageDraw, ImageFont

    texts = ["the quick brown fox", "In the beginning God"]
    images = []
    for text in texts:
        canvas = Image.new("L", (560, 64), 255)
        ImageDraw.Draw(canvas).text((12, 12), text, fill=0, font=ImageFont.load_default(size=32))
        images.append(np.asarray(canvas))
    assert [ocr.normalise(t) for t in ocr.read_lines(images)] == [ocr.normalise(t) for t in texts]
    assert ocr.character_error_rate(images, texts) == 0
    assert ocr.character_error_rate(images[::-1], texts) > 50


@needs_data
def test_strokes_are_drawn_for_reading_as_render_says(monkeypatch):
    lines = data.load_strokes("strokes_kjv", "test", limit=4)
    seen = []
    monkeypatch.setattr(ocr, "read_lines", lambda images, workers: seen.extend(images) or list(lines.texts[:2]) + ["", ""])
    missing = sum(len(t) for t in lines.texts[2:]) / sum(len(t) for t in lines.texts)
    assert ocr.strokes_error_rate(lines.strokes, lines.texts) == pytest.approx(100 * missing)
    assert [image.shape[0] for image in seen] == [ocr.RENDER["height"]] * 4
    np.testing.assert_array_equal(seen[0], strokes_image(lines.strokes[0], **ocr.RENDER))
