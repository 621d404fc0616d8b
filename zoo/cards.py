"""Model cards: one typed record per pretrained weight, and the only code that writes one.

A card is `zoo/weights/MODEL.TAG.json` beside `MODEL.TAG.weights.h5` and `MODEL.TAG.recipe.json`
(the recipe as the run used it). `zoo train` writes it without metrics, `zoo eval --write` adds
`metrics` and `eval_command`, `zoo export --write` one `export` cell at a time; each of them
loads a `Card`, changes it and calls `Card.save`, which checks the card before writing it.
"""

import dataclasses
import json
import re
import typing
from pathlib import Path

from zoo import weights as store

# Every key a card may carry (the fields of `Card`); REQUIRED_KEYS must be present, the rest may be left out.
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
    "recipe_retired": "why the recipe of that name no longer trains these weights (MODEL.TAG.recipe.json is what ran)",
    "train_command": "exact command that produced the weights",
    "data": "dataset name and splits used for training and test (`Data`)",
    "training": "epochs, batch size, seconds, hardware, backend of the run, the weights it started from if any (`Training`)",
    "license": "license of the weights",
    "paper": "the paper the model implements",
    "baseline": "the card ({model, tag, recipe}) this one is compared with (`Baseline`)",
    "metrics": "test metrics, written only by the evaluation command",
    "eval_command": "exact command that measured `metrics`",
    "export": "export cells: key (`saved_model`, `tflite_QUANTIZE`) -> size, parity, metric change, command",
}
REQUIRED_KEYS = set(RECORD_KEYS) - {"recipe_retired", "baseline", "metrics", "eval_command", "export"}
_EXPORT_KEY = re.compile(r"^(saved_model|tflite_[a-z0-9]+)$")


@dataclasses.dataclass(frozen=True)
class Data:
    dataset: str
    train_split: str
    test_split: str
    train_examples: int
    description: str
    fresh_draws: str | None  # how each epoch draws its data anew; null: one fixed training set


@dataclasses.dataclass(frozen=True)
class Training:
    epochs: int
    batch_size: int  # global: per replica × replicas
    optimizer: str
    seed: int
    strategy: str
    replicas: int
    mixed_precision: str | None
    seconds: int | float
    hardware: str
    backend: str
    keras: str
    initial_weights: str | None = None  # "MODEL:TAG sha256 …" the run started from; None: a fresh initialisation


@dataclasses.dataclass(frozen=True)
class Baseline:
    model: str
    tag: str
    recipe: str


@dataclasses.dataclass(kw_only=True)
class Card:
    """A model card; `RECORD_KEYS` says what each field holds. `metrics` and each `export` cell are
    dicts whose keys depend on the task (see `recipes.evaluate` and the export records)."""

    model: str
    tag: str
    builder: str
    config: dict
    file: str
    url: str | None
    sha256: str
    parameters: int
    input_spec: dict
    recipe: str
    recipe_retired: str | None = None
    train_command: str
    data: Data
    training: Training
    license: str
    paper: str
    baseline: Baseline | None = None
    metrics: dict | None = None
    eval_command: str | None = None
    export: dict | None = None

    @classmethod
    def from_dict(cls, values, source="card"):
        """The card of a JSON object; an unknown, missing or mistyped key is refused, naming `source` and the key."""
        return _build(cls, values, str(source))

    @classmethod
    def load(cls, file):
        """The card in `file`, which must be named MODEL.TAG.json after the card's model and tag."""
        file = Path(file)
        try:
            values = json.loads(file.read_text())
        except (OSError, ValueError) as error:
            raise ValueError(f"cannot read the card {file}: {error}") from error
        card = cls.from_dict(values, file)
        expected = path(card.model, card.tag).name
        if file.name != expected:
            raise ValueError(f"{file}: a card of {card.model}:{card.tag} must be named {expected}")
        return card

    def to_dict(self):
        """The card as JSON values, in field order; optional fields that are None left out."""
        values = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None and field.name not in REQUIRED_KEYS:
                continue
            values[field.name] = _values(value) if dataclasses.is_dataclass(value) else value
        return json.loads(json.dumps(values))  # tuples → lists, as the file will hold them

    def set_export(self, key, cell):
        """Record export cell `key` ("saved_model" or "tflite_QUANTIZE"): a dict of measurements."""
        if not isinstance(key, str) or not _EXPORT_KEY.match(key):
            raise ValueError(f"an export cell's key must be 'saved_model' or 'tflite_QUANTIZE'; got {key!r}")
        if not isinstance(cell, dict):
            raise ValueError(f"export cell {key!r} must be a dict of measurements; got {type(cell).__name__}")
        self.export = {**(self.export or {}), key: dict(cell)}

    def save(self, directory=None):
        """Write the card to `directory` (default: the shipped weights) atomically, once the text to be
        written passes `from_dict`'s checks. Returns the path. The only code that writes a card."""
        file = path(self.model, self.tag, directory)
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
        Card.from_dict(json.loads(text), file)
        store.atomic_write_text(file, text)
        return file


def path(model, tag, directory=None):
    """Where the card of `model:tag` lives: DIRECTORY/MODEL.TAG.json (default: the shipped weights)."""
    return Path(directory or store.SHIPPED_DIR) / f"{model}.{tag}.json"


def recipe_path(model, tag, directory=None):
    """The recipe as run (written by `zoo train`) beside the card: DIRECTORY/MODEL.TAG.recipe.json."""
    return Path(directory or store.SHIPPED_DIR) / f"{model}.{tag}.recipe.json"


def get(model, tag, directory=None):
    """The card of `model:tag` in `directory` (default: the shipped weights)."""
    return Card.load(path(model, tag, directory))


def _values(record):
    """A nested record's fields as a dict, leaving out those that are None by default and are None."""
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)
            if not (getattr(record, f.name) is None and f.default is None)}


def _build(cls, values, source):
    """cls(**values), each field present unless it has a default, none unknown, each of its declared
    type (a nested dataclass built the same way); else one ValueError naming `source` and the key."""
    if not isinstance(values, dict):
        raise ValueError(f"{source}: expected a JSON object; got {type(values).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"{source}: unknown key {unknown[0]!r}; a {cls.__name__} has {', '.join(fields)}")
    missing = [n for n, f in fields.items() if n not in values and f.default is dataclasses.MISSING]
    if missing:
        raise ValueError(f"{source}: missing key {missing[0]!r} of a {cls.__name__}")
    built = {}
    for name, value in values.items():
        kind = fields[name].type
        nested = [t for t in typing.get_args(kind) or (kind,) if dataclasses.is_dataclass(t)]
        if nested and isinstance(value, dict):
            value = _build(nested[0], value, f"{source}: {name}")
        if not isinstance(value, kind) or isinstance(value, bool) and kind in (int, int | float):
            raise ValueError(f"{source}: key {name!r} must be {_name(kind)}; got {json.dumps(value)[:60]}")
        built[name] = value
    return cls(**built)


def _name(kind):
    """A type as a card's reader would say it: "str or null"."""
    names = {str: "text", int: "an integer", float: "a number", dict: "an object", type(None): "null"}
    return " or ".join(names.get(t, t.__name__) for t in typing.get_args(kind) or (kind,))
