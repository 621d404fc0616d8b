"""Every model card loads through `zoo.cards.Card` and is written back unchanged; its metrics reproduce
from its shipped weights: the quick check each card carries (the first 1,000 test examples, written
by `zoo eval --write`) within 0.3 points here; the full test split with `zoo eval NAME --weights TAG`,
which prints the difference."""

import dataclasses
import json
import re

import pytest

import zoo
from recipes.evaluate import CHECK_EXAMPLES, check_metrics
from zoo import cards, registry
from zoo import weights as store

EVALUATED = [rec for rec in registry.all_records() if rec.get("metrics")]


def test_every_record_has_been_evaluated():
    missing = [f"{r['model']}:{r['tag']}" for r in registry.all_records() if "check" not in (r.get("metrics") or {})]
    assert not missing, f"run `zoo eval NAME --weights TAG --write` for {missing}"


@pytest.mark.slow
@pytest.mark.parametrize("rec", EVALUATED, ids=lambda r: f"{r['model']}:{r['tag']}")
def test_card_metrics_reproduce(rec):
    expected = rec["metrics"]["check"]
    assert expected["examples"] == min(CHECK_EXAMPLES, rec["metrics"]["examples"])
    model = zoo.load(rec["model"], weights=rec["tag"])
    got = check_metrics(model, rec["data"]["dataset"], rec["data"]["test_split"])
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert (got[key] is None) == (value is None) and abs((got[key] or 0) - (value or 0)) <= 0.3, (key, got[key], value)


def test_the_check_is_the_full_metric_where_the_test_split_is_small():
    # Where the whole test split fits in the check, both figures are the same measurement.
    for rec in EVALUATED:
        metrics = rec["metrics"]
        if metrics["examples"] <= CHECK_EXAMPLES:
            for key, value in metrics["check"].items():
                if key == "examples":
                    continue
                full = (metrics.get("greedy") or metrics).get(key)  # captioners check their greedy decoding
                assert full == value, (rec["model"], rec["tag"], key, full, value)


@pytest.mark.parametrize("rec", [r for r in EVALUATED if r.get("baseline")], ids=lambda r: f"{r['model']}:{r['tag']}")
def test_baselines_are_evaluated_on_the_same_test_split(rec):
    if rec["baseline"]["tag"] not in registry.records(rec["baseline"]["model"]):  # queued: test_registry checks it is
        pytest.skip(f"the baseline {rec['baseline']['recipe']} is queued in the GPU campaign, not trained yet")
    base = registry.record(rec["baseline"]["model"], rec["baseline"]["tag"])
    assert base["data"]["dataset"] == rec["data"]["dataset"]
    assert base["metrics"]["examples"] == rec["metrics"]["examples"]
    # The same schedule, or a longer one for the baseline (never a head start for the new model):
    # RAM's 50 epochs for the DRAW classifier and the CNN.
    assert base["training"]["epochs"] >= rec["training"]["epochs"]


CARD_FILES = sorted(p for p in store.SHIPPED_DIR.glob("*.json") if not p.name.endswith(".recipe.json"))


def test_every_card_loads_through_the_dataclass_and_saves_byte_for_byte(tmp_path):
    # One card per shipped weights file, each read by cards.Card and written back unchanged by Card.save.
    assert len(CARD_FILES) == len(list(store.SHIPPED_DIR.glob("*.weights.h5")))
    for path in CARD_FILES:
        card = cards.Card.load(path)
        assert isinstance(card.data, cards.Data) and isinstance(card.training, cards.Training)
        assert card.save(tmp_path).read_text() == path.read_text(), path.name
    assert set(cards.RECORD_KEYS) == {f.name for f in dataclasses.fields(cards.Card)}


def _card_values():
    return json.loads(CARD_FILES[0].read_text())


@pytest.mark.parametrize("change, error", [
    (lambda v: v.update(colour="red"), "unknown key 'colour'"),
    (lambda v: v.pop("sha256"), "missing key 'sha256'"),
    (lambda v: v["training"].pop("seed"), "training: missing key 'seed'"),
    (lambda v: v["data"].update(split="x"), "data: unknown key 'split'"),
    (lambda v: v["training"].update(epochs="4"), "training: key 'epochs' must be an integer; got \"4\""),
    (lambda v: v.update(parameters=True), "key 'parameters' must be an integer"),
    (lambda v: v.update(url=3), "key 'url' must be text or null"),
    (lambda v: v.update(data=[]), "key 'data' must be Data"),
])
def test_a_card_with_an_unknown_missing_or_mistyped_key_is_refused_naming_file_and_key(tmp_path, change, error):
    values = _card_values()
    change(values)
    path = tmp_path / CARD_FILES[0].name
    path.write_text(json.dumps(values))
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))}: {re.escape(error)}"):
        cards.Card.load(path)


def test_a_card_is_named_after_its_model_and_tag_and_save_refuses_a_bad_card(tmp_path):
    (tmp_path / "other.json").write_text(CARD_FILES[0].read_text())
    with pytest.raises(ValueError, match=r"other.json: a card of \w+:\w+ must be named"):
        cards.Card.load(tmp_path / "other.json")
    card = cards.Card.load(CARD_FILES[0])
    card.parameters = "many"
    with pytest.raises(ValueError, match="key 'parameters' must be an integer"):
        card.save(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["other.json"]  # nothing written


def test_set_export_records_one_cell_and_the_registry_reads_it_back(tmp_path):
    card = cards.Card.load(CARD_FILES[0])
    card.set_export("tflite_int8", {"size_kib": 1.5, "command": "zoo export ..."})
    card.save(tmp_path)
    rec = registry.records(card.model, tmp_path)[card.tag]
    assert rec["export"]["tflite_int8"] == {"size_kib": 1.5, "command": "zoo export ..."}
    assert rec["export"].keys() == cards.Card.load(CARD_FILES[0]).export.keys()  # the other cells kept
    for key, cell in (("tflite", {}), ("onnx_fp32", {}), ("saved_model", [1])):
        with pytest.raises(ValueError, match="export cell"):
            card.set_export(key, cell)
