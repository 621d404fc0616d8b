"""Training and inference throughput of every model, compiled (XLA: `jit_compile=True`), on the
backend's accelerator: a GPU when there is one, else this machine's CPU (the first line says which).

For each model's default weights, builds the model of its recipe, compiles it as the recipe's
runner does (Adam, gradient clipping) with `jit_compile=True`, and times `train_on_batch` and
`predict_on_batch` on a batch of the recipe's own training data, after two warm-up calls
(compilation), printing examples per second. Run it on JAX for the numbers the GPU recipes use:

    KERAS_BACKEND=jax python benchmarks/throughput.py [--batch 64] [--steps 20] [--recipes NAME ...]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

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


def examples_per_second(fn, batch, steps):
    """`batch * steps` over the time of `steps` calls of `fn` after two warm-up calls (the first
    compiles). `train_on_batch` and `predict_on_batch` return host values, so each call has
    finished on the device when it returns."""
    fn()
    fn()
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return batch * steps / (time.perf_counter() - start)


def measure(recipe, batch, steps):
    """(parameters, training examples/s, inference examples/s, seconds to compile and run the first
    training step) of `recipe`'s model."""
    config = train.model_config(recipe)
    keras.utils.set_random_seed(recipe.seed)
    model = zoo.load(recipe.model, weights=None, **config)
    x, y = one_batch(recipe, model, batch)
    model.compile(keras.optimizers.Adam(recipe.learning_rate, clipnorm=recipe.clipnorm),
                  loss="sparse_categorical_crossentropy", jit_compile=True)
    start = time.perf_counter()
    model.train_on_batch(x, y)
    first = time.perf_counter() - start
    trained = examples_per_second(lambda: model.train_on_batch(x, y), batch, steps)
    inferred = examples_per_second(lambda: model.predict_on_batch(x), batch, steps)
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
    print("| model | recipe | parameters | training examples/s | inference examples/s | first step, s |")
    print("|---|---|---|---|---|---|")
    for recipe in recipes:
        params, trained, inferred, first = measure(recipe, args.batch, args.steps)
        print(f"| `{recipe.model}` | `{recipe.name}` | {params:,} | {trained:,.0f} | {inferred:,.0f} | {first:.1f} |",
              flush=True)


if __name__ == "__main__":
    main()
