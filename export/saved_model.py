"""SavedModel export with named serving signatures, checked by reloading it."""

import contextlib
import dataclasses
import shutil
import tempfile
from pathlib import Path

import numpy as np

from export.tflite import ExportParityError, _as_feed, agreement, frozen_serving_function


@dataclasses.dataclass
class SavedModelReport:
    path: Path
    size_bytes: int
    max_abs_diff: float | None  # None: written without check inputs
    checked_examples: int


def to_saved_model(model, path, check_inputs=None, atol=None):
    """Write `model` as a SavedModel directory; returns a `SavedModelReport`.

    Two signatures with the model's input and output names (for classifiers: images ->
    probabilities): "serving_default" with a dynamic batch size and "serving_batch1" with the
    batch fixed at 1 (for servers and compilers that want static shapes). The directory is built
    beside `path`, reloaded and compared with Keras on `check_inputs` (if given) through both
    signatures, and only then moved into place. `atol` (max |SavedModel − Keras|) and the share of
    check inputs that must match within it and in class default as `to_tflite`'s.
    """
    import tensorflow as tf

    atol = getattr(model, "export_atol", 1e-4) if atol is None else atol
    path = Path(path)
    dynamic, fixed = frozen_serving_function(model), frozen_serving_function(model, batch_size=1)
    module = tf.Module()
    module.serve, module.serve_batch1 = dynamic, fixed
    signatures = {"serving_default": dynamic.get_concrete_function(), "serving_batch1": fixed.get_concrete_function()}
    with staged_directory(path) as staging:
        tf.saved_model.save(module, str(staging), signatures=signatures)
        diff, count = None, 0
        if check_inputs is not None:
            feed = _as_feed(model, check_inputs)
            loaded = tf.saved_model.load(str(staging)).signatures
            expected = model.serving_signature()[1](**feed)
            served = loaded["serving_default"](**{k: tf.constant(v) for k, v in feed.items()})
            one = loaded["serving_batch1"](**{k: tf.constant(v[:1]) for k, v in feed.items()})
            expected = {k: np.asarray(v) for k, v in expected.items()}
            diffs, match = agreement(expected, {k: v.numpy() for k, v in served.items()}, atol)
            diff_one, match_one = agreement({k: v[:1] for k, v in expected.items()}, {k: v.numpy() for k, v in one.items()}, atol)
            match[0] &= match_one[0]
            diff, count = float(max(diffs.max(), diff_one.max())), len(match)
            required = getattr(model, "export_matching", 1.0)
            if match.mean() < required:
                raise ExportParityError(
                    f"SavedModel output differs from Keras: {100 * match.mean():.2f}% of the {count} check inputs "
                    f"match within {atol:.0e} and in class (required {100 * required:g}%); max abs diff {diff:.2e}; "
                    f"{path.name} was not written")
        size = directory_size(staging)
    return SavedModelReport(path, size, diff, count)


@contextlib.contextmanager
def staged_directory(path):
    """A fresh directory beside `path` to build an export in; it replaces `path` only if the block
    finishes without an error (a failed check leaves `path` as it was)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        yield staging
        if path.exists():
            shutil.rmtree(path)
        staging.rename(path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def directory_size(directory):
    """Bytes of the files under `directory`."""
    return sum(f.stat().st_size for f in Path(directory).rglob("*") if f.is_file())


class Signature:
    """One signature of a SavedModel called like `export.runtime.Runtime`: NumPy inputs by name
    (cast to the signature's dtypes) → dict of NumPy outputs. Lets the LiteRT decoding drivers
    (`export.seq2seq.Translator`, `export.captioner.Captioner`) run a SavedModel's signatures."""

    def __init__(self, loaded, name):
        self.function = loaded.signatures[name]
        self.specs = self.function.structured_input_signature[1]
        self.input_names = sorted(self.specs)

    def __call__(self, **inputs):
        import tensorflow as tf

        feed = {k: tf.constant(v, dtype=self.specs[k].dtype) for k, v in inputs.items()}
        return {k: v.numpy() for k, v in self.function(**feed).items()}


def open_signatures(path):
    """A function name → `Signature` over the SavedModel at `path` (loaded once)."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    return lambda name: Signature(loaded, name)


def to_saved_model_decoder(path, functions, open_driver, decode, inputs, atol=1e-4, sidecar=None):
    """A decoding loop's signatures (`functions`: name -> (fn, input signature), e.g. encode and
    step) as a SavedModel directory at `path`, kept only if `open_driver(directory)` decodes
    `inputs` exactly as Keras does (`export.tflite.check_decoder`); the driver's metadata goes
    to the sidecar `path.json`. Returns the check with the directory's size."""
    from export.tflite import check_decoder, save_signatures, write_decoder_sidecar

    path = Path(path)
    with staged_directory(path) as staging:
        save_signatures(functions, staging)
        report = check_decoder(open_driver(staging), decode, inputs, atol, what=f"the SavedModel {path.name}")
        report = {"size_kib": round(directory_size(staging) / 1024, 1), **report}
    write_decoder_sidecar(path, sidecar or {}, None, report)
    return report
