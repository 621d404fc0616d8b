"""A GPU campaign, run here on the CPU: two tiny recipes side by side in a one-minute time box (a
loaded CI machine needs more than 30 s to start JAX and finish the small one); the returned files
unpack, load, evaluate, and resume in a second campaign."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import zoo
from recipes import campaign, configs
from recipes.evaluate import evaluate

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
ENV.pop("KERAS_BACKEND", None)  # the runner chooses JAX itself
FINISHES = {"recipe": "cnn_rts_mnist5k", "epochs": 1, "limit": 128, "validation": 64}
STOPS = {"recipe": "grid_lstm_parity_16", "epochs": 100000, "limit": 256, "validation": 64}


def run_campaign(tmp_path, name, entries, state=None, minutes=1.0):
    queue = tmp_path / f"{name}.json"
    queue.write_text(json.dumps({"entries": entries}))
    out = tmp_path / name
    command = [sys.executable, "-m", "recipes.campaign", str(queue), "--minutes", str(minutes), "--out", str(out),
               "--work", str(tmp_path / f"{name}-work"), *(["--state", str(state)] if state else [])]
    done = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return out, json.loads((out / "campaign.json").read_text())


def log_epochs(directory):
    return [json.loads(line)["epoch"] for line in (directory / "log.jsonl").read_text().splitlines()]


def test_a_campaign_returns_files_that_load_evaluate_and_resume(tmp_path):
    out, summary = run_campaign(tmp_path, "first", [FINISHES, STOPS])
    assert sorted(p.name for p in out.iterdir()) == ["campaign.json", "campaign.tar.000"]
    rows = {row["recipe"]: row for row in summary["entries"]}
    assert rows["cnn_rts_mnist5k"]["status"] == "finished" and rows["cnn_rts_mnist5k"]["epochs"] == 1
    assert rows["grid_lstm_parity_16"]["status"] == "stopped" and rows["grid_lstm_parity_16"]["epochs"] >= 1
    assert "val_accuracy" in rows["grid_lstm_parity_16"]["last"]

    state, weights = tmp_path / "state", tmp_path / "weights"
    campaign.unpack(out, state, weights)
    card = json.loads((weights / "cnn.rts_mnist5k.json").read_text())
    assert card["training"]["backend"] == "jax" and card["training"]["epochs"] == 1
    model = zoo.load("cnn", weights=str(weights / card["file"]), **card["config"])
    metrics = evaluate(model, card["data"]["dataset"], limit=100)
    assert 0 <= metrics["error"] <= 100 and metrics["examples"] == 100
    assert not (state / "cnn_rts_mnist5k").exists()  # finished: no state kept
    done = log_epochs(state / "grid_lstm_parity_16")
    assert (state / "grid_lstm_parity_16" / "backup" / f"epoch-{done[-1]:04d}" / "state.weights.h5").exists()

    _, again = run_campaign(tmp_path, "second", [STOPS], state=state)
    resumed = log_epochs(tmp_path / "second-work" / "grid_lstm_parity_16")
    assert resumed[: len(done)] == done and resumed[len(done)] == done[-1] + 1  # on from the backup, not epoch 1
    assert again["entries"][0]["epochs"] > done[-1]


def test_unpack_refuses_a_folder_without_parts(tmp_path):
    with pytest.raises(ValueError, match="campaign.tar.NNN"):
        campaign.unpack(tmp_path, tmp_path / "state", tmp_path / "weights")


def test_the_queue_names_known_recipes_in_priority_order():
    entries = campaign.load_queue(campaign.STATE_DIR.parent / "gpu.json")
    assert entries[0]["recipe"] == "ram_cluttered100_fashion_mnist_lstm_300e"
    for entry in entries:
        configs.get(entry["recipe"])
        assert entry["goal"] and entry["target"] and entry["estimate"]["gpu_minutes"] > 0


def test_queued_names_the_recipes_to_run_now_and_next(tmp_path):
    queue = tmp_path / "q.json"
    queue.write_text(json.dumps({"entries": [{"recipe": "a"}], "next": {"why": "later", "entries": [{"recipe": "b"}]}}))
    assert campaign.queued(queue) == {"a", "b"}
    assert "handwriting_strokes_kjv" in campaign.queued()  # the next entries count too


def test_a_queue_with_an_unknown_recipe_is_refused(tmp_path):
    queue = tmp_path / "q.json"
    queue.write_text(json.dumps({"entries": [{"recipe": "ram_cluttered100_fashion_mnist_lstm_30e"}]}))
    with pytest.raises(ValueError, match="unknown recipe"):
        campaign.load_queue(queue)


def test_pack_leaves_out_the_lowest_priority_backups_when_the_parts_would_not_come_back(tmp_path, monkeypatch):
    for seed, name in enumerate(("first", "second")):
        (tmp_path / name / "backup").mkdir(parents=True)
        (tmp_path / name / "backup" / "state.bin").write_bytes(np.random.default_rng(seed).bytes(3000))
        (tmp_path / name / "log.jsonl").write_text('{"epoch": 1, "seconds": 1.0}\n')
    monkeypatch.setattr(campaign, "PART_BYTES", 2000)
    monkeypatch.setattr(campaign, "MAX_PARTS", 2)
    assert campaign.pack(tmp_path, ["first", "second"], tmp_path / "out") == ["second"]
    assert len(list((tmp_path / "out").iterdir())) <= 2
