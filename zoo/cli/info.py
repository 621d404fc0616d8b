"""zoo info NAME [--weights TAG]: a model in short, human form — task, paper, what its default weights
know (data, classes, input), and one line per weights tag with its test metric beside its baseline's;
with --weights, that tag's card (data, test metric, training run, export cells); --json the full
record. Reads the declarations and cards only: no Keras unless --json asks for the builder's options."""

import json
import textwrap

from zoo.cli import common

HELP = "a model's card: what it knows, every weights tag with its test metric (--weights TAG: one tag in full)"


def add_arguments(parser):
    parser.add_argument("name", help="a model name (zoo list)")
    parser.add_argument("--weights", metavar="TAG", help="one weights tag's card in full: data, metric, training, export")
    parser.add_argument("--json", action="store_true", help="the full record as JSON (every card, the builder's options)")


def knows(rec):
    """What weights know, from their card: the data, the classes, the input."""
    lines = [f"data: {rec['data']['dataset']}: {rec['data']['description']}"]
    if rec["config"].get("class_names"):
        lines.append(f"classes: {', '.join(rec['config']['class_names'])}")
    for name, spec in rec["input_spec"].items():
        shape = "×".join(str(d) if d is not None else "T" if i else "B" for i, d in enumerate(spec.get("shape", [])))
        value = f" in [{spec['range'][0]:g}, {spec['range'][1]:g}]" if "range" in spec else ""
        lines.append(f"input {name}: {spec.get('dtype', '')} ({shape}){value}".replace(" ()", ""))
    return lines


def print_card(name, tag, rec):
    from export import matrix
    from zoo import registry

    print(f"[{name}:{tag}]  {rec['data']['dataset']}")
    for line in knows(rec):
        print(textwrap.fill(line, common.terminal_width(), initial_indent="  ", subsequent_indent="    "))
    print(f"  test: {common.metric(rec)}  ({rec.get('eval_command', 'run zoo eval to measure')})")
    if rec.get("baseline"):
        base = rec["baseline"]
        base_rec = registry.records(base["model"]).get(base["tag"])
        print(f"  baseline {base['model']}:{base['tag']}: {common.metric(base_rec)}  (same recipe, same data)")
    print(f"  parameters: {rec['parameters']:,}   file: {rec['file']}   sha256: {rec['sha256']}")
    print(f"  trained by: {rec['train_command']}  ({rec['training']['epochs']} epochs, "
          f"{rec['training']['seconds'] / 60:.1f} min on {rec['training']['hardware']}, {rec['training']['backend']})")
    for key in matrix.KEYS:  # size · test metric change · batch-1 latency, or why not (`zoo matrix`)
        cell = (rec.get("export") or {}).get(key)
        if cell is None:
            print(f"  export {key}: not measured yet (zoo matrix --run --models {name} --weights {tag})")
        elif "failed" in cell:
            print(f"  export {key}: not available: {cell['failed']}")
        else:
            print(f"  export {key}: {matrix.cell_text(cell, {}, name)}  ({cell['command']})"
                  + (f"\n    why: {cell['why']}" if cell.get("why") else ""))


def run(args):
    from zoo import registry, tasks

    declared = registry.declared()[registry.check_name(args.name)]
    if args.json:
        import zoo

        print(json.dumps({**zoo.info(args.name), "weights": registry.records(args.name)}, indent=2, default=str))
        return
    if args.weights:
        rec = registry.record(args.name, args.weights)
        print_card(args.name, rec["tag"], rec)
        return
    width = common.terminal_width()
    print(f"{args.name}: {declared['summary']}\ntask: {declared['task']} ({tasks.get(declared['task']).summary})\n"
          f"paper: {declared['paper']}")
    cards = registry.records(args.name)
    default = cards.get(declared["default_weights"])
    if default:
        print(f"default weights: {default['tag']}; what they know:")
        for line in knows(default):
            print(textwrap.fill(line, width, initial_indent="  ", subsequent_indent="    "))
    rows = []
    for tag, rec in cards.items():
        base = rec.get("baseline")
        base_text = f"{base['model']}:{base['tag']} {common.metric(registry.records(base['model']).get(base['tag']))}" if base else "–"
        rows.append([tag, rec["data"]["dataset"], common.metric(rec).split(" (")[0], base_text])
    print(f"\nweights ({len(rows)}; zoo info {args.name} --weights TAG for one in full):")
    print(common.table(rows, ["tag", "data", "test", "baseline (same recipe)"], width))
