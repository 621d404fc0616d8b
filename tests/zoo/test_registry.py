"""The registry and every shipped weights record (the model cards)."""

import json

import pytest

import zoo
from recipes import campaign
from zoo import cards, registry
from zoo import weights as store

RECORDS = registry.all_records()


def test_unknown_model_names_close_matches():
    with pytest.raises(ValueError, match=r"unknown model 'stm'.*Did you mean 'stn'.*Available models"):
        zoo.load("stm")


def test_unknown_and_invalid_overrides_are_refused_by_name():
    with pytest.raises(ValueError, match=r"unknown option\(s\) for model 'stn': transfrom.*Valid options"):
        zoo.load("stn", weights=None, transfrom="affine")
    with pytest.raises(ValueError, match=r"invalid configuration for model 'stn': transform must be one of"):
        zoo.load("stn", weights=None, transform="tps")


def test_unknown_weights_tag_lists_tags():
    with pytest.raises(ValueError, match=r"no weights tagged 'nope'"):
        registry.record("stn", "nope")


def test_info_lists_options_and_tags():
    card = zoo.info("stn")
    assert card["paper"].startswith("Jaderberg")
    assert "transform" in card["options"]
    assert set(card["weights"]) == set(registry.records("stn"))
    assert card["weights"]["rts_mnist5k"]["test"].endswith("% error") and len(json.dumps(card)) < 3000
    assert zoo.info("stn", weights="rts_mnist5k") == registry.record("stn", "rts_mnist5k")


def test_info_reads_the_card_beside_a_weights_file(tmp_path):
    rec = registry.record("stn", "rts_mnist5k")
    (tmp_path / rec["file"]).write_bytes(b"")
    with pytest.raises(ValueError, match=r"has no card stn.rts_mnist5k.json beside it"):
        zoo.info("stn", weights=str(tmp_path / rec["file"]))
    (tmp_path / "stn.rts_mnist5k.json").write_text(json.dumps(rec))
    assert zoo.info("stn", weights=str(tmp_path / rec["file"])) == rec
    with pytest.raises(ValueError, match=r"is the card of model 'stn', not 'cnn'"):
        zoo.info("cnn", weights=str(tmp_path / rec["file"]))


def test_list_models_filters_by_pattern_and_weights():
    assert zoo.list_models("grid_lstm*") == ["grid_lstm", "grid_lstm_image", "grid_lstm_lm"]
    assert zoo.list_models("*", pretrained=True) == [n for n in zoo.list_models() if registry.records(n)]
    assert zoo.list_models("nothing*") == []


def test_there_are_pretrained_records():
    assert {rec["model"] for rec in RECORDS} >= {"stn", "cnn"}


@pytest.mark.parametrize("rec", RECORDS, ids=lambda r: f"{r['model']}:{r['tag']}")
def test_record_schema_sha256_and_parameter_count(rec):
    assert cards.REQUIRED_KEYS <= set(rec) <= set(cards.RECORD_KEYS)  # every card loads through cards.Card
    assert registry.TAG_PATTERN.match(rec["tag"])
    assert rec["file"] == registry.weights_file(rec["model"], rec["tag"])
    entry = registry.entry(rec["model"])
    assert rec["builder"] == f"{entry.builder.__module__}.{entry.builder.__qualname__}"
    path = store.SHIPPED_DIR / rec["file"]
    assert store.sha256(path) == rec["sha256"]
    model = zoo.load(rec["model"], weights=rec["tag"])
    assert model.count_params() == rec["parameters"]
    if hasattr(model, "translate"):
        assert rec["input_spec"]["text"]["max_tokens"] == model.max_source_len
    elif "bits" in rec["input_spec"]:  # bit-vector models (grid_lstm parity)
        assert rec["input_spec"]["bits"]["shape"] == [None, model.bits]
    elif "ids" in rec["input_spec"]:  # character language models
        assert rec["input_spec"]["ids"]["exported_window"] == model.context and rec["config"]["tokens"] == model.tokens
    elif "strokes" in rec["input_spec"]:  # stroke writers: pen points and the text's ids
        assert rec["input_spec"]["text"]["shape"] == [None, model.max_text_len] and rec["config"]["tokens"] == model.tokens
    else:
        assert rec["input_spec"]["images"]["shape"] == [None, *model.image_shape]
    assert "zoo train " + rec["recipe"] in rec["train_command"]
    if rec.get("metrics"):
        assert rec["eval_command"] == f"zoo eval {rec['model']} --weights {rec['tag']} --write"
    if rec.get("baseline"):  # trained, or queued in the GPU campaign (a card may come before its baseline)
        assert (rec["baseline"]["tag"] in registry.records(rec["baseline"]["model"])
                or rec["baseline"]["recipe"] in campaign.queued())


@pytest.mark.parametrize("rec", RECORDS, ids=lambda r: f"{r['model']}:{r['tag']}")
def test_every_default_tag_exists(rec):
    entry = registry.entry(rec["model"])
    assert entry.default_weights in registry.records(rec["model"])


def test_records_are_valid_json_files():
    for path in store.SHIPPED_DIR.glob("*.json"):
        rec = json.loads(path.read_text())
        if path.name.endswith(".recipe.json"):  # the recipe a run used: it names the card beside it
            assert path == cards.recipe_path(rec["model"], rec["tag"]) and cards.path(rec["model"], rec["tag"]).exists()
            continue
        assert path == cards.path(rec["model"], rec["tag"])


def test_every_model_declares_its_task_and_instances_answer_it():
    for name in zoo.list_models():
        task = registry.task(name)
        assert task in registry.TASKS
        assert registry.task(registry.entry(name).builder.__new__(registry.entry(name).builder)) == task
    assert registry.task("seq2seq") == "translator" and registry.task("draw") == "generator"
    with pytest.raises(ValueError, match="task must be one of"):
        registry.register_model("toy", task="regressor", summary="", paper="")
    with pytest.raises(ValueError, match="not a registered model"):
        registry.task(object())


def test_declared_models_are_the_registered_ones():
    # What `declared()` reads from the source without importing equals what registration records.
    from zoo.registry import declared, entry

    for name, declaration in declared().items():
        registered = entry(name)
        assert declaration == {"task": registered.task, "summary": registered.summary, "paper": registered.paper,
                               "default_weights": registered.default_weights}, name
    assert sorted(declared()) == sorted(registry._MODELS)
