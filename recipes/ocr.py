"""Readability of written lines: the character error rate of an OCR engine (Tesseract, Debian's
`tesseract-ocr`) reading images of them (`zoo.pictures.strokes_image`).

    from recipes import ocr
    ocr.read_lines(images)                          # what Tesseract reads on each line image
    ocr.character_error_rate(images, texts)         # percent: edit distance / reference characters
    ocr.strokes_error_rate(strokes, texts)          # the same of pen strokes, drawn as RENDER says

Tesseract runs once per image (`--psm 7`: the image is one line of text; `-l eng`, its LSTM engine),
`workers` at a time, each single-threaded. Texts are compared normalised: lower case, runs of
whitespace as one space, no space at either end. The CER is the sum over lines of the Levenshtein
distance (insertions, deletions, substitutions, each 1) between what was read and the reference,
over the sum of the references' lengths, in percent (above 100 when the reading is longer and wrong).
"""

import io
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np

TESSERACT = "tesseract"
# How strokes are drawn for reading. Tesseract (5.3, --psm 7) on the ground truth of the first 200
# strokes_kjv test lines: CER 19.0% at 24 px, 1.2 px pen (no line read as empty); 18.6% at 28 px,
# 1.5 px (4 empty); 25.1% at 32 px; 44% at 48 px; 48-54% at 64-96 px (many lines read as empty).
RENDER = {"height": 24, "thickness": 1.2}
REMEDY = "install Debian's tesseract-ocr (apt-get install tesseract-ocr)"


def _tesseract():
    path = shutil.which(TESSERACT)
    if path is None:
        raise RuntimeError(f"the character error rate needs the `{TESSERACT}` program: {REMEDY}")
    return path


def _read(program, image):
    from PIL import Image

    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 2:
        raise ValueError(f"expected a uint8 (height, width) line image; got {image.dtype} of shape {image.shape}")
    png = io.BytesIO()
    Image.fromarray(image).save(png, format="PNG")
    run = subprocess.run([program, "stdin", "stdout", "--psm", "7", "-l", "eng"], input=png.getvalue(),
                         capture_output=True, check=True, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    return run.stdout.decode("utf-8", errors="replace")


def read_lines(images, workers=2):
    """What Tesseract reads on each uint8 (height, width) image of one line (black on white), in order."""
    program = _tesseract()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda image: _read(program, image), images))


def normalise(text):
    """`text` lower-cased, whitespace runs as one space, stripped."""
    return " ".join(text.lower().split())


def edit_distance(a, b):
    """The Levenshtein distance between strings `a` and `b` (insertions, deletions, substitutions)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row = row, [i]
        for j, cb in enumerate(b, 1):
            row.append(min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ca != cb)))
    return row[-1]


def character_error_rate(images, texts, workers=2):
    """Tesseract's character error rate in percent on line `images` of `texts` (module docstring)."""
    if len(images) != len(texts) or not len(texts):
        raise ValueError(f"expected as many images as texts (at least one); got {len(images)} images, {len(texts)} texts")
    references = [normalise(text) for text in texts]
    if not sum(map(len, references)):
        raise ValueError("expected texts with at least one character; got only empty texts")
    readings = [normalise(text) for text in read_lines(images, workers)]
    return 100.0 * sum(edit_distance(r, t) for r, t in zip(readings, references)) / sum(map(len, references))


def strokes_error_rate(strokes, texts, workers=2):
    """`character_error_rate` of pen strokes (rows (Δx, Δy, end of stroke) per line) drawn by
    `zoo.pictures.strokes_image` with RENDER: the same drawing for written samples and ground truth."""
    from zoo.pictures import strokes_image

    return character_error_rate([strokes_image(s, **RENDER) for s in strokes], texts, workers)
