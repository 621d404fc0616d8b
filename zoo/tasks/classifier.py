"""Classifier: inputs (images, bit vectors) → class probabilities; ranked by test error."""

from zoo.tasks.base import Task, examples, trained

MC_SAMPLES = 8  # RAM's Monte-Carlo test averaging: sampled glimpse paths per image


class Classifier(Task):
    name = "classifier"
    summary = "inputs (images, bit vectors) → class probabilities"
    headline_key = "error"
    check_keys = ("error",)
    change_key = "accuracy_change_points"

    def headline(self, metrics):
        notes = []
        if metrics.get(f"error_mc{MC_SAMPLES}") is not None:
            notes.append(f"{metrics[f'error_mc{MC_SAMPLES}']:.2f}% with {MC_SAMPLES} sampled paths")
        if metrics.get("glimpses_on_item") is not None:
            notes.append(f"{metrics['glimpses_on_item']:.1f}% of glimpses on the item")
        return f"{metrics['error']:.2f}% error" + (f" ({'; '.join(notes)})" if notes else "")

    def input_spec(self, model):
        return {name: {"shape": list(shape), "dtype": "float32", "range": [0.0, 1.0]}
                for name, shape in model.serving_signature()[0].items()}

    def table(self, dataset, records):
        return [f"**{dataset}** ({records[0]['data']['train_examples']:,} training examples, "
                f"test error on {examples(records)} test examples)", "",
                "| model | weights | test error | parameters | epochs | train time | TFLite int8 Δ accuracy |",
                "|---|---|---|---|---|---|---|"]

    def row(self, record):
        int8 = (record.get("export") or {}).get("tflite_int8")
        change = "–" if not int8 else "no TFLite file (see the export matrix)" if "failed" in int8 \
            else f"{int8['accuracy_change_points']:+.2f} points"
        metric = self.card_headline(record).replace(" error", "")
        return f"| `{record['model']}` | `{record['tag']}` | {metric} | {trained(record)} {change} |"


TASK = Classifier()
