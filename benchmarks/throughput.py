"""Training and inference throughput of every model, compiled (XLA: `jit_compile=True`), on the
backend's accelerator: a GPU when there is one, else this machine's CPU (the first line says which).

For each model's default weights, builds the model of its recipe, compiles it as the recipe's
runner does (Adam, gradient clipping) with `jit_compile=True`, and times `fit` and `predict` over
a batch of the recipe's own training data repeated `--steps` times, after a first run that
compiles, printing examples per second. Run it on JAX for the numbers the GPU recipes use:

    KERAS_BACKEND=jax python benchmarks/throughput.py [--batch 64] [--steps 20] [--recipes NAME ...]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import zoo  # noqa: E402
from recipes import configs, data, train  # noqa: E402
from zoo import registry  # noqa: E402


def one_batch(recipe, model, batch):
    """A batch of the recipe's training data in the form `fit` takes it (inputs, targets)."""
    source = train.training_arrays(recipe, model, limit=batch)
    if callable(source):  # fresh draws: the draw of epoch 0
        source = source(0)
    x, y = data.ArrayBatches(source, batch, shuffle=False)[0]
    return x, y


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(recipe, batch, steps):
    """(parameters, training examples/s, inference examples/s, seconds of the first, compiling
    `fit`) of `recipe`'s model: `fit` and `predict` over one batch repeated `steps` times, timed on
    their second run. Not `train_on_batch`: on JAX each of its calls costs ~0.3 s of Keras overhead."""
    config = train.model_config(recipe)
    keras.utils.set_random_seed(recipe.seed)
    model = registry.build(recipe.model, **config)
    x, y = keras.tree.map_structure(lambda a: np.concatenate([np.asarray(a)] * steps), one_batch(recipe, model, batch))
    model.compile(keras.optimizers.Adam(recipe.learning_rate, clipnorm=recipe.clipnorm),
                  loss="sparse_categorical_crossentropy", jit_compile=True)
    fit = lambda: model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)  # noqa: E731
    predict = lambda: model.predict(x, batch_size=batch, verbose=0)  # noqa: E731
    first = timed(fit)
    trained = batch * steps / timed(fit)
    predict()
    inferred = batch * steps / timed(predict)
    return model.count_params(), trained, inferred, first


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20, help="timed calls after two warm-up calls")
    parser.add_argument("--models", nargs="*", help="only these models' default weights' recipes "
                        "(default: every registered model)")
    parser.add_argument("--recipes", nargs="*", help="these recipes instead, e.g. a campaign queue's")
    args = parser.parse_args()
    if args.recipes:
        recipes = [configs.get(name) for name in args.recipes]
    else:
        recipes = [configs.get(registry.record(name)["recipe"]) for name in args.models or zoo.list_models()]
    device = train.hardware()
    gpu = "no GPU" not in device
    print(f"Keras {keras.__version__} on {keras.backend.backend()}, jit_compile=True; {device}"
          + ("" if gpu else " — no GPU here: these are CPU numbers") + f". Batch {args.batch}, {args.steps} timed steps.\n")
    print("| model | recipe | parameters | training examples/s | inference examples/s | first fit (compiles), s |")
    print("|---|---|---|---|---|---|")
    for recipe in recipes:
        params, trained, inferred, first = measure(recipe, args.batch, args.steps)
        print(f"| `{recipe.model}` | `{recipe.name}` | {params:,} | {trained:,.0f} | {inferred:,.0f} | {first:.1f} |",
              flush=True)


if __name__ == "__main__":
    main()
