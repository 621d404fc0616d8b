"""The weight store: shipped files, a verified download cache, and safe loading.

Where a weights file is looked for, in order:
1. `zoo/weights/` inside the package (the files the zoo ships);
2. the cache directory `$ATTENTION_ZOO_HOME` (default `~/.cache/attention_zoo`), which also
   serves as a local directory users can fill by hand for offline machines;
3. the record's URL, downloaded with `keras.utils.get_file` into the cache, unless offline
   mode is on (`ATTENTION_ZOO_OFFLINE=1` or `offline=True`), which never touches the network.

Every file is checked against its full sha256 before use. A file whose sha256 or whose
arrays do not match is refused with a `WeightsError` before any variable is assigned.
All writes are atomic: a temporary file in the target directory, then `os.replace`.
"""

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

SHIPPED_DIR = Path(__file__).resolve().parent / "weights"


class WeightsError(ValueError):
    """A weights file is missing, corrupt, tampered with, or does not fit the model."""


class WeightsMismatch(WeightsError):
    """A readable weights file whose arrays do not fit the model's variables (another configuration)."""


def home():
    """The cache directory: `$ATTENTION_ZOO_HOME`, default `~/.cache/attention_zoo`."""
    return Path(os.environ.get("ATTENTION_ZOO_HOME") or Path.home() / ".cache" / "attention_zoo")


def offline_mode():
    """True when `ATTENTION_ZOO_OFFLINE` is set to 1/true/yes."""
    return os.environ.get("ATTENTION_ZOO_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def sha256(path):
    """Full hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; on success it replaces `path` in one step.

    Whoever writes to the yielded path (h5py, Keras, TFLite, matplotlib) never leaves a
    half-written file at `path`: on any error the temporary file is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Keep the full suffix (".weights.h5", ".tflite") so writers that check it are satisfied.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix="".join(path.suffixes[-2:]))
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would hide the file from other users
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path, text):
    """Write `text` to `path` atomically."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


def verify(path, expected_sha256):
    """Refuse `path` unless its sha256 equals `expected_sha256`."""
    actual = sha256(path)
    if actual != expected_sha256.lower():
        raise WeightsError(
            f"weights file {path} failed its integrity check: expected sha256 {expected_sha256}, "
            f"got {actual}. The file is corrupt or was modified; delete it and fetch it again."
        )
    return Path(path)


def fetch(file, expected_sha256, url=None, offline=None):
    """Return a verified local path for the weights `file` (a file name), fetching it if needed."""
    offline = offline_mode() if offline is None else offline
    looked = []
    for directory in (SHIPPED_DIR, home()):
        candidate = directory / file
        looked.append(str(candidate))
        if candidate.exists():
            return verify(candidate, expected_sha256)
    if url is None:
        raise WeightsError(f"weights file {file!r} not found; looked in {', '.join(looked)} and it has no download URL")
    if offline:
        raise WeightsError(
            f"weights file {file!r} is not cached and offline mode is on; looked in {', '.join(looked)}. "
            f"Copy it there, or download it from {url} on a machine that is online."
        )
    return download(url, home() / file, expected_sha256)


def download(url, target, expected_sha256=None):
    """Download `url` to `target` through a temporary file; verified before it lands."""
    import keras

    target = Path(target)
    with tempfile.TemporaryDirectory(dir=_mkdir(target.parent)) as tmpdir:
        try:
            got = keras.utils.get_file(fname=target.name, origin=url, cache_dir=tmpdir, cache_subdir=".")
        except Exception as e:  # network errors come in many types
            raise WeightsError(f"could not download {url}: {e}") from e
        if expected_sha256:
            verify(got, expected_sha256)
        os.replace(got, target)
    return target


def _mkdir(path):
    Path(path).mkdir(parents=True, exist_ok=True)
    return path


def _file_arrays(path):
    """Shapes of the model arrays in a Keras `.weights.h5` file (optimizer state excluded), in file order."""
    import h5py

    shapes = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and not name.startswith("optimizer/"):
            shapes.append((name, obj.shape))

    try:
        with h5py.File(path, "r") as f:
            f.visititems(visit)
    except OSError as e:
        raise WeightsError(f"{path} is not a readable Keras weights file (HDF5): {e}") from e
    return shapes


def load_into(model, path):
    """Load a `.weights.h5` file into a built `model`, refusing files that do not fit it.

    The file's arrays are compared with the model's variables (count and shapes) before
    anything is assigned, so a mismatched file never leaves the model half-loaded.
    """
    path = Path(path)
    if not path.exists():
        raise WeightsError(f"weights file {path} does not exist")
    in_file = sorted(shape for _, shape in _file_arrays(path))
    expected = sorted(tuple(v.shape) for v in model.weights)
    if in_file != expected:
        missing = _multiset_difference(expected, in_file)
        extra = _multiset_difference(in_file, expected)
        raise WeightsMismatch(
            f"weights file {path} does not fit model {model.name!r}: the model has {len(expected)} arrays, "
            f"the file {len(in_file)}; shapes the model needs but the file lacks: {missing[:5]}; "
            f"shapes in the file the model has no place for: {extra[:5]}. "
            "Was it saved from a model with another configuration?"
        )
    try:
        model.load_weights(path)
    except Exception as e:
        raise WeightsError(f"weights file {path} could not be loaded into {model.name!r}: {e}") from e
    return model


def _multiset_difference(a, b):
    rest = list(b)
    out = []
    for item in a:
        if item in rest:
            rest.remove(item)
        else:
            out.append(item)
    return out


def save(model, path):
    """Save `model`'s weights to `path` atomically; returns the file's sha256.

    Only what `model` tracks is written: pass an uncompiled model to leave optimizer state out.
    """
    path = Path(path)
    if not path.name.endswith(".weights.h5"):
        raise ValueError(f"weights files must end in .weights.h5; got {path.name}")
    with atomic_path(path) as tmp:
        model.save_weights(tmp)
    return sha256(path)
