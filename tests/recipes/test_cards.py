"""Every model card's metrics reproduce from its shipped weights: the quick check each card
carries (the first 1,000 test examples, written by `zoo eval --write`) within 0.3 points here;
the full test split with `zoo eval NAME --weights TAG`, which prints the difference."""

import pytest

import zoo
from recipes.evaluate import CHECK_EXAMPLES, HEADLINE_KEYS, check_metrics
from zoo import registry

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
                full = metrics.get(key) if key in HEADLINE_KEYS else metrics.get("greedy", {}).get(key)
                assert full == value, (rec["model"], rec["tag"], key, full, value)


@pytest.mark.parametrize("rec", [r for r in EVALUATED if r.get("baseline")], ids=lambda r: f"{r['model']}:{r['tag']}")
def test_baselines_are_evaluated_on_the_same_test_split(rec):
    base = registry.record(rec["baseline"]["model"], rec["baseline"]["tag"])
    assert base["data"]["dataset"] == rec["data"]["dataset"]
    assert base["metrics"]["examples"] == rec["metrics"]["examples"]
    # The same schedule, or a longer one for the baseline (never a head start for the new model):
    # RAM's 50 epochs for the DRAW classifier and the CNN.
    assert base["training"]["epochs"] >= rec["training"]["epochs"]
