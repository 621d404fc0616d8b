"""zoo info NAME: a model's card: task, paper, options, and per weights tag its data, test metric,
baseline, file, training run and export cells."""

import json

from zoo.cli import common

HELP = "a model's card: task, paper, options, and every weights tag with its metrics and export cells"


def add_arguments(parser):
    parser.add_argument("name", help="a model name (zoo list)")
    parser.add_argument("--json", action="store_true", help="also print the full card as JSON")


def run(args):
    import zoo
    from export import matrix
    from zoo import registry

    card = zoo.info(args.name)
    print(f"{card['name']}: {card['summary']}\ntask: {card['task']} ({registry.TASKS[card['task']].summary})\n"
          f"paper: {card['paper']}\ndefault weights: {card['default_weights']}")
    print("options: " + ", ".join(f"{k}={v!r}" for k, v in card["options"].items()))
    for tag, rec in registry.records(args.name).items():
        print(f"\n[{args.name}:{tag}]  {rec['data']['dataset']} ({rec['data']['description']})")
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
                print(f"  export {key}: not measured yet (zoo matrix --run --models {args.name} --weights {tag})")
            elif "failed" in cell:
                print(f"  export {key}: not available: {cell['failed']}")
            else:
                print(f"  export {key}: {matrix.cell_text(cell, {}, args.name)}  ({cell['command']})"
                      + (f"\n    why: {cell['why']}" if cell.get("why") else ""))
    if args.json:
        print(json.dumps({**card, "weights": registry.records(args.name)}, indent=2, default=str))
