"""The `zoo` command line: what a user types, and the errors they see."""

import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import generated_block, zoo_cli_without_tensorflow
from zoo.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "zoo.cli", *args], capture_output=True, text=True, timeout=300)


def test_list_and_info(capsys):
    main(["list"])
    out = capsys.readouterr().out
    assert "stn" in out and "cnn" in out
    main(["info", "stn"])
    out = capsys.readouterr().out
    assert "Jaderberg" in out and "rts_fashion_mnist" in out and "classes: T-shirt/top" in out
    assert "input images: float32 (B×42×42×1) in [0, 1]" in out and "export" not in out
    main(["info", "handwriting"])  # a free length shows as T, not as a second batch axis
    assert "input strokes: float32 (B×T×3)" in capsys.readouterr().out
    main(["list", "grid_lstm*"])
    rows = capsys.readouterr().out.splitlines()[2:-2]
    assert [row.split()[0] for row in rows] == ["grid_lstm", "grid_lstm_image", "grid_lstm_lm"]


def test_unknown_model_is_a_clear_error_without_traceback():
    result = run("info", "stm")
    assert result.returncode != 0
    assert "unknown model 'stm'. Did you mean 'stn'" in result.stderr
    assert "Traceback" not in result.stderr


def test_train_lists_recipes(capsys):
    main(["train"])
    assert "stn_rts_fashion_mnist" in capsys.readouterr().out


def test_data_preview_writes_png(tmp_path, capsys):
    out = tmp_path / "preview.png"
    main(["data", "rts_mnist5k", "--preview", "--out", str(out)])
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_data_preview_prints_parity_strings(capsys):
    assert main(["data", "parity_16", "--preview", "--split", "test"]) in (None, 0)
    lines = [line.split() for line in capsys.readouterr().out.splitlines() if "->" in line]
    assert len(lines) == 12
    for bits, _, label in lines:
        assert len(bits) == 16 and label == ("odd" if bits.count("1") % 2 else "even")


def test_data_preview_of_scenes_prints_references_and_writes_png(tmp_path, capsys):
    out = tmp_path / "scenes.png"
    main(["data", "scenes_mnist5k", "--preview", "--split", "test", "--out", str(out)])
    printed = capsys.readouterr().out
    assert "scene 0: a " in printed and "scene 11: " in printed
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_predict_captions_a_scene_with_the_default_weights(tmp_path, capsys):
    import numpy as np

    import zoo
    from recipes import data
    from recipes.data import scenes

    drawn = data.load_scenes("scenes_fashion_mnist", "test", limit=1)
    np.save(tmp_path / "scene.npy", drawn.images[0])
    main(["predict", "show_attend_tell", str(tmp_path / "scene.npy"), "--beam", "3"])
    caption, peaks = capsys.readouterr().out.splitlines()[:2]
    expected = zoo.load("show_attend_tell").caption(data.for_model(drawn.images), beam_size=3)[0]["text"]
    assert caption == expected and scenes.parse(caption) and "attention peak" in peaks


def test_train_then_eval_a_tiny_run_into_a_scratch_directory(tmp_path, capsys):
    main(["train", "cnn_rts_mnist5k", "--epochs", "1", "--limit", "256", "--out", str(tmp_path),
          "--run-dir", str(tmp_path / "run")])
    assert (tmp_path / "cnn.rts_mnist5k.weights.h5").exists()
    card = (tmp_path / "cnn.rts_mnist5k.json").read_text()
    assert '"train_command": "zoo train cnn_rts_mnist5k --epochs 1 --limit 256"' in card
    assert '"metrics"' not in card  # only the evaluation command writes metrics


def test_predict_with_a_model_name(tmp_path, capsys):
    import numpy as np

    from recipes import data

    images, labels = data.load_arrays("rts_fashion_mnist", "test")
    np.save(tmp_path / "x.npy", images[0])
    main(["predict", "stn", str(tmp_path / "x.npy"), "--top", "1"])
    out = capsys.readouterr().out.strip()
    assert out.split()[0] in data.info("rts_fashion_mnist")["labels"]


def test_predict_refuses_a_wrong_size_image(tmp_path):
    from PIL import Image

    Image.new("L", (28, 28)).save(tmp_path / "small.png")
    with pytest.raises(SystemExit, match=r"expects images of 42×42; got 28×28 \(add --resize"):
        main(["predict", "stn", str(tmp_path / "small.png")])


def test_export_int8_prints_parity_accuracy_change_and_latency(tmp_path, capsys):
    out = tmp_path / "stn.int8.tflite"
    main(["export", "stn", "--weights", "rts_mnist5k", "--quantize", "int8", "--out", str(out), "--eval-limit", "200"])
    text = capsys.readouterr().out
    assert out.exists() and (tmp_path / "stn.int8.tflite.json").exists()
    assert "parity max |LiteRT - Keras|" in text and "points, 200 examples" in text and "latency batch 1" in text


def test_export_refuses_to_write_subset_results_into_the_card(tmp_path):
    with pytest.raises(SystemExit, match="refusing to write export results measured on a subset"):
        main(["export", "cnn", "--weights", "rts_mnist5k", "--out", str(tmp_path / "c.tflite"), "--eval-limit", "10", "--write"])


def test_results_page_is_generated_from_the_cards():
    from zoo.cli.results import README_MARKERS, results_markdown

    assert generated_block("docs/results.md", README_MARKERS) == results_markdown().strip(), \
        "docs/results.md is stale: run `zoo results --update-readme`"


def test_readme_models_table_is_generated_from_the_cards():
    from zoo.cli.results import MODELS_MARKERS, models_markdown

    assert generated_block("README.md", MODELS_MARKERS) == models_markdown().strip(), \
        "the README's table of models is stale: run `zoo results --update-readme`"


def test_results_rows_show_each_evaluated_cards_metric():
    # Each dataset's table has its own columns; a row must read its own card (not a neighbour's).
    from zoo import registry
    from zoo.cli.results import results_markdown

    rows = {}
    for line in results_markdown().splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.split("|")]
            rows[(cells[1], cells[2])] = cells
    for rec in registry.all_records():
        if rec.get("metrics"):
            cells = rows[(f"`{rec['model']}`", f"`{rec['tag']}`")]
            assert cells[3] not in ("–", "–%"), f"{rec['model']}:{rec['tag']} shows no metric: {cells}"


def test_matrix_prints_the_cards_cells_and_info_lists_them(capsys):
    main(["matrix", "--models", "cnn", "--weights", "mnist5k"])
    out = capsys.readouterr().out
    assert "| `cnn` | `mnist5k` |" in out and "KiB" in out and "not run yet" not in out
    main(["info", "draw_classifier", "--weights", "cluttered100_fashion_mnist_4g"])
    out = capsys.readouterr().out
    assert "export tflite_int8:" in out and "why: With its float choice" in out


def test_export_saved_model_reports_parity_metric_and_latency(tmp_path, capsys):
    out = tmp_path / "cnn_saved_model"
    main(["export", "cnn", "--weights", "mnist5k", "--format", "saved_model", "--out", str(out), "--eval-limit", "100"])
    text = capsys.readouterr().out
    assert (out / "saved_model.pb").exists()
    assert "reloaded and checked against Keras" in text and "test_accuracy_saved_model" in text
    assert "latency_ms_batch1_saved_model" in text


@pytest.mark.parametrize("content", [b"just some text\n", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"])
def test_predict_on_a_file_that_is_not_an_image_is_one_line(tmp_path, content):
    path = tmp_path / "input.png"
    path.write_bytes(content)
    with pytest.raises(SystemExit) as error:
        main(["predict", "stn", str(path)])
    message = str(error.value)
    assert message.startswith(f"zoo predict: cannot read {path} as an image") and "\n" not in message


def test_predict_refuses_nan_and_0_255_values_and_a_missing_tflite(tmp_path):
    x = np.random.default_rng(0).random((42, 42, 1)).astype("float32")
    for values, expected in ((np.where(x > 0.5, np.nan, x), "finite pixel values"), (x * 255, "divide 0–255 images by 255")):
        np.save(tmp_path / "x.npy", values)
        with pytest.raises(SystemExit, match=expected):
            main(["predict", "stn", str(tmp_path / "x.npy")])
    with pytest.raises(SystemExit, match="stn.int8.tflite: no such file"):
        main(["predict", str(tmp_path / "stn.int8.tflite"), str(tmp_path / "x.npy")])


def test_export_into_an_existing_folder_writes_the_default_file_there(tmp_path, capsys):
    main(["export", "grid_lstm", "--quantize", "fp32", "--out", str(tmp_path), "--eval-limit", "64"])
    assert (tmp_path / "grid_lstm.parity_16.tflite").is_file()


def test_export_reports_every_task_and_a_stroke_writer(tmp_path, capsys):
    from zoo import registry
    from zoo.cli.export import TFLITE_REPORTS

    assert set(TFLITE_REPORTS) == set(registry.TASKS)
    main(["export", "handwriting", "--quantize", "float16", "--out", str(tmp_path / "h.tflite"), "--eval-limit", "4"])
    out = capsys.readouterr().out
    assert "teacher-forced states" in out and "nats a line (+" in out and "latency a point: LiteRT" in out


def test_list_and_a_misspelt_name_need_no_tensorflow():
    result = zoo_cli_without_tensorflow(["list"])
    assert result.returncode == 0 and "show_attend_tell" in result.stdout, result.stderr
    result = zoo_cli_without_tensorflow(["info", "stm"])
    assert "unknown model 'stm'. Did you mean 'stn'" in result.stderr and "Traceback" not in result.stderr
