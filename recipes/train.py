"""The training runner: recipe → fitted model → weights file + model card (without metrics).

Metrics are not written here: the card's test metrics come only from `recipes.evaluate`
(`zoo eval NAME --weights TAG --write`), run on the saved file.
"""

import json
import os
import platform
import time
from pathlib import Path

import keras

import zoo
from recipes import configs, data
from zoo import registry
from zoo import weights as store
from zoo.vocabulary import Vocabulary


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
    """The recipe's model options completed from its dataset (input shape, classes, names; or
    for text, the source vocabulary of the training split)."""
    info = data.info(recipe.data)
    if info["kind"] == "text":
        sources, targets = data.load_texts(recipe.data, "train")
        level, size = recipe.config.get("level", "char"), recipe.config.get("vocabulary_size")
        config = {k: v for k, v in recipe.config.items() if k != "vocabulary_size"}
        config["source_tokens"] = Vocabulary.build(sources, level, size).tokens
        if level == "word":  # characters of the target side are the model's default (ISO dates)
            config["target_tokens"] = Vocabulary.build(targets, level, size).tokens
        return config
    return {
        **recipe.config,
        "image_shape": tuple(info["image_shape"]),
        "num_classes": info["num_classes"],
        "class_names": list(info["labels"]),
    }


def training_data(recipe, model, limit=None):
    """The recipe's train split as a shuffled, batched tf.data.Dataset of (inputs, targets)."""
    if data.info(recipe.data)["kind"] == "image":
        return data.dataset(recipe.data, "train", batch_size=recipe.batch_size, seed=recipe.seed, limit=limit)
    import tensorflow as tf

    x, y = model.teacher_forcing(*data.load_texts(recipe.data, "train", limit=limit))
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(y), seed=recipe.seed)
    return ds.batch(recipe.batch_size).prefetch(tf.data.AUTOTUNE)


def input_spec(model):
    """The card's input spec: name -> shape, dtype and value range (or vocabulary)."""
    if hasattr(model, "source_vocab"):
        return {"text": {"shape": [None], "dtype": "string", "max_tokens": model.max_source_len,
                         "vocabulary": "config.source_tokens"}}
    return {
        name: {"shape": list(shape), "dtype": "float32", "range": [0.0, 1.0]}
        for name, shape in model.serving_signature()[0].items()
    }


def train(name, out_dir=None, epochs=None, limit=None, verbose="auto"):
    """Run recipe `name`; write `MODEL.TAG.weights.h5` and its card to `out_dir`; return the card."""
    recipe = configs.get(name)
    epochs = recipe.epochs if epochs is None else int(epochs)
    out_dir = Path(out_dir or store.SHIPPED_DIR)
    keras.utils.set_random_seed(recipe.seed)
    config = model_config(recipe)
    model = zoo.load(recipe.model, weights=None, **config)
    train_ds = training_data(recipe, model, limit)
    steps = int(train_ds.cardinality()) * epochs
    schedule = keras.optimizers.schedules.CosineDecay(recipe.learning_rate, decay_steps=max(steps, 1))
    model.compile(keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.time()
    model.fit(train_ds, epochs=epochs, verbose=verbose)
    seconds = time.time() - start

    # Ship the model's weights only: copy them into a fresh, uncompiled model (no optimizer state).
    shipped = registry.build(recipe.model, **config)
    shipped.set_weights(model.get_weights())
    file = registry.weights_file(recipe.model, recipe.tag)
    digest = store.save(shipped, out_dir / file)
    command = f"zoo train {name}" + (f" --epochs {epochs}" if epochs != recipe.epochs else "")
    command += f" --limit {limit}" if limit else ""
    entry = registry.entry(recipe.model)
    info = data.info(recipe.data)
    card = {
        "model": recipe.model,
        "tag": recipe.tag,
        "builder": f"{type(model).__module__}.{type(model).__qualname__}",
        "config": json.loads(json.dumps(config)),
        "file": file,
        "url": None,
        "sha256": digest,
        "parameters": int(model.count_params()),
        "input_spec": input_spec(model),
        "recipe": name,
        "train_command": command,
        "data": {
            "dataset": recipe.data,
            "train_split": "train",
            "test_split": "test",
            "train_examples": limit or info["splits"]["train"],
            "description": info["description"],
        },
        "training": {
            "epochs": epochs,
            "batch_size": recipe.batch_size,
            "optimizer": f"Adam, cosine decay from {recipe.learning_rate}",
            "seed": recipe.seed,
            "seconds": round(seconds, 1),
            "hardware": hardware(),
            "backend": keras.backend.backend(),
            "keras": keras.__version__,
        },
        "license": f"Apache-2.0 (weights); training data: {info['license']}",
        "paper": entry.paper,
    }
    if recipe.baseline:
        base = configs.get(recipe.baseline)
        card["baseline"] = {"model": base.model, "tag": base.tag, "recipe": base.name}
    store.atomic_write_text(registry.record_path(recipe.model, recipe.tag, out_dir), json.dumps(card, indent=2) + "\n")
    return card
