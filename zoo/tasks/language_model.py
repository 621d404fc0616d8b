"""Language model: characters → next-character probabilities; ranked by bits per character on
the test text, BPC = −(1/N) Σ log₂ p(x_t | x_<t)."""

from zoo.tasks.base import Task, fp32_cell, trained

BPC_BUDGET = 0.01  # the largest bits-per-character increase an exported file may have without a note


class LanguageModel(Task):
    name = "language_model"
    summary = "characters → next-character probabilities"
    headline_key = "bpc"
    check_keys = ("bpc",)
    change_key = "bpc_change"
    change_unit = "BPC"

    def headline(self, metrics):
        return f"{metrics['bpc']:.3f} bits per character ({metrics['accuracy']:.2f}% next-character accuracy)"

    def input_spec(self, model):
        return {"ids": {"shape": [None, None], "dtype": "int32", "vocabulary": "config.tokens",
                        "exported_window": model.context}}

    def beyond_budget(self, change):
        return change > BPC_BUDGET

    def table(self, dataset, records):
        return [f"**{dataset}** ({records[0]['data']['train_examples']:,} training characters, read in windows of "
                f"100; bits per character on {records[0]['metrics']['characters']:,} test characters; lower is better)",
                "", "| model | weights | BPC | next-character accuracy | cell | parameters | epochs | train time | "
                "TFLite BPC change |", "|---|---|---|---|---|---|---|---|---|"]

    def row(self, record):
        m, config = record.get("metrics") or {}, record["config"]
        fp32 = fp32_cell(record)
        cell = f"{'tied ' if config.get('tied') else ''}{config['cell']}, {config['depth']} × {config['units']}"
        return (f"| `{record['model']}` | `{record['tag']}` | {m.get('bpc', '–')} | {m.get('accuracy', '–')}% | {cell} | "
                f"{trained(record)} " + (f"{fp32['bpc_change']:+.4f} |" if fp32 else "– |"))


TASK = LanguageModel()
