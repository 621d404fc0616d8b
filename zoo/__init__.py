"""Attention Zoo: the classic attention models, pretrained, as Keras 3 models.

    import zoo
    zoo.list_models()
    zoo.info("stn")
    model = zoo.load("stn")                          # default pretrained weights
    model = zoo.load("stn", weights="rts_mnist5k")   # another weights tag
    model = zoo.load("stn", weights=None, transform="projective")   # fresh, to fit
"""

import os
import re
from pathlib import Path

from zoo import registry
from zoo import weights as store
from zoo.weights import WeightsError

__all__ = ["list_models", "info", "load", "WeightsError"]


def list_models():
    """Names of every registered model."""
    return registry.model_names()


def info(name):
    """Model card: task, summary, paper, default weights tag, builder options, and every weights record by tag."""
    model = registry.entry(name)
    return {
        "name": model.name,
        "task": model.task,
        "summary": model.summary,
        "paper": model.paper,
        "default_weights": model.default_weights,
        "options": registry.resolve_config(name),
        "weights": registry.records(name),
    }


def load(name, weights="default", **overrides):
    """Build model `name` and load its weights.

    Args:
        name: a registered model name (see `list_models()`).
        weights: "default" (the model's default pretrained tag), a tag (see `info(name)`),
            None (freshly initialised), a path to a `.weights.h5` file, or an http(s) URL
            (add "#sha256=<hex>" to have the download verified).
        **overrides: builder options; unknown names are refused. With a pretrained tag they
            are applied on top of the config the weights were trained with.
    """
    if weights is None:
        return registry.build(name, **registry.resolve_config(name, overrides=overrides))
    weights = str(weights)
    if "://" in weights or _is_path(weights):
        path = _download(weights) if "://" in weights else Path(weights)
        model = registry.build(name, **registry.resolve_config(name, overrides=overrides))
        return store.load_into(model, path)
    rec = registry.record(name, weights)
    model = registry.build(name, **registry.resolve_config(name, rec["config"], overrides))
    path = store.fetch(rec["file"], rec["sha256"], rec.get("url"))
    try:
        return store.load_into(model, path)
    except WeightsError as e:
        if overrides:
            raise WeightsError(
                f"the options {sorted(overrides)} change the model so that the pretrained weights "
                f"{name}:{rec['tag']} no longer fit (they were trained with {rec['config']}); "
                f"use weights=None to train with these options. Details: {e}"
            ) from e
        raise


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
