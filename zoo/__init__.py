"""Attention Zoo: the classic attention models, pretrained, as Keras 3 models.

    import zoo
    zoo.list_models()
    zoo.list_models("ram*", pretrained=True)
    zoo.info("stn")                                  # summary: options, every weights tag and its test metric
    zoo.info("stn", weights="rts_mnist5k")           # that tag's whole card
    model = zoo.load("stn")                          # default pretrained weights
    model = zoo.load("stn", weights="rts_mnist5k")   # another weights tag
    model = zoo.load("stn", weights=None, transform="projective")   # fresh, to fit: the pretrained architecture
    to_input = zoo.transforms("stn")                 # any image -> float32 (1, 42, 42, 1) in [0, 1]
"""

import fnmatch
import json
import os
import re
from pathlib import Path

from zoo import cards, registry, tasks
from zoo import weights as store
from zoo.inputs import ImageTransform
from zoo.weights import WeightsError, WeightsMismatch

__all__ = ["list_models", "info", "load", "transforms", "WeightsError"]


def list_models(pattern="*", pretrained=False):
    """Names of the registered models matching the shell-style `pattern` ("ram*", "*lstm*"),
    sorted; with `pretrained=True`, only those that ship weights. Needs no Keras.

        zoo.list_models("grid_lstm*", pretrained=True)   # ['grid_lstm', 'grid_lstm_image', 'grid_lstm_lm']
    """
    names = [name for name in registry.model_names() if fnmatch.fnmatchcase(name, pattern)]
    return [name for name in names if registry.records(name)] if pretrained else names


def info(name, weights=None):
    """A model's summary: task, summary, paper, default weights tag, builder options, and per
    weights tag its dataset, headline test metric and parameters; with `weights=TAG` (or
    "default"), that tag's whole card (data, training, metrics, export cells); with a path
    `X.weights.h5`, the card `X.json` that `zoo train` wrote beside it."""
    if weights is not None and _is_path(str(weights)):
        card = _beside(Path(weights), ".json")
        if not card.is_file():
            raise ValueError(f"{weights} has no card {card.name} beside it (`zoo train` writes one)")
        written = cards.Card.load(card).to_dict()
        if written["model"] != name:
            raise ValueError(f"{card} is the card of model {written['model']!r}, not {name!r}")
        return written
    if weights is not None:
        return registry.record(name, weights)
    model = registry.entry(name)
    task = tasks.get(model.task)
    return {
        "name": model.name,
        "task": model.task,
        "summary": model.summary,
        "paper": model.paper,
        "default_weights": model.default_weights,
        "options": registry.resolve_config(name),
        "weights": {tag: {"dataset": rec["data"]["dataset"], "parameters": rec["parameters"],
                          "test": task.card_headline(rec)}
                    for tag, rec in registry.records(name).items()},
    }


def load(name, weights="default", **options):
    """Build model `name` with the architecture of `weights` and load them.

    The architecture (the builder's config) is the one the weights were trained with:
    - "default" or a tag: the config its card records (see `info(name)`);
    - None, a fresh model to fit: the config of the model's default weights, so that it is the
      pretrained architecture (the builder's defaults for a model without default weights);
    - a path `X.weights.h5`: the config of its card `X.json` beside it (written by `zoo train`), else
      that of its recipe `X.recipe.json` beside it (the recipe's options on the builder's defaults,
      without what its dataset sets), else the default weights' config;
    - an http(s) URL: the default weights' config.
    `options` override it. A file that does not fit is refused, with what to pass, by a one-line
    `WeightsError`. The builder's own defaults (what `zoo train` builds on): `registry.build(name, **options)`.

        zoo.load("stn", weights=None).count_params() == zoo.info("stn")["weights"]["rts_fashion_mnist"]["parameters"]
        zoo.load("stn", weights="runs/stn_rts_mnist5k/stn.rts_mnist5k.weights.h5")   # its card is beside it

    Args:
        name: a registered model name (see `list_models()`).
        weights: "default" (the model's default pretrained tag), a tag (see `info(name)`),
            None (freshly initialised), a path to a `.weights.h5` file, or an http(s) URL
            (add "#sha256=<hex>" to have the download verified).
        **options: builder options on top of that config; unknown names are refused. Overriding
            `num_classes` without `class_names` drops the card's class names.
    """
    config, locate, mismatch = _architecture(name, weights, options)
    model = registry.build(name, **config)
    if locate is None:
        return model
    try:
        return store.load_into(model, locate())
    except WeightsMismatch as e:
        if mismatch is None:
            raise
        raise WeightsMismatch(f"{mismatch}. Details: {e}") from e


def transforms(name, weights="default", **options):
    """The preprocessing of an image model's inputs, as torchvision's `weights.transforms()`: a callable
    (`zoo.inputs.ImageTransform`, NumPy and Pillow only) that turns an image — a file path, a PIL image,
    a uint8 or float array of any size, grey or RGB — or a list of them into the float32 (N, H, W, C)
    batch in [0, 1] the model takes: scale, channels, resize to H×W.

        to_input = zoo.transforms("stn")                         # ImageTransform(image_shape=(42, 42, 1))
        probabilities = zoo.load("stn")(to_input("shirt.jpg"))   # to_input(...): (1, 42, 42, 1) float32
        to_input = zoo.transforms("stn.rts_fashion_mnist.tflite")   # from the export's sidecar; no Keras

    Args:
        name: a registered model that takes images, or a `.tflite` file written by `zoo export`
            (its input shape comes from the sidecar `FILE.tflite.json`).
        weights, **options: as in `load`; they choose the architecture and so the input shape.
    """
    if str(name).endswith(".tflite"):
        if weights != "default" or options:
            raise ValueError(f"a .tflite file's input shape is fixed; weights= and options do not apply to {name}")
        return ImageTransform(_tflite_image_shape(Path(name)))
    shape = _architecture(name, weights, options)[0].get("image_shape")
    if shape is None:
        raise ValueError(f"model {name!r} ({registry.task(name)}) takes no images, so it has no image transform")
    return ImageTransform(shape)


def _tflite_image_shape(path):
    """The (H, W, C) of the images a `.tflite` file takes, from its sidecar `path.json` (`zoo export`)."""
    sidecar = Path(f"{path}.json")
    if not path.is_file():
        raise ValueError(f"{path}: no such file (zoo export writes MODEL.TAG[.QUANTIZE].tflite)")
    if not sidecar.is_file():
        raise ValueError(f"{sidecar}, the sidecar zoo export writes beside {path.name} with its input shape, is "
                         "missing; use zoo.inputs.ImageTransform((height, width, channels)) instead")
    meta = json.loads(sidecar.read_text())
    images = meta.get("input_spec", {}).get("images")
    shape = images["shape"][1:] if images else meta.get("captioner", {}).get("image_shape")
    if not shape:
        raise ValueError(f"{path} takes no images (its sidecar {sidecar.name} names no image input)")
    return shape


def _architecture(name, weights, options):
    """What `load(name, weights, **options)` builds and loads: (config, a function giving the weights'
    local path or None for a fresh model, what to say when the file does not fit or None)."""
    with_options = f" with {options}" if options else ""
    if weights is None:
        return registry.resolve_config(name, _fresh_config(name)[0], options), None, None
    weights = str(weights)
    if "://" in weights:
        fresh, fresh_source = _fresh_config(name)
        return (registry.resolve_config(name, fresh, options), lambda: _download(weights),
                f"a downloaded file comes without its card: built from {fresh_source}{with_options}, model "
                f"{name!r} does not fit {weights}; pass the options it was trained with")
    if _is_path(weights):
        path = Path(weights)
        card, recipe = _beside(path, ".json"), _beside(path, ".recipe.json")
        if card.is_file():
            return (registry.resolve_config(name, _config_in(card, name), options), lambda: path,
                    f"the options {sorted(options)} change the model so that {path} no longer fits (its card "
                    f"{card} records the config it was trained with); leave them out" if options else None)
        if recipe.is_file():
            return (registry.resolve_config(name, _config_in(recipe, name), options), lambda: path,
                    f"{path} has no card {card.name} beside it; built from its recipe {recipe.name} (the recipe's "
                    f"options on the builder's defaults, without what its dataset sets){with_options}, model "
                    f"{name!r} does not fit it: pass the dataset's options (image_shape, num_classes, tokens…) "
                    "or put the card beside it")
        fresh, fresh_source = _fresh_config(name)
        return (registry.resolve_config(name, fresh, options), lambda: path,
                f"{path} has no card {card.name} or recipe {recipe.name} beside it; built from {fresh_source}"
                f"{with_options}, model {name!r} does not fit it: pass the options it was trained with, e.g. "
                f"zoo.load({name!r}, weights={weights!r}, units=…), or put its card beside it")
    rec = registry.record(name, weights)
    return (registry.resolve_config(name, rec["config"], options),
            lambda: store.fetch(rec["file"], rec["sha256"], rec.get("url")),
            f"the options {sorted(options)} change the model so that the pretrained weights {name}:{rec['tag']} "
            f"no longer fit (they were trained with {rec['config']}); use weights=None to train with these options"
            if options else None)


def _fresh_config(name):
    """The config a fresh `name` starts from, and its source: its default weights' card, or the builder's
    defaults for a model without default weights."""
    tag = registry.entry(name).default_weights
    if tag is None:
        return {}, "the builder's defaults"
    return registry.record(name)["config"], f"the config of its default weights {name}:{tag}"


def _config_in(path, name):
    """The "config" of a card or recipe file written by `zoo train` for model `name`."""
    try:
        written = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f"{path} is not a readable card or recipe (JSON): {e}") from None
    if not isinstance(written, dict) or written.get("model") != name or not isinstance(written.get("config"), dict):
        model = written.get("model") if isinstance(written, dict) else None
        raise ValueError(f"expected {path} to describe model {name!r} with a \"config\"; it describes {model!r}")
    return written["config"]


def _beside(path, suffix):
    """The file `zoo train` wrote beside weights `X.weights.h5`: `X` + suffix (".json": its card)."""
    return path.with_name(path.name.removesuffix(".weights.h5") + suffix)


def _is_path(weights):
    """A weights file is named by a path with a folder in it or the `.weights.h5` suffix; anything
    else is a tag, whatever files or folders the working directory holds."""
    return weights.endswith(".weights.h5") or "/" in weights or os.sep in weights


_SHA256 = re.compile(r"^sha256=([0-9a-fA-F]{64})$")


def _download(url):
    url, _, fragment = url.partition("#")
    expected = None
    if fragment:
        if not (match := _SHA256.match(fragment)):
            raise ValueError(f"expected the URL's fragment to be #sha256= and 64 hexadecimal digits; got #{fragment}")
        expected = match.group(1).lower()
    file = url.rsplit("/", 1)[-1]
    if file in ("", ".", "..") or not re.match(r"^[\w.-]+$", file):
        raise ValueError(f"expected a URL ending in a file name (e.g. …/model.weights.h5); got {url}")
    target = store.home() / file
    if target.exists() and expected:
        return store.verify(target, expected)
    if store.offline_mode():
        raise WeightsError(f"offline mode is on and {url} is not in the cache {store.home()}")
    return store.download(url, target, expected)
