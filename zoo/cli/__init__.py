"""The `zoo` command: one module per command (zoo/cli/COMMAND.py: HELP, `add_arguments(parser)`,
`run(args)`), on top of the public APIs of zoo, recipes and export. Nothing else imports it.

Heavy imports (TensorFlow, Keras) happen inside the commands that need them, so that `zoo --help`
and `zoo train` (the recipes) are instant and `zoo predict FILE.tflite INPUT` runs with only NumPy
and ai-edge-litert; when TensorFlow loads, its start-up chatter stays off the terminal
(`common.quiet_tensorflow`).
"""

import argparse
import importlib

from zoo.cli import common

# What a runtime-only install (NumPy, Pillow, ai-edge-litert: `pip install attention-zoo`) lacks.
FULL_INSTALL = {"keras", "tensorflow", "jax", "tensorflow_datasets", "h5py", "matplotlib", "scipy", "mlxtend", "babel", "nltk"}
COMMANDS = ("list", "info", "data", "train", "eval", "export", "predict", "results", "matrix", "demo")


def parser():
    """The `zoo` argument parser: a sub-command per module of COMMANDS."""
    main_parser = argparse.ArgumentParser(prog="zoo", description="Attention Zoo: classic attention models for Keras 3.")
    sub = main_parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        command = importlib.import_module(f"zoo.cli.{name}")
        description = getattr(command, "DESCRIPTION", None) or command.__doc__
        p = sub.add_parser(name, help=command.HELP, description=description,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        command.add_arguments(p)
        p.set_defaults(run=command.run)
    return main_parser


def main(argv=None):
    common.quiet_tensorflow()
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except ModuleNotFoundError as e:  # a runtime-only install runs .tflite files only
        if (e.name or "").split(".")[0] not in FULL_INSTALL:
            raise
        raise SystemExit(f'zoo {args.command} needs the full install (no {e.name} here): pip install "attention-zoo[full]"') from None
    except (ValueError, OSError) as e:  # bad names, options, inputs, weights, files: what was wrong, no traceback
        message = str(e).strip().splitlines()
        raise SystemExit(f"zoo {args.command}: {message[-1] if message else type(e).__name__}") from None
