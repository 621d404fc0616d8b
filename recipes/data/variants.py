"""Seeded generators of translated, cluttered and distorted variants of a base dataset.

Example i of a variant is made from example i of its base split (canonical order); labels
are unchanged. All randomness comes from ``np.random.default_rng([seed, split_index,
crc32(variant name), chunk])`` for chunks of 1,000 examples, so the same (name, split,
seed) gives the same bytes on every machine, and the first N examples do not depend on
how many are generated. Warps sample the 28×28 item bilinearly (scipy.ndimage
``map_coordinates``, order=1, zero outside the item) at coordinates snapped to 1/256 px,
which makes the interpolation exact arithmetic; outputs are rounded and clipped to uint8.

RAM = Mnih et al. 2014, "Recurrent Models of Visual Attention";
STN = Jaderberg et al. 2015, "Spatial Transformer Networks".

``translated60``  RAM: the item at a uniformly random integer position in a 60×60 black canvas.
``cluttered60``   RAM: as translated60, plus 4 fragments of 8×8 px, each cut at a uniformly
                  random position from a uniformly random *other* item of the same split and
                  pasted at a uniformly random position; overlaps combine with np.maximum.
``cluttered100``  RAM: the same on a 100×100 canvas with 8 fragments.
``cluttered200``, ``cluttered400``  the same at 200×200 and 400×400 with the clutter density of
                  cluttered100 (8 fragments per 100×100: 32 and 128 fragments). Too big to hold
                  (a 400-px train split of 60,000 is 9.6 GB), they are *streamed*: training draws
                  each batch on its own (`draw`: items chosen by the caller, positions and clutter
                  from (seed, split, name, epoch, batch) alone), and `generate` makes any prefix, one
                  chunk at a time, with the same bytes whatever the prefix.
``r``             STN "R": rotation by a uniform angle in [-90°, 90°] about the item's centre,
                  item centred in a 42×42 canvas (28×28 padded by 7 px, so nothing is clipped).
``rts``           STN "RTS": rotation uniform in [-45°, 45°], isotropic scale uniform in
                  [0.7, 1.2], then a uniformly random (sub-pixel) translation in a 42×42 canvas
                  within the range that keeps the item's ink bounding box inside the canvas;
                  items too large to fit are centred. (The STN paper says only "translated
                  within 42×42"; the ink-box rule is ours.)
``p``             STN "P": projective. The item is scaled by a uniform factor in [0.75, 1.0]
                  and centred in 42×42; its four corners are then moved by independent
                  Gaussian noise of std 0.1 × 28 = 2.8 px and the item is warped by the
                  homography that maps its corners to the moved ones.
``binarized``     DRAW / VAE benchmarks: the 28×28 item statically binarised, each pixel on (255)
                  with probability intensity / 255, drawn once (Murray & Salakhutdinov 2008's
                  stochastic binarisation, fixed per seed; not a threshold, not redrawn per epoch).
``e``             STN "E": elastic, item centred in 42×42. Our parameters follow Simard et
                  al. 2003 (they are not taken from the STN paper): per-pixel displacements
                  uniform in [-1, 1] for y and x, smoothed by a Gaussian of σ = 4 px
                  (scipy ``gaussian_filter``, mode "reflect") and scaled by α = 34, which
                  moves pixels by about 1.6 px RMS and keeps items recognisable.
"""

import functools
import os
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import ndimage

CHUNK = 1000
ITEM = 28  # side of a base item
ITEM_CENTRE = (ITEM - 1) / 2
FRAGMENT = 8
STN_CANVAS = 42
R_MAX_ANGLE = 90.0
RTS_MAX_ANGLE, RTS_SCALE = 45.0, (0.7, 1.2)
P_SCALE, P_CORNER_STD = (0.75, 1.0), 0.1 * ITEM
E_SIGMA, E_ALPHA = 4.0, 34.0


def generate(name, images, seed, split_index, count=None, start=0):
    """Examples `start` … `count` − 1 (default: to the end) of variant `name` of base `images`
    (N, 28, 28, 1) uint8; `start` is a multiple of CHUNK (a stream of the split, one chunk at a time)."""
    variant = VARIANTS[name]
    items = np.ascontiguousarray(images[..., 0])
    total = len(items)
    n = total if count is None else min(count, total)
    if start % CHUNK or not 0 <= start <= n:
        raise ValueError(f"start must be a multiple of {CHUNK} in 0 … {n}; got {start}")
    out = np.empty((n - start, variant.size, variant.size, 1), np.uint8)
    key = zlib.crc32(name.encode())

    def make_chunk(first):
        # Always make the whole chunk, so a prefix of the split is a prefix of the full result.
        rng = np.random.default_rng([seed, split_index, key, first // CHUNK])
        made = variant.make(rng, items, first, min(first + CHUNK, total))
        out[first - start : first - start + CHUNK, ..., 0] = made[: n - first]

    with ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:  # scipy.ndimage releases the GIL
        list(pool.map(make_chunk, range(start, n, CHUNK)))
    return out


STREAM = 2**32 - 1  # marks a batch's generator key: no chunk key (4 numbers, chunk < STREAM) equals it


def draw(name, images, rows, seed, split_index, epoch, batch):
    """Batch `batch` of epoch `epoch` of a streamed variant: base items `rows` (indices into `images`,
    the whole base split), placed and cluttered by `default_rng([seed, split_index, crc32(name),
    STREAM, epoch, batch])` alone, so the same arguments give the same bytes and only this batch
    is made. (B, size, size, 1) uint8."""
    variant = VARIANTS[name]
    if not variant.streamed:
        raise ValueError(f"only streamed variants (cluttered200, cluttered400) are drawn per batch; got {name!r}")
    rng = np.random.default_rng([seed, split_index, zlib.crc32(name.encode()), STREAM, epoch, batch])
    items = images[..., 0]
    return _cluttered_rows(rng, items, np.asarray(rows, np.int64), variant.size, variant.fragments)[..., None]


def cluttered(items, size, fragments, seed=0):
    """Each item (N, 28, 28, 1) uint8 at a random place on a size×size canvas with `fragments`
    8×8 pieces of other items: the RAM paper's clutter at any canvas size (benchmarks use it)."""
    return _cluttered(np.random.default_rng(seed), np.ascontiguousarray(items[..., 0]), 0, len(items), size, fragments)[..., None]


def _paste(canvas, patches, positions):
    """np.maximum each patch into its canvas at (y, x) = positions[:, i] (one patch per canvas, so
    the gather and the scatter below touch each pixel once)."""
    h, w = patches.shape[1:]
    where = (np.arange(len(patches))[:, None, None], positions[0][:, None, None] + np.arange(h)[:, None],
             positions[1][:, None, None] + np.arange(w))
    canvas[where] = np.maximum(canvas[where], patches)


def _item_origins(rng, count, size):
    """(2 = (y, x), count) top-left canvas pixels of the items: a chunk's first draw."""
    return rng.integers(0, size - ITEM + 1, (2, count))


def _translated(rng, images, start, stop, size):
    return _translated_rows(rng, images, np.arange(start, stop), size)


def _translated_rows(rng, images, rows, size):
    """Items `rows` of `images` each at a random place on a black size×size canvas."""
    canvas = np.zeros((len(rows), size, size), np.uint8)
    _paste(canvas, images[rows], _item_origins(rng, len(rows), size))
    return canvas


def item_origins(name, seed, split_index, total, count=None):
    """(count, 2) top-left (y, x) canvas pixels of the 28×28 item in the first `count` (default:
    all) of the `total` examples of a translated or cluttered variant, replayed from each chunk's
    generator without drawing any image (`generate` draws them first)."""
    variant = VARIANTS[name]
    if getattr(variant.make, "func", None) not in (_translated, _cluttered):
        raise ValueError(f"only translated and cluttered variants place the item at one position; got {name!r}")
    key = zlib.crc32(name.encode())
    n = total if count is None else min(count, total)
    chunks = [_item_origins(np.random.default_rng([seed, split_index, key, start // CHUNK]),
                            min(start + CHUNK, total) - start, variant.size).T for start in range(0, n, CHUNK)]
    return np.concatenate(chunks)[:n] if chunks else np.zeros((0, 2), np.int64)


def _cluttered(rng, images, start, stop, size, fragments):
    return _cluttered_rows(rng, images, np.arange(start, stop), size, fragments)


def _cluttered_rows(rng, images, rows, size, fragments):
    """Items `rows` of `images` translated, plus `fragments` 8×8 pieces of other items of `images`."""
    canvas = _translated_rows(rng, images, rows, size)
    count = len(rows)
    others = (rows[:, None] + rng.integers(1, len(images), (count, fragments))) % len(images)
    crops = rng.integers(0, ITEM - FRAGMENT + 1, (2, count, fragments))
    places = rng.integers(0, size - FRAGMENT + 1, (2, count, fragments))
    offsets = np.arange(FRAGMENT)
    for k in range(fragments):
        rows = crops[0, :, k, None, None] + offsets[:, None]
        cols = crops[1, :, k, None, None] + offsets
        _paste(canvas, images[others[:, k, None, None], rows, cols], places[:, :, k])
    return canvas


def _sample(items, coords):
    """Bilinear samples of items (B, 28, 28) at item pixel coords (2 = (y, x), B, H, W), as uint8."""
    points = np.empty((3, *coords.shape[1:]))
    points[0] = np.arange(len(items))[:, None, None]  # batch index: exact, so no blending across items
    snapped = points[1:]
    np.clip(coords, -2, ITEM + 1, out=snapped)
    snapped *= 256
    np.rint(snapped, out=snapped)
    snapped /= 256
    out = ndimage.map_coordinates(items.astype(np.float64), points, order=1, mode="grid-constant", prefilter=False)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _warp(items, forward, size):
    """Warp items (B, 28, 28) into (B, size, size) by homographies `forward` (B, 3, 3): item (y, x, 1) → canvas."""
    grid = np.mgrid[:size, :size].reshape(2, -1).astype(np.float64)
    points = np.vstack([grid, np.ones(grid.shape[1])])
    inverse = np.linalg.inv(forward).transpose(1, 0, 2).reshape(-1, 3)  # rows (y, x, w) of each item
    source = (inverse @ points).reshape(3, len(items), size, size)
    return _sample(items, source[:2] / source[2])


def _similarity(angle_degrees, scale, size):
    """(B, 3, 3) maps rotating by `angle`, scaling by `scale` about the item's centre, centred in `size`."""
    angle = np.deg2rad(angle_degrees)
    forward = np.zeros((len(angle), 3, 3))
    forward[:, 0, 0] = forward[:, 1, 1] = scale * np.cos(angle)
    forward[:, 0, 1], forward[:, 1, 0] = -scale * np.sin(angle), scale * np.sin(angle)
    forward[:, :2, 2] = (size - 1) / 2 - forward[:, :2, :2] @ np.full(2, ITEM_CENTRE)
    forward[:, 2, 2] = 1
    return forward


def _ink_corners(items):
    """Homogeneous (y, x, 1) corners (B, 4, 3) of each item's ink bounding box (pixel edges)."""
    rows, cols = items.any(axis=2), items.any(axis=1)
    top, left = rows.argmax(axis=1) - 0.5, cols.argmax(axis=1) - 0.5
    bottom, right = ITEM - 0.5 - rows[:, ::-1].argmax(axis=1), ITEM - 0.5 - cols[:, ::-1].argmax(axis=1)
    ys, xs = np.stack([top, top, bottom, bottom], axis=1), np.stack([left, right, left, right], axis=1)
    return np.stack([ys, xs, np.ones_like(ys)], axis=-1)


def _rotated(rng, images, start, stop):
    items = images[start:stop]
    angle = rng.uniform(-R_MAX_ANGLE, R_MAX_ANGLE, len(items))
    return _warp(items, _similarity(angle, np.ones(len(items)), STN_CANVAS), STN_CANVAS)


def _rts(rng, images, start, stop):
    items = images[start:stop]
    angle = rng.uniform(-RTS_MAX_ANGLE, RTS_MAX_ANGLE, len(items))
    forward = _similarity(angle, rng.uniform(*RTS_SCALE, len(items)), STN_CANVAS)
    ink = np.einsum("bij,bkj->bki", forward, _ink_corners(items))[..., :2]  # (B, 4, 2) in the canvas
    low, high = -0.5 - ink.min(axis=1), STN_CANVAS - 0.5 - ink.max(axis=1)  # shifts keeping the ink inside
    u = rng.random((len(items), 2))
    forward[:, :2, 2] += np.where(low <= high, low + u * (high - low), (low + high) / 2)
    return _warp(items, forward, STN_CANVAS)


def _homography(source, target):
    """(B, 3, 3) homographies mapping 4 points `source` (4, 2) onto `target` (B, 4, 2), h33 = 1."""
    count = len(target)
    system = np.zeros((count, 8, 8))
    for k, (y, x) in enumerate(source):
        v, u = target[:, k, 0], target[:, k, 1]
        system[:, 2 * k, 0:3] = system[:, 2 * k + 1, 3:6] = (y, x, 1)
        system[:, 2 * k, 6], system[:, 2 * k, 7] = -y * v, -x * v
        system[:, 2 * k + 1, 6], system[:, 2 * k + 1, 7] = -y * u, -x * u
    h = np.linalg.solve(system, target.reshape(count, 8, 1))[..., 0]
    return np.concatenate([h, np.ones((count, 1))], axis=1).reshape(count, 3, 3)


def _projective(rng, images, start, stop):
    items = images[start:stop]
    corners = np.array([[0, 0], [0, ITEM], [ITEM, ITEM], [ITEM, 0]], np.float64) - 0.5  # pixel edges
    scale = rng.uniform(*P_SCALE, len(items))[:, None, None]
    target = (STN_CANVAS - 1) / 2 + scale * (corners - ITEM_CENTRE)
    target = target + rng.normal(0.0, P_CORNER_STD, target.shape)
    return _warp(items, _homography(corners, target), STN_CANVAS)


def _elastic(rng, images, start, stop):
    items = images[start:stop]
    noise = rng.uniform(-1.0, 1.0, (2, len(items), STN_CANVAS, STN_CANVAS))
    displacement = E_ALPHA * ndimage.gaussian_filter(noise, (0, 0, E_SIGMA, E_SIGMA))
    grid = np.mgrid[:STN_CANVAS, :STN_CANVAS] - (STN_CANVAS - ITEM) / 2  # item coords of canvas pixels
    return _sample(items, grid[:, None] + displacement)


def _binarized(rng, images, start, stop):
    items = images[start:stop]
    return np.where(rng.random(items.shape) < items / 255.0, 255, 0).astype(np.uint8)


@dataclass(frozen=True)
class Variant:
    size: int  # output images are (size, size, 1)
    make: Callable  # (rng, items (N, 28, 28), start, stop) -> (stop - start, size, size) uint8
    description: str
    fragments: int = 0  # clutter fragments per image (cluttered variants)
    streamed: bool = False  # too big to hold: drawn per batch (`draw`) and per chunk, never whole


def _big_cluttered(size):
    """Cluttered at `size` px with cluttered100's density: 8 fragments per 100×100, scaled with the area."""
    fragments = 8 * size * size // (100 * 100)
    return Variant(size, functools.partial(_cluttered, size=size, fragments=fragments),
                   f"Cluttered at {size}×{size} with the clutter density of cluttered100 (8 fragments per 100×100): "
                   f"the item at a random position plus {fragments} {_FRAGMENTS}, each at a random position; "
                   "overlaps combine with max. Streamed: training draws every batch anew.", fragments, streamed=True)


_STN = f"{STN_CANVAS}×{STN_CANVAS}"
_FRAGMENTS = f"{FRAGMENT}×{FRAGMENT}-px fragments cut at random from random other items of the split"
VARIANTS = {
    "translated60": Variant(
        60,
        functools.partial(_translated, size=60),
        "Translated (RAM paper): the 28×28 item at a uniformly random integer position in a 60×60 black canvas.",
    ),
    "cluttered60": Variant(
        60,
        functools.partial(_cluttered, size=60, fragments=4),
        f"Cluttered (RAM paper): the item at a random position in 60×60 plus 4 {_FRAGMENTS}, "
        "each at a random position; overlaps combine with max.",
    ),
    "cluttered100": Variant(
        100,
        functools.partial(_cluttered, size=100, fragments=8),
        f"Cluttered (RAM paper): the item at a random position in 100×100 plus 8 {_FRAGMENTS}, "
        "each at a random position; overlaps combine with max.",
    ),
    "cluttered200": _big_cluttered(200),
    "cluttered400": _big_cluttered(400),
    "r": Variant(
        STN_CANVAS,
        _rotated,
        f"Rotated, STN paper 'R': rotation by a uniform angle in [-{R_MAX_ANGLE:g}°, {R_MAX_ANGLE:g}°], "
        f"item centred in {_STN} (padded, not clipped); bilinear.",
    ),
    "rts": Variant(
        STN_CANVAS,
        _rts,
        f"Rotated, scaled, translated, STN paper 'RTS': rotation uniform in [-{RTS_MAX_ANGLE:g}°, "
        f"{RTS_MAX_ANGLE:g}°], scale uniform in [{RTS_SCALE[0]}, {RTS_SCALE[1]}], then a uniform random "
        f"translation in {_STN} that keeps the item's ink bounding box inside the canvas (our rule; "
        "items too large to fit are centred); bilinear.",
    ),
    "p": Variant(
        STN_CANVAS,
        _projective,
        f"Projective, STN paper 'P': item scaled by a uniform factor in [{P_SCALE[0]}, {P_SCALE[1]}] and "
        f"centred in {_STN}, its 4 corners moved by Gaussian noise of std {P_CORNER_STD:g} px "
        "(0.1 × item width), warped by the resulting homography; bilinear.",
    ),
    "binarized": Variant(
        ITEM,
        _binarized,
        "Statically binarised (DRAW / VAE benchmarks): each pixel on with probability intensity/255, drawn once "
        "per seed (stochastic binarisation, fixed; not a threshold).",
    ),
    "e": Variant(
        STN_CANVAS,
        _elastic,
        f"Elastic, STN paper 'E' with Simard et al. 2003 parameters (ours): item centred in {_STN}, "
        f"displacement fields uniform(-1, 1) per pixel smoothed by a Gaussian of sigma {E_SIGMA:g} px "
        f"and scaled by alpha {E_ALPHA:g} (about 1.6 px RMS); bilinear.",
    ),
}
