"""Helpers shared by the tests."""

from pathlib import Path

import pytest


def gradient(fn, xs):
    """d loss / d xs for `fn(xs) -> (loss, aux)`, on TensorFlow (GradientTape) or JAX (jax.grad).

    Returns (gradients as NumPy arrays, aux); inputs the loss does not reach get zeros.
    """
    import keras
    import numpy as np
    from keras import ops

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        xs = [tf.convert_to_tensor(x) for x in xs]
        with tf.GradientTape() as tape:
            tape.watch(xs)
            loss, aux = fn(xs)
        grads = tape.gradient(loss, xs, unconnected_gradients="zero")
    elif backend == "jax":
        import jax

        grads, aux = jax.grad(fn, has_aux=True)([ops.convert_to_tensor(x) for x in xs])
    else:
        pytest.skip(f"no gradient helper for the {backend} backend")
    return [np.asarray(g) for g in grads], aux


def model_gradients(model, loss_of_outputs, x, training=True):
    """d loss / d variable for `loss = loss_of_outputs(model(x, training))`, for every trainable
    variable of `model`, as {variable path: NumPy array}; variables the loss does not reach get
    zeros on both backends."""
    import keras
    import numpy as np

    variables = model.trainable_variables
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_of_outputs(model(x, training=training))
        grads = tape.gradient(loss, variables)
        grads = [np.zeros(v.shape, v.dtype) if g is None else g for v, g in zip(variables, grads)]
    elif backend == "jax":
        import jax

        others = [v.value for v in model.non_trainable_variables]

        def f(values):
            outputs, _ = model.stateless_call(values, others, x, training=training)
            return loss_of_outputs(outputs)

        grads = jax.grad(f)([v.value for v in variables])
    else:
        pytest.skip(f"no gradient helper for the {backend} backend")
    return {v.path: np.asarray(g) for v, g in zip(variables, grads)}


def zoo_cli_without_tensorflow(*calls):
    """Run `zoo.cli.main(args)` for each args list in a fresh Python in which any import of
    TensorFlow, Keras or JAX fails; returns the CompletedProcess (stdout of all calls)."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("tensorflow", "keras", "jax"):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        from zoo.cli import main
        for args in {[list(map(str, call)) for call in calls]!r}:
            main(args)
        assert not any(m.split(".")[0] in ("tensorflow", "keras", "jax") for m in sys.modules)
    """)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


ROOT = Path(__file__).resolve().parents[1]


def generated_block(page, markers):
    """The text between a generated table's markers in `page` (relative to the repository root)."""
    text = (ROOT / page).read_text()
    start, end = markers
    assert start in text and end in text, f"{page} has no {start} … {end} block"
    return text.split(start, 1)[1].split(end, 1)[0].strip()
