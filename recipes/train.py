"""The training runner: recipe → fitted model → weights file + model card (without metrics).

Metrics are not written here: the card's test metrics come only from `recipes.evaluate`
(`zoo eval NAME --weights TAG --write`), run on the saved file.
"""

import contextlib
import dataclasses
import functools
import importlib.util
import os
import platform
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from recipes import configs, data, distribute
from recipes.backup import EpochBackup
from zoo import cards, registry, tasks
from zoo import weights as store


def hardware():
    """A one-line description of the machine (CPU model, cores, accelerator if any)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    devices = []
    if keras.backend.backend() == "jax":
        import jax

        devices = [d.device_kind for d in jax.devices() if d.platform != "cpu"]
    return f"{cpu}, {os.cpu_count()} cores" + (f", {', '.join(devices)}" if devices else ", no GPU")


def model_config(recipe):
    """The recipe's model options completed from its dataset (`Dataset.model_config`: input shape and
    classes, bit count, vocabulary and context, as its kind gives them)."""
    return data.get(recipe.data).model_config(recipe.config, registry.entry(recipe.model).defaults())


def training_arrays(recipe, model, limit=None):
    """The recipe's train split in memory as NumPy (inputs, targets): images uint8 and labels, or
    a text or caption model's teacher-forcing ids, a question answerer's images and questions (and
    the items' boxes where it learns its attention from them), a stroke writer's strokes and text ids
    (and a dummy target) as `data.LengthBuckets`, read (and encoded) once per run; with
    `fresh_data`, a function epoch → that epoch's draw (`data.fresh_draws`, `data.caption_pairs`)."""
    if data.get(recipe.data).kind == "captions":  # scenes drawn with seed + epoch, one reference each
        def draw(epoch):
            pairs = data.caption_pairs(recipe.data, "train", recipe.seed + epoch, limit, reference=recipe.reference)
            return model.teacher_forcing(*pairs)

        return draw if recipe.fresh_data else draw(0)
    if data.get(recipe.data).kind == "questions":  # each question with its scene's image (uint8)
        drawn = data.load_questions(recipe.data, "train", seed=recipe.seed, limit=limit)
        inputs = drawn.inputs()
        if model.attention_supervision:  # the items' boxes, which the attention loss reads
            inputs["boxes"] = drawn.boxes
        return inputs, drawn.answers
    if data.get(recipe.data).kind == "strokes":  # lines batched by length; the loss needs no target
        drawn = data.load_strokes(recipe.data, "train", seed=recipe.seed, limit=limit)
        return data.LengthBuckets((drawn.inputs(), np.zeros(len(drawn), np.float32)), drawn.lengths, "strokes")
    if recipe.fresh_data:
        return data.fresh_draws(recipe.data, "train", seed=recipe.seed, limit=limit)
    if data.get(recipe.data).kind in ("image", "vector", "corpus"):  # parity bits; character windows
        return data.load_arrays(recipe.data, "train", seed=recipe.seed, limit=limit)
    return model.teacher_forcing(*data.load_texts(recipe.data, "train", limit=limit))


def load_initial_weights(model, recipe):
    """Load the shipped weights `recipe.initial_weights` (a tag of the recipe's model, checked against
    its card's sha256) into the built `model`, so the run fine-tunes them; return "MODEL:TAG sha256 …"
    for the card, or None for a run from a fresh initialisation."""
    if recipe.initial_weights is None:
        return None
    rec = registry.record(recipe.model, recipe.initial_weights)
    store.load_into(model, store.fetch(rec["file"], rec["sha256"], rec.get("url")))
    return f"{recipe.model}:{rec['tag']} sha256 {rec['sha256']}"


VALIDATION_SEED = 10_000  # offset of the validation draw's seed from the recipe's


def validation_arrays(recipe, limit):
    """What `fit` reports as val_*: the first `limit` examples of the test split, drawn with seed
    recipe.seed + VALIDATION_SEED (for generated variants: other positions, clutter or bits than
    the card's test draw), as (inputs, targets) for `fit`; None for text, caption and corpus data.
    For watching a run only: no weights are chosen by it, and the card's metrics come from
    `zoo eval` on the seed-0 test draw."""
    if data.get(recipe.data).kind not in ("image", "vector"):
        return None
    x, y = data.load_arrays(recipe.data, "test", seed=recipe.seed + VALIDATION_SEED, limit=limit)
    return data.for_model(x), data.for_model(y)


class EpochSummary(keras.callbacks.Callback):
    """One line per epoch, for logs that a person reads: `epoch 3/20: loss 0.1234, accuracy 0.9876 (12.3 s)`."""

    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        values = ", ".join(f"{k} {float(v):.4f}" for k, v in (logs or {}).items() if k != "learning_rate")
        print(f"epoch {epoch + 1}/{self.epochs}: {values} ({time.time() - self.start:.1f} s)", flush=True)


def tensorboard(logs):
    """[Keras's TensorBoard callback writing to `logs`], or [] where TensorFlow (its writer) is
    missing, e.g. a JAX-only GPU machine."""
    if importlib.util.find_spec("tensorflow") is None:
        print("TensorFlow is not installed: no TensorBoard logs for this run", flush=True)
        return []
    return [keras.callbacks.TensorBoard(str(logs))]


@contextlib.contextmanager
def dtype_policy(name):
    """Build and train under Keras dtype policy `name` (e.g. "mixed_float16"; None: unchanged).

    Under "mixed_float16" `compile` wraps the optimizer in a LossScaleOptimizer by itself."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name or previous)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _work_around_multi_worker_fit(model):
    """Keras 3's `fit` fails under MultiWorkerMirroredStrategy (keras-team/keras#20585) twice:
    it builds the model from a batch it cannot reduce, and it reduces each logged scalar along
    an axis 0 it lacks. The model is built already, so `fit` may take the strategy from the
    enclosing scope instead of building; and logging 1-vectors gives that reduction its axis
    (mean over replicas, back to scalars)."""
    model._distribute_strategy = None
    train_step = model.train_step
    model.train_step = lambda batch: {k: keras.ops.reshape(v, (1,)) for k, v in train_step(batch).items()}


def train(name, out_dir=None, epochs=None, limit=None, strategy=None, mixed_precision=None, run_dir=None,
          callbacks=(), verbose="auto", validation=None, force=False):
    """Run recipe `name` (or a `*.recipe.json` a run wrote); write `MODEL.TAG.weights.h5`, its card
    and `MODEL.TAG.recipe.json` (the recipe as run) to `out_dir` (default: `run_dir`); return the card as a dict.
    An existing weights file there is replaced only with `force`.

    The run's state lives in `run_dir` (default `runs/RECIPE`): `backup/` holds the state after
    the last finished epochs, and a killed run started again with the same arguments resumes
    there (identical weights to an uninterrupted run); `tensorboard/` holds the logs. A loss that
    is not finite stops the run with `NonFiniteLoss`, the last good backup kept. A callback
    that stops the run before its last epoch (`model.stop_training`, at an epoch's end) leaves the
    backup in place and nothing in `out_dir`, and `train` returns None: the same call resumes it.
    `validation`: report val_* metrics every epoch on that many test examples (`validation_arrays`).
    """
    recipe = listed = configs.get(name)
    saved = configs.run_settings(name) if name.endswith(".json") else {}
    limit = limit if limit is not None else saved.get("limit")
    strategy = strategy or saved.get("strategy", "default")
    if epochs is not None:
        recipe = dataclasses.replace(recipe, epochs=int(epochs))
    if mixed_precision:
        recipe = dataclasses.replace(recipe, mixed_precision=mixed_precision)
    if recipe.epochs < 1:
        raise ValueError(f"a run needs at least 1 epoch; got --epochs {recipe.epochs}")
    configs.check_names(recipe)
    plan = distribute.plan(strategy)  # first: MultiWorkerMirroredStrategy must precede other TF work
    run_dir = Path(run_dir or Path("runs") / recipe.name)
    out_dir = Path(out_dir or run_dir)
    file = registry.weights_file(recipe.model, recipe.tag)
    if (out_dir / file).exists() and not force:
        raise ValueError(f"{out_dir / file} exists: pass --force to replace it, or --out another folder")
    keras.utils.set_random_seed(recipe.seed)
    config = model_config(recipe)
    global_batch, learning_rate = recipe.batch_size * plan.replicas, recipe.learning_rate * plan.replicas
    backup = EpochBackup(run_dir / "backup", configs.to_json(recipe, limit=limit, strategy=strategy), write=plan.chief)
    logs = run_dir / "tensorboard" if plan.chief else Path(tempfile.mkdtemp(prefix="zoo-tensorboard-"))
    with plan.scope(), dtype_policy(recipe.mixed_precision):
        model = registry.build(recipe.model, **config)
        start = load_initial_weights(model, recipe)  # before `compile`: the file has no optimizer state
        source = training_arrays(recipe, model, limit)
        batches = functools.partial(data.batches, source, global_batch, recipe.seed)
        first_epoch_batches = data.ArrayBatches(source, global_batch, shuffle=False)
        steps, first_batch = len(first_epoch_batches), first_epoch_batches[0]
        schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=max(steps * recipe.epochs, 1))
        model.compile(keras.optimizers.Adam(schedule, clipnorm=recipe.clipnorm), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model(first_batch[0])  # build, so that a backup can be loaded into it
        if plan.workers > 1 and keras.backend.backend() == "tensorflow":
            _work_around_multi_worker_fit(model)
        first_epoch = backup.restore(model)
        if first_epoch:
            print(f"resuming {recipe.name} after epoch {first_epoch} from {backup.latest()[1]}", flush=True)
        train_ds = plan.distribute(batches(epochs=recipe.epochs, first_epoch=first_epoch))
        model.fit(train_ds, epochs=recipe.epochs, initial_epoch=first_epoch, steps_per_epoch=steps, shuffle=False,
                  verbose=verbose, validation_data=validation_arrays(recipe, validation) if validation else None,
                  callbacks=[backup, *tensorboard(logs), *([EpochSummary(recipe.epochs)] if plan.chief else []),
                             *callbacks])
        seconds = backup.elapsed()
    backup.check_finite()
    finished = backup.latest()[0] if plan.chief else recipe.epochs
    if finished < recipe.epochs:
        print(f"stopped after epoch {finished} of {recipe.epochs}; the backup in {backup.directory} resumes it",
              flush=True)
        return None

    # Ship the model's weights only: copy them into a fresh, uncompiled model (no optimizer state).
    shipped = registry.build(recipe.model, **config)
    shipped.set_weights(model.get_weights())
    digest = store.save(shipped, out_dir / file)
    command = f"zoo train {name}" + (f" --epochs {recipe.epochs}" if recipe.epochs != listed.epochs else "")
    command += f" --limit {limit}" if limit else ""
    command += f" --strategy {strategy}" if strategy != "default" else ""
    command += f" --mixed-precision {recipe.mixed_precision}" if recipe.mixed_precision != listed.mixed_precision else ""
    info = data.info(recipe.data)
    base = configs.get(recipe.baseline) if recipe.baseline else None
    card = cards.Card(
        model=recipe.model,
        tag=recipe.tag,
        builder=f"{type(model).__module__}.{type(model).__qualname__}",
        config=config,
        file=file,
        url=None,
        sha256=digest,
        parameters=int(model.count_params()),
        input_spec=tasks.get(registry.task(model)).input_spec(model),
        recipe=name,
        train_command=command,
        data=cards.Data(
            dataset=recipe.data,
            train_split="train",
            test_split="test",
            train_examples=limit or info["splits"]["train"],
            description=info["description"],
            fresh_draws="epoch e trains on the variant drawn with seed + e (new positions and clutter)"
            if recipe.fresh_data else None,
        ),
        training=cards.Training(
            epochs=recipe.epochs,
            batch_size=global_batch,
            optimizer=f"Adam, cosine decay from {learning_rate}"
            + (f", gradients clipped to norm {recipe.clipnorm}" if recipe.clipnorm else ""),
            seed=recipe.seed,
            strategy=strategy,
            replicas=plan.replicas,
            mixed_precision=recipe.mixed_precision,
            seconds=round(seconds, 1),
            hardware=hardware(),
            backend=keras.backend.backend(),
            keras=keras.__version__,
            initial_weights=start,
        ),
        license=f"Apache-2.0 (weights); training data: {info['license']}",
        paper=registry.entry(recipe.model).paper,
        baseline=cards.Baseline(model=base.model, tag=base.tag, recipe=base.name) if base else None,
    )
    card.save(out_dir)
    store.atomic_write_text(cards.recipe_path(recipe.model, recipe.tag, out_dir), backup.run)
    backup.clear()
    return card.to_dict()
