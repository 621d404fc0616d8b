"""The recipe is stored once: every card's `MODEL.TAG.recipe.json` (the recipe as its run used it, written
by `zoo train`) equals the recipe of that name in `recipes.configs`, run settings ("run") aside, or the
card says why that recipe no longer trains its weights (`recipe_retired`)."""

import dataclasses
import json

import pytest

from recipes import configs
from zoo import cards
from zoo import weights as store

CARDS = [cards.Card.load(p) for p in sorted(store.SHIPPED_DIR.glob("*.json")) if not p.name.endswith(".recipe.json")]
FIELDS = {f.name for f in dataclasses.fields(configs.Recipe)}


def recipe_part(text):
    """A recipe file's recipe, without its run settings; fields it predates at their defaults."""
    saved = json.loads(text)
    saved.pop("run")
    assert set(saved) <= FIELDS, f"fields no recipe has: {set(saved) - FIELDS}"
    return dataclasses.asdict(configs.Recipe(**saved))


@pytest.mark.parametrize("card", CARDS, ids=lambda c: f"{c.model}:{c.tag}")
def test_every_card_ran_the_recipe_of_its_name_or_says_why_not(card):
    path = cards.recipe_path(card.model, card.tag)
    assert path.exists(), f"{card.model}:{card.tag} has no {path.name}"
    ran = recipe_part(path.read_text())
    listed = recipe_part(configs.to_json(configs.get(card.recipe)))
    if card.recipe_retired:
        assert ran != listed, f"{card.model}:{card.tag} is marked retired, but its recipe agrees: drop the mark"
    else:
        assert ran == listed, {k: (ran.get(k), listed.get(k)) for k in listed if ran.get(k) != listed.get(k)}
    assert ran["name"] == card.recipe and card.train_command.startswith(f"zoo train {card.recipe}")
