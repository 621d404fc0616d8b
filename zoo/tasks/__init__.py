"""Tasks: a model declares its task when it registers (`register_model(..., task=...)`), and
model-agnostic code asks the task — for the headline metric, the results table, the reading of an
export cell — instead of guessing from the model's attributes."""

from zoo.tasks import captioner, classifier, generator, language_model, question_answerer, stroke_writer, translator

TASKS = {t.name: t for t in (classifier.TASK, translator.TASK, captioner.TASK, generator.TASK, language_model.TASK,
                              question_answerer.TASK, stroke_writer.TASK)}


def get(name):
    """The task called `name`; a one-line error naming the tasks when there is none."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; expected one of {', '.join(TASKS)}")
    return TASKS[name]


def results_markdown(records, task_of):
    """Markdown tables of the records' measured test metrics, one table per dataset, each in the
    format of its records' task (`task_of(model name)`, e.g. `registry.task`)."""
    by_data = {}
    for record in records:
        by_data.setdefault(record["data"]["dataset"], []).append(record)
    order = lambda r: (r["model"] == "cnn", r["model"], r["tag"].endswith("none"), r["tag"])  # noqa: E731
    blocks = []
    for dataset, group in sorted(by_data.items()):
        task = TASKS[task_of(group[0]["model"])]
        blocks.append("\n".join(task.table(dataset, group) + [task.row(r) for r in sorted(group, key=order)]))
    hardware = sorted({r["training"]["hardware"] for r in records})
    return "\n\n".join(blocks) + f"\n\nTrained on: {'; '.join(hardware)}. Measured by `zoo eval` / `zoo export`.\n"
