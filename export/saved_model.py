"""SavedModel export with a named serving signature, checked by reloading it."""

import shutil
import tempfile
from pathlib import Path

import numpy as np

from export.tflite import ExportParityError, _as_feed, frozen_serving_function


def to_saved_model(model, path, check_inputs=None, atol=1e-5):
    """Write `model` as a SavedModel directory with signature "serving_default".

    Inputs and outputs keep the model's names (for classifiers: images -> probabilities),
    batch size is dynamic. The directory is built beside `path`, reloaded and compared with
    Keras on `check_inputs` (if given), and only then moved into place.
    """
    import tensorflow as tf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    function = frozen_serving_function(model)
    module = tf.Module()
    module.serve = function
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        tf.saved_model.save(module, str(staging), signatures={"serving_default": function.get_concrete_function()})
        if check_inputs is not None:
            feed = _as_feed(model, check_inputs)
            served = tf.saved_model.load(str(staging)).signatures["serving_default"](
                **{k: tf.constant(v) for k, v in feed.items()}
            )
            expected = model.serving_signature()[1](**feed)
            diff = max(float(np.max(np.abs(served[k].numpy() - np.asarray(v)))) for k, v in expected.items())
            if diff > atol:
                raise ExportParityError(f"SavedModel output differs from Keras by {diff:.2e} (allowed {atol:.0e})")
        if path.exists():
            shutil.rmtree(path)
        staging.rename(path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path
