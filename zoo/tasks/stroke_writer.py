"""Stroke writer: text → pen strokes (Δx, Δy, end of stroke), with the soft window over the
characters; ranked by the test negative log-likelihood in nats per sequence (lower is better)."""

from zoo.tasks.base import Task, examples, trained


class StrokeWriter(Task):
    name = "stroke_writer"
    summary = "text → pen strokes, with the window over the characters"
    headline_key = "nll"
    check_keys = ("nll",)
    parity_key = "parity_max_abs_diff"
    change_key = "nll_change"  # an export cell's test NLL through the file minus Keras's
    change_unit = "nats"
    budget = 1.0  # nats a line, as DRAW's bound (issue 35)

    def headline(self, metrics):
        text = f"NLL {metrics['nll']:.1f} nats per sequence ({metrics['nll_per_point']:.3f} per point)"
        if metrics.get("cer") is not None:
            text += f", OCR character error {metrics['cer']:.1f}% (ground truth {metrics['cer_ground_truth']:.1f}%)"
        return text

    def beyond_budget(self, change):
        return change > self.budget

    def input_spec(self, model):
        return {"strokes": {"shape": [None, None, 3], "dtype": "float32", "meaning": "(Δx, Δy, end of stroke)"},
                "text": {"shape": [None, model.max_text_len], "dtype": "int32", "vocabulary": "config.tokens",
                         "padding": 0}}

    def table(self, dataset, records):
        return [f"**{dataset}** ({records[0]['data']['train_examples']:,} training lines, test NLL on "
                f"{examples(records)} test lines; lower is better)", "",
                "| model | weights | NLL (nats/sequence) | NLL (nats/point) | OCR CER | parameters | epochs | "
                "train time |", "|---|---|---|---|---|---|---|---|"]

    def row(self, record):
        m = record.get("metrics") or {}
        cer = "–" if m.get("cer") is None else f"{m['cer']:.1f}% (ground truth {m['cer_ground_truth']:.1f}%)"
        return (f"| `{record['model']}` | `{record['tag']}` | {m.get('nll', '–')} | {m.get('nll_per_point', '–')} | "
                f"{cer} | {trained(record)}")


TASK = StrokeWriter()
