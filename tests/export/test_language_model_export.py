"""The character language model exported (a window of ids → next-character probabilities) and
continued by `zoo predict` on LiteRT alone, as Keras continues it."""

import json

from tests.helpers import zoo_cli_without_tensorflow
from zoo.cli import main


def test_export_then_continue_text_on_litert_without_tensorflow_as_keras_does(tmp_path, capsys):
    path = tmp_path / "lm.tflite"
    main(["export", "grid_lstm_lm", "--out", str(path), "--eval-limit", "50"])
    printed = capsys.readouterr().out
    assert "test bits per character: Keras" in printed
    meta = json.loads((tmp_path / "lm.tflite.json").read_text())
    check = meta["check"]
    assert check["parity_max_abs_diff"] <= 1e-4 and check["top1_agreement_percent"] == 100.0
    assert abs(check["bpc_change"]) < 1e-3 and check["test_characters"] == 50 * meta["language_model"]["context"]

    prompt = "And the LORD said unto Moses, "
    result = zoo_cli_without_tensorflow(["predict", path, prompt, "--length", "60", "--seed", "2"])
    assert result.returncode == 0, result.stderr[-2000:]
    main(["predict", "grid_lstm_lm", prompt, "--length", "60", "--seed", "2"])
    keras_text = capsys.readouterr().out.strip()
    assert result.stdout.strip() == keras_text and keras_text.startswith(prompt) and len(keras_text) == len(prompt) + 60
