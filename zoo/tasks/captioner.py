"""Captioner: image → words with attention maps; ranked by BLEU-4, correct captions and grounding
(the share of class words whose attention peak lies on the named item)."""

from zoo.tasks.base import Task, examples, fp32_cell, trained


class Captioner(Task):
    name = "captioner"
    summary = "image → words, with attention maps"
    headline_key = "bleu4"
    check_keys = ("bleu4", "caption_accuracy", "grounding_accuracy")
    change_key = "bleu4_change_points"
    change_unit = "BLEU"
    parity_key = "max_abs_log_prob_diff"

    def headline(self, metrics):
        grounding = metrics["grounding_accuracy"]
        return (f"BLEU-4 {metrics['bleu4']:.2f}, {metrics['caption_accuracy']:.2f}% correct captions, grounding "
                + ("n/a (no attention)" if grounding is None else f"{grounding:.2f}%"))

    def input_spec(self, model):
        return {"images": {"shape": [None, *model.image_shape], "dtype": "float32", "range": [0.0, 1.0]},
                "caption": {"vocabulary": "config.tokens", "max_words": model.max_len}}

    def table(self, dataset, records):
        return [f"**{dataset}** ({records[0]['data']['train_examples']:,} new training scenes an epoch, "
                f"{examples(records)} test scenes; beam 3)", "",
                "| model | weights | BLEU-4 | correct captions | grounding | greedy BLEU-4 | parameters | epochs | "
                "train time | TFLite parity |", "|---|---|---|---|---|---|---|---|---|---|"]

    def row(self, record):
        m, fp32 = record.get("metrics") or {}, fp32_cell(record)
        grounding = m.get("grounding_accuracy")
        return (f"| `{record['model']}` | `{record['tag']}` | {m.get('bleu4', '–')} | {m.get('caption_accuracy', '–')}% | "
                + ("–" if grounding is None else f"{grounding:.2f}%")
                + f" | {m.get('greedy', {}).get('bleu4', '–')} | {trained(record)} "
                + (f"{fp32['identical_outputs_percent']:.0f}% identical |" if fp32 else "– |"))


TASK = Captioner()
