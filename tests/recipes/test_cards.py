"""Every model card's test metrics reproduce from its shipped weights (within 0.3 points)."""

import pytest

import zoo
from recipes.evaluate import evaluate_captions, evaluate_model, evaluate_translation
from zoo import registry

EVALUATED = [rec for rec in registry.all_records() if rec.get("metrics")]


def test_every_record_has_been_evaluated():
    missing = [f"{r['model']}:{r['tag']}" for r in registry.all_records() if not r.get("metrics")]
    assert not missing, f"run `zoo eval NAME --weights TAG --write` for {missing}"


@pytest.mark.slow
@pytest.mark.parametrize("rec", EVALUATED, ids=lambda r: f"{r['model']}:{r['tag']}")
def test_card_metrics_reproduce(rec):
    # The headline metric only: greedy exact match for translators (beam 3 is slow), the error of the
    # deterministic path for classifiers (RAM's 8-path Monte-Carlo error costs 8 more passes).
    # Captioners: their greedy BLEU-4, caption and grounding accuracy (the card's beam-3 figures are slower).
    model = zoo.load(rec["model"], weights=rec["tag"])
    if "bleu4" in rec["metrics"]:
        metrics = evaluate_captions(model, rec["data"]["dataset"], rec["data"]["test_split"], beam_size=1)
        for key, expected in rec["metrics"]["greedy"].items():
            assert (metrics[key] is None) == (expected is None) and abs((metrics[key] or 0) - (expected or 0)) <= 0.3, key
        return
    if "exact_match" in rec["metrics"]:
        metrics, key = evaluate_translation(model, rec["data"]["dataset"], rec["data"]["test_split"]), "exact_match"
    elif "nll_bound" in rec["metrics"]:  # generators: the bound in nats, noise seeded as the card's
        metrics, key = evaluate_model(model, rec["data"]["dataset"], rec["data"]["test_split"]), "nll_bound"
    else:
        metrics, key = evaluate_model(model, rec["data"]["dataset"], rec["data"]["test_split"]), "error"
    assert metrics["examples"] == rec["metrics"]["examples"]
    assert abs(metrics[key] - rec["metrics"][key]) <= 0.3


@pytest.mark.parametrize("rec", [r for r in EVALUATED if r.get("baseline")], ids=lambda r: f"{r['model']}:{r['tag']}")
def test_baselines_are_evaluated_on_the_same_test_split(rec):
    base = registry.record(rec["baseline"]["model"], rec["baseline"]["tag"])
    assert base["data"]["dataset"] == rec["data"]["dataset"]
    assert base["metrics"]["examples"] == rec["metrics"]["examples"]
    # The same schedule, or a longer one for the baseline (never a head start for the new model):
    # the DRAW classifier's 20 CPU epochs against the CNN's 50 of RAM's recipe.
    assert base["training"]["epochs"] >= rec["training"]["epochs"]
