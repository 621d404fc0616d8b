"""zoo eval NAME: measure pretrained weights on their card's test split (and --write them into it)."""

HELP = "measure pretrained weights on their test split"


def add_arguments(parser):
    parser.add_argument("name", help="a model name (zoo list)")
    parser.add_argument("--weights", default="default", help="a weights tag (zoo info NAME; default: the model's default)")
    parser.add_argument("--write", action="store_true", help="write the metrics into the model card")
    parser.add_argument("--limit", type=int, help="measure on the first N test examples only (not with --write)")


def run(args):
    from recipes.evaluate import evaluate_record
    from zoo import registry, tasks

    rec = registry.record(args.name, args.weights)
    metrics = evaluate_record(args.name, rec["tag"], write=args.write, limit=args.limit)
    task = tasks.get(registry.task(args.name))
    print(f"{args.name}:{rec['tag']} on {rec['data']['dataset']} {metrics['split']} ({metrics['examples']} examples): "
          f"{task.headline(metrics)}")
    if "by_length" in metrics:
        print(f"  beam 3: {metrics['exact_match_beam3']:.2f}% exact match; by source length (characters): "
              + ", ".join(f"{k}: {v['exact_match']:.2f}% of {v['examples']}" for k, v in metrics["by_length"].items()))
    if rec.get("metrics") and not args.write:
        key = task.headline_key
        print(f"card says {task.headline(rec['metrics'])}: difference {metrics[key] - rec['metrics'][key]:+.2f} points")
    if args.write:
        print(f"wrote the metrics into {registry.record_path(args.name, rec['tag'])}")
