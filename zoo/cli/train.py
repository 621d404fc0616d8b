"""zoo train [RECIPE]: run a training recipe, or list them."""

HELP = "run a training recipe (no name: list the recipes)"
DESCRIPTION = """A recipe is a named training configuration (recipes/configs.py): the model and its options,
the dataset and split, epochs, batch size, optimiser and schedule. `zoo train` with no name lists
every recipe with what it trains; `zoo train RECIPE` writes MODEL.TAG.weights.h5 and its card
MODEL.TAG.json (no test metrics: `zoo eval MODEL --weights TAG --write` measures them)."""


def add_arguments(parser):
    parser.add_argument("recipe", nargs="?", help="a recipe name (zoo train lists them), or the MODEL.TAG.recipe.json "
                                                  "a run wrote (to rerun it)")
    parser.add_argument("--epochs", type=int, help="train for this many epochs instead of the recipe's")
    parser.add_argument("--limit", type=int, help="train on the first N examples only (quick runs)")
    parser.add_argument("--out", help="directory for the weights, card and recipe (default: the run directory)")
    parser.add_argument("--force", action="store_true", help="replace a weights file of the same name in --out")
    parser.add_argument("--strategy", choices=["default", "mirrored", "multi_worker", "tpu"],
                        help="data parallelism: this machine's devices, several machines (TF_CONFIG), or a TPU")
    parser.add_argument("--mixed-precision", choices=["mixed_float16", "mixed_bfloat16"], help="compute in 16 bits")
    parser.add_argument("--run-dir", help="backups (a killed run resumes from them) and TensorBoard logs "
                                          "(default: runs/RECIPE)")


def run(args):
    if args.recipe is None:
        from recipes import configs

        for name, recipe in sorted(configs.RECIPES.items()):
            print(f"{name}: {recipe.description}")
        return
    from recipes import train

    card = train.train(args.recipe, out_dir=args.out, epochs=args.epochs, limit=args.limit, strategy=args.strategy,
                       mixed_precision=args.mixed_precision, run_dir=args.run_dir, force=args.force)
    print(f"wrote {card['file']} (sha256 {card['sha256'][:12]}…, {card['parameters']:,} parameters) "
          f"in {card['training']['seconds'] / 60:.1f} min")
    print(f"next: zoo eval {card['model']} --weights {card['tag']} --write (with the files in zoo/weights or "
          f"$ATTENTION_ZOO_HOME)")
