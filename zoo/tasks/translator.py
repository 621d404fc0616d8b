"""Translator: text → text with alignments; ranked by exact match on unseen test texts."""

from zoo.tasks.base import Task, examples, fp32_cell, trained


class Translator(Task):
    name = "translator"
    summary = "text → text, with alignments"
    headline_key = "exact_match"
    check_keys = ("exact_match",)
    change_key = "exact_match_change_points"
    parity_key = "max_abs_log_prob_diff"

    def headline(self, metrics):
        return f"{metrics['exact_match']:.2f}% exact match"

    def input_spec(self, model):
        return {"text": {"shape": [None], "dtype": "string", "max_tokens": model.max_source_len,
                         "vocabulary": "config.source_tokens"}}

    def table(self, dataset, records):
        return [f"**{dataset}** ({records[0]['data']['train_examples']:,} training examples, "
                f"exact match on {examples(records)} unseen test dates)", "",
                "| model | weights | exact match (greedy) | beam 3 | parameters | epochs | train time | TFLite parity |",
                "|---|---|---|---|---|---|---|---|"]

    def row(self, record):
        m, fp32 = record.get("metrics") or {}, fp32_cell(record)
        metric = self.card_headline(record).replace(" exact match", "")
        beam = m.get("exact_match_beam3")
        parity = f"{fp32['identical_outputs_percent']:.0f}% identical" if fp32 else "–"
        return (f"| `{record['model']}` | `{record['tag']}` | {metric} | {'–' if beam is None else f'{beam:.2f}%'} | "
                f"{trained(record)} {parity} |")


TASK = Translator()
