"""zoo list: one short line per registered model (name, task, default weights, summary)."""

from zoo.cli import common

HELP = "list the models: task, default weights and how many more, summary (zoo info NAME for the rest)"


def add_arguments(parser):
    parser.add_argument("pattern", nargs="?", default="*", help="only the models matching this shell pattern ('ram*')")
    parser.add_argument("--pretrained", action="store_true", help="only the models that ship weights")


def run(args):
    import zoo
    from zoo import registry

    rows = []
    for name in zoo.list_models(args.pattern, args.pretrained):
        declared, tags = registry.declared()[name], registry.records(name)
        weights = "none" if not tags else f"{declared['default_weights']}" + (f" (+{len(tags) - 1})" if len(tags) > 1 else "")
        rows.append([name, declared["task"], weights, declared["summary"]])
    print(common.table(rows, ["model", "task", "default weights (+ other tags)", "summary"], common.terminal_width()))
    print("\nzoo info NAME: the model's card, every weights tag and its measured metrics")
