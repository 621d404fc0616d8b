"""Question answerer: (image, question) → answer, with each hop's attention map; ranked by answer
accuracy on the test split, shown beside the compositional split's and grounding (the share of
questions whose referenced item holds the attention peak)."""

from zoo.tasks.base import Task, examples, trained


class QuestionAnswerer(Task):
    name = "question_answerer"
    summary = "image + question → answer, with attention maps"
    headline_key = "accuracy"
    check_keys = ("accuracy",)
    change_key = "accuracy_change_points"

    def headline(self, metrics):
        text = f"{metrics['accuracy']:.2f}% answered"
        if metrics.get("compositional_accuracy") is not None:
            text += f", {metrics['compositional_accuracy']:.2f}% on the compositional split"
        if metrics.get("grounding_accuracy") is not None:
            text += f", grounding {metrics['grounding_accuracy']:.2f}%"
        return text

    def input_spec(self, model):
        return {"images": {"shape": [None, *model.image_shape], "dtype": "float32", "range": [0.0, 1.0]},
                "questions": {"shape": [None, model.max_question_len], "dtype": "int32",
                              "vocabulary": "config.tokens", "padding": 0}}

    def table(self, dataset, records):
        return [f"**{dataset}** ({records[0]['data']['train_examples']:,} training questions, answer accuracy on "
                f"{examples(records)} test questions)", "",
                "| model | weights | accuracy | compositional | relational | grounding | parameters | epochs | "
                "train time |", "|---|---|---|---|---|---|---|---|---|"]

    def row(self, record):
        m = record.get("metrics") or {}
        cell = lambda key: "–" if m.get(key) is None else f"{m[key]:.2f}%"  # noqa: E731
        relational = (m.get("per_type") or {}).get("relational")
        return (f"| `{record['model']}` | `{record['tag']}` | {cell('accuracy')} | {cell('compositional_accuracy')} | "
                + ("–" if relational is None else f"{relational:.2f}%")
                + f" | {cell('grounding_accuracy')} | {trained(record)}")


TASK = QuestionAnswerer()
