"""The export matrix: every pretrained model has every cell, docs/deployment.md's table is the generated one."""

import pytest

from export import matrix, records
from tests.helpers import generated_block
from zoo import registry



@pytest.mark.parametrize("rec", registry.all_records(), ids=lambda r: f"{r['model']}:{r['tag']}")
def test_every_pretrained_model_has_a_complete_export_row(rec):
    export = rec.get("export") or {}
    for key in matrix.KEYS:
        cell = export.get(key)
        assert matrix.measured(cell, key), (f"{rec['model']}:{rec['tag']} has no complete {key} cell: run "
                                            f"`zoo matrix --run --models {rec['model']} --weights {rec['tag']}`")
        fmt = "saved_model" if key == "saved_model" else "tflite"
        assert cell["command"].startswith(f"zoo export {rec['model']} --weights {rec['tag']} --format {fmt}")
        assert cell["command"].endswith("--write")
        if "failed" in cell:
            assert len(cell["failed"]) > 20  # a reason, not a bare flag
            continue
        assert cell["size_kib"] > 0
        assert all(value is not None for value in matrix.latency(cell)), cell
        if key.startswith("tflite_"):
            assert cell["gpu_delegate"] in ("compatible", "incompatible")


def test_the_deployment_page_matrix_is_the_generated_one():
    assert generated_block("docs/deployment.md", matrix.README_MARKERS) == matrix.markdown(registry.all_records()).strip(), \
        "docs/deployment.md's export matrix is stale: run `zoo matrix --update-readme`"


def test_cells_show_measurements_failures_and_losses_beyond_the_budget():
    reasons = {}
    ok = {"size_kib": 1500.9, "accuracy_change_points": 0.13, "latency_ms_batch1_litert": 0.874,
          "latency_ms_batch1_keras": 431.0}
    assert matrix.cell_text(ok, reasons, "stn") == "1,501 KiB · +0.13 pt · 0.87 ms"
    lossy = {**ok, "accuracy_change_points": -0.6}
    assert "⚠" in matrix.cell_text(lossy, reasons, "stn")
    worse_bpc = {"size_kib": 400, "bpc_change": 0.02, "latency_ms_batch1_litert": 1, "latency_ms_batch1_keras": 9}
    assert "⚠" in matrix.cell_text(worse_bpc, reasons, "grid_lstm_lm")
    assert "⚠" not in matrix.cell_text({**worse_bpc, "bpc_change": -0.02}, reasons, "grid_lstm_lm")
    failed = {"failed": "ValueError: a translator exports as fp32, float16 or dynamic"}
    assert matrix.cell_text(failed, reasons, "seq2seq") == "✗ [1]"
    assert matrix.cell_text(dict(failed), reasons, "seq2seq") == "✗ [1]"  # one footnote per distinct reason
    assert matrix.cell_text(None, reasons, "seq2seq") == "not run"


def test_run_records_why_a_format_cannot_be_made(monkeypatch):
    written = {}

    def export_record(rec, fmt, quantize, test, out=None, write_card=False):
        assert test == ("test split of", rec["tag"]) and write_card
        if quantize == "int8":
            raise ValueError("full int8 would quantize the decoder state fed back at every step")
        written[(fmt, quantize)] = "measured"

    monkeypatch.setattr(records, "export_record", export_record)
    monkeypatch.setattr(records, "write_cell", lambda rec, key, result: written.__setitem__(key, result))
    rec = {"model": "seq2seq", "tag": "dates", "export": {"tflite_fp32": {"failed": "an earlier reason"}}}
    test_set = lambda rec: ("test split of", rec["tag"])  # noqa: E731
    done = records.run_cells([rec], test_set, log=lambda line: None)
    assert [key for _, _, key in done] == ["saved_model", "tflite_float16", "tflite_dynamic", "tflite_int8"]
    assert written["tflite_int8"] == {"failed": "ValueError: full int8 would quantize the decoder state fed back at every step"}
    assert written[("tflite", "float16")] == "measured" and written[("saved_model", None)] == "measured"
    assert len(records.run_cells([rec], test_set, keys=("tflite_fp32",), only_missing=False, log=lambda line: None)) == 1


@pytest.mark.parametrize("rec", registry.all_records(), ids=lambda r: f"{r['model']}:{r['tag']}")
def test_every_loss_beyond_the_budget_says_why(rec):
    for key, cell in (rec.get("export") or {}).items():
        note = matrix.loss_note(rec["model"], key, cell)
        assert cell.get("why") == note, f"{rec['model']}:{rec['tag']} {key}: run its command again to store why"
