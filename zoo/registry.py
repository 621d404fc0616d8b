"""The registry: model builders by name, and one record (model card) per pretrained weight.

A model is registered with `register_model` on its builder class. A pretrained weight is a
record: `zoo/weights/NAME.TAG.json` beside `NAME.TAG.weights.h5`, a `zoo.cards.Card` written by the
training runner (`zoo train`) and completed by `zoo eval` and `zoo export`, never by hand.
`load(name, weights=...)` separates the architecture (name) from the weights (tag), as
torchvision and timm do.
"""

import ast
import dataclasses
import difflib
import inspect
import re
from pathlib import Path

from zoo import cards, tasks
from zoo import weights as store

TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_]*$")


def did_you_mean(name, choices, n=3, cutoff=0.5):
    """" Did you mean 'x', 'y'?" for the choices closest to `name`, or "" when none is close."""
    close = difflib.get_close_matches(str(name), list(choices), n=n, cutoff=cutoff)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""


# What a model does, declared when it registers; model-agnostic code asks `task(...)`, never guesses.
TASKS = tasks.TASKS


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
_DECLARED = {}
MODELS_DIR = Path(__file__).parent / "models"


def register_model(name, *, task, summary, paper, default_weights=None):
    """Class decorator: register a model builder under `name`, doing `task` (one of TASKS)."""
    if task not in TASKS:
        raise ValueError(f"model {name!r}: task must be one of {', '.join(TASKS)}; got {task!r}")

    def wrap(cls):
        _MODELS[name] = ModelEntry(name, cls, task, summary, paper, default_weights)
        return cls

    return wrap


def declared():
    """name -> {task, summary, paper, default_weights}, as each module of zoo/models/ declares them in
    its `@register_model(...)` call, read from the source without importing it: listing the models,
    their cards and a misspelt name's suggestions need no Keras. `entry(name)` imports the builder."""
    if not _DECLARED:
        for source in sorted(MODELS_DIR.glob("*.py")):
            for node in ast.walk(ast.parse(source.read_text(), str(source))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "register_model":
                    _DECLARED[ast.literal_eval(node.args[0])] = {
                        "default_weights": None, **{k.arg: ast.literal_eval(k.value) for k in node.keywords}}
    return dict(sorted(_DECLARED.items()))


def check_name(name):
    """`name` if a model of that name is registered, else a ValueError that suggests close names."""
    names = declared()
    if not isinstance(name, str) or name not in names:
        raise ValueError(f"unknown model {name!r}.{did_you_mean(name, names)} Available models: {', '.join(names)}.")
    return name


def task(model):
    """The task of a registered model, given its name or an instance of its builder."""
    if isinstance(model, str):
        return declared()[check_name(model)]["task"]
    _ensure_models_imported()
    for candidate in _MODELS.values():
        if type(model) is candidate.builder:
            return candidate.task
    raise ValueError(f"{type(model).__name__} is not a registered model's builder")


def _ensure_models_imported():
    import zoo.models  # noqa: F401  (importing registers every builder)


def model_names():
    return list(declared())


def entry(name):
    """The registered model `name` (its builder imported), or a ValueError that suggests close names."""
    check_name(name)
    _ensure_models_imported()
    return _MODELS[name]


def record_path(name, tag, directory=None):
    return cards.path(name, tag, directory)


def weights_file(name, tag):
    return f"{name}.{tag}.weights.h5"


def records(name, directory=None):
    """All weight records of model `name`: tag -> card as a dict (`cards.Card.to_dict`), sorted by tag;
    every card is loaded (and checked) through `cards.Card`."""
    directory = Path(directory or store.SHIPPED_DIR)
    found = {}
    for path in sorted(directory.glob(f"{name}.*.json")):
        if path.name.endswith(".recipe.json"):  # the recipe a run used, beside its card
            continue
        card = cards.Card.load(path)
        if card.model == name:
            found[card.tag] = card.to_dict()
    return found


def all_records(directory=None):
    """Every record in the store, as a list."""
    return [rec for name in model_names() for rec in records(name, directory).values()]


def record(name, tag="default"):
    """The record of `name`'s weights `tag` ("default" resolves to the model's default tag)."""
    default = declared()[check_name(name)]["default_weights"]
    known = records(name)
    if tag == "default":
        if default is None or default not in known:
            raise ValueError(
                f"model {name!r} has no default pretrained weights yet; use weights=None for a fresh model"
                + (f", or one of the tags {sorted(known)}" if known else "")
            )
        tag = default
    if tag not in known:
        raise ValueError(
            f"model {name!r} has no weights tagged {tag!r}.{did_you_mean(tag, known)} Tags: {', '.join(sorted(known)) or 'none'}."
        )
    return known[tag]


def resolve_config(name, base=None, overrides=None):
    """config = builder defaults ← `base` (a card's config) ← `overrides`; unknown keys are refused by name.

    Overriding `num_classes` without `class_names` drops the base's class names: they named its classes.
    """
    model = entry(name)
    defaults = model.defaults()
    overrides = overrides or {}
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ValueError(
            f"unknown option(s) for model {name!r}: {', '.join(unknown)}. Valid options: {', '.join(sorted(defaults))}."
        )
    base = dict(base or {})
    if "num_classes" in overrides and "class_names" not in overrides:
        base.pop("class_names", None)
    config = {k: v for k, v in defaults.items() if v is not inspect.Parameter.empty}
    return {**config, **base, **overrides}


def build(name, **config):
    """Instantiate and build model `name`: the builder's defaults with `config` on top (no card's
    config: that is `zoo.load`'s); unknown option names and invalid values are refused by name."""
    model = entry(name)
    config = resolve_config(name, overrides=config)
    try:
        instance = model.builder(**config)
    except (TypeError, ValueError) as e:
        raise ValueError(f"invalid configuration for model {name!r}: {e}") from e
    instance.build_for_inputs()
    return instance
