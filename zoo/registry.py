"""The registry: model builders by name, and one record (model card) per pretrained weight.

A model is registered with `register_model` on its builder class. A pretrained weight is a
record: `zoo/weights/NAME.TAG.json` beside `NAME.TAG.weights.h5`, written by the training
runner (`zoo train`) and completed by the evaluation command (`zoo eval`), never by hand.
`load(name, weights=...)` separates the architecture (name) from the weights (tag), as
torchvision and timm do.
"""

import dataclasses
import difflib
import inspect
import json
import re
from pathlib import Path

from zoo import weights as store

# Every key a record may carry; the schema test holds records to this list.
RECORD_KEYS = {
    "model": "registered model name",
    "tag": "weights tag, unique per model",
    "builder": "import path of the builder class",
    "config": "constructor arguments the weights were trained with",
    "file": "weights file name in the weight store",
    "url": "download URL, or null when the file ships with the package",
    "sha256": "full sha256 of the weights file",
    "parameters": "number of parameters of the built model",
    "input_spec": "name -> shape (batch first, null = any), dtype and value range",
    "recipe": "training recipe name (recipes.configs)",
    "train_command": "exact command that produced the weights",
    "data": "dataset name and splits used for training and test",
    "training": "epochs, batch size, seconds, hardware, backend of the run",
    "metrics": "test metrics, written only by the evaluation command",
    "eval_command": "exact command that measured `metrics`",
    "baseline": "the record ({model, tag}) this one is compared with",
    "export": "export results per format/quantization (size, parity, metric change)",
    "license": "license of the weights",
    "paper": "the paper the model implements",
}
REQUIRED_KEYS = set(RECORD_KEYS) - {"url", "metrics", "eval_command", "baseline", "export"}
TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_]*$")


def did_you_mean(name, choices, n=3, cutoff=0.5):
    """" Did you mean 'x', 'y'?" for the choices closest to `name`, or "" when none is close."""
    close = difflib.get_close_matches(str(name), list(choices), n=n, cutoff=cutoff)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""


# What a model does, declared when it registers; model-agnostic code asks `task(...)`, never guesses.
TASKS = {
    "classifier": "inputs (images, bit vectors) → class probabilities",
    "translator": "text → text, with alignments",
    "captioner": "image → words, with attention maps",
    "generator": "noise → images, with a likelihood bound",
    "language_model": "characters → next-character probabilities",
}


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    name: str
    builder: type
    task: str
    summary: str
    paper: str
    default_weights: str | None = None

    def defaults(self):
        """The builder's constructor arguments and their defaults."""
        sig = inspect.signature(self.builder.__init__)
        return {
            k: p.default
            for k, p in sig.parameters.items()
            if k != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }


_MODELS = {}


def register_model(name, *, task, summary, paper, default_weights=None):
    """Class decorator: register a model builder under `name`, doing `task` (one of TASKS)."""
    if task not in TASKS:
        raise ValueError(f"model {name!r}: task must be one of {', '.join(TASKS)}; got {task!r}")

    def wrap(cls):
        _MODELS[name] = ModelEntry(name, cls, task, summary, paper, default_weights)
        return cls

    return wrap


def task(model):
    """The task of a registered model, given its name or an instance of its builder."""
    if isinstance(model, str):
        return entry(model).task
    _ensure_models_imported()
    for candidate in _MODELS.values():
        if type(model) is candidate.builder:
            return candidate.task
    raise ValueError(f"{type(model).__name__} is not a registered model's builder")


def _ensure_models_imported():
    import zoo.models  # noqa: F401  (importing registers every builder)


def model_names():
    _ensure_models_imported()
    return sorted(_MODELS)


def entry(name):
    """The registered model `name`, or a ValueError that suggests close names."""
    _ensure_models_imported()
    if not isinstance(name, str) or name not in _MODELS:
        raise ValueError(f"unknown model {name!r}.{did_you_mean(name, _MODELS)} Available models: {', '.join(sorted(_MODELS))}.")
    return _MODELS[name]


def record_path(name, tag, directory=None):
    return Path(directory or store.SHIPPED_DIR) / f"{name}.{tag}.json"


def weights_file(name, tag):
    return f"{name}.{tag}.weights.h5"


def records(name, directory=None):
    """All weight records of model `name`: tag -> record dict, sorted by tag."""
    directory = Path(directory or store.SHIPPED_DIR)
    found = {}
    for path in sorted(directory.glob(f"{name}.*.json")):
        if path.name.endswith(".recipe.json"):  # the recipe a run used, beside its card
            continue
        rec = json.loads(path.read_text())
        if rec.get("model") == name:
            found[rec["tag"]] = rec
    return found


def all_records(directory=None):
    """Every record in the store, as a list."""
    return [rec for name in model_names() for rec in records(name, directory).values()]


def record(name, tag="default"):
    """The record of `name`'s weights `tag` ("default" resolves to the model's default tag)."""
    model = entry(name)
    known = records(name)
    if tag == "default":
        if model.default_weights is None or model.default_weights not in known:
            raise ValueError(
                f"model {name!r} has no default pretrained weights yet; use weights=None for a fresh model"
                + (f", or one of the tags {sorted(known)}" if known else "")
            )
        tag = model.default_weights
    if tag not in known:
        raise ValueError(
            f"model {name!r} has no weights tagged {tag!r}.{did_you_mean(tag, known)} Tags: {', '.join(sorted(known)) or 'none'}."
        )
    return known[tag]


def resolve_config(name, base=None, overrides=None):
    """Merge the builder's defaults, a record's config and user overrides; refuse unknown keys by name."""
    model = entry(name)
    defaults = model.defaults()
    config = {k: v for k, v in defaults.items() if v is not inspect.Parameter.empty}
    config.update(base or {})
    unknown = sorted(set(overrides or {}) - set(defaults))
    if unknown:
        raise ValueError(
            f"unknown option(s) for model {name!r}: {', '.join(unknown)}. Valid options: {', '.join(sorted(defaults))}."
        )
    config.update(overrides or {})
    return config


def build(name, **config):
    """Instantiate and build model `name` from a config; invalid values are refused by name."""
    model = entry(name)
    try:
        instance = model.builder(**config)
    except (TypeError, ValueError) as e:
        raise ValueError(f"invalid configuration for model {name!r}: {e}") from e
    instance.build_for_inputs()
    return instance
