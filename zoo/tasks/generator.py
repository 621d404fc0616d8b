"""Generator: noise → images; ranked by the negative variational bound on test images, in nats
(−log p(x) ≤ reconstruction + KL)."""

from zoo.tasks.base import Task, examples, fp32_cell, trained


class Generator(Task):
    name = "generator"
    summary = "noise → images, with a likelihood bound"
    headline_key = "nll_bound"
    check_keys = ("nll_bound",)

    def headline(self, metrics):
        return (f"NLL ≤ {metrics['nll_bound']:.2f} nats (reconstruction {metrics['reconstruction']:.2f} + "
                f"KL {metrics['kl']:.2f})")

    def input_spec(self, model):  # trained on images, generates from noise
        return {"images": {"shape": [None, *model.image_shape], "dtype": "float32", "range": [0.0, 1.0]},
                "noise": {"shape": [None, model.steps, model.latent_dim], "dtype": "float32",
                          "distribution": "standard normal"}}

    def table(self, dataset, records):
        return [f"**{dataset}** ({records[0]['data']['train_examples']:,} training images, negative variational "
                f"bound on {examples(records)} test images, nats per image; lower is better)", "",
                "| model | weights | NLL bound | reconstruction | KL | steps | parameters | epochs | train time | "
                "TFLite parity |", "|---|---|---|---|---|---|---|---|---|---|"]

    def row(self, record):
        m, fp32 = record.get("metrics") or {}, fp32_cell(record)
        return (f"| `{record['model']}` | `{record['tag']}` | {m.get('nll_bound', '–')} | {m.get('reconstruction', '–')} | "
                f"{m.get('kl', '–')} | {record['config']['steps']} | {trained(record)} "
                + (f"{fp32['parity_max_abs_diff']:.1e} |" if fp32 else "– |"))


TASK = Generator()
