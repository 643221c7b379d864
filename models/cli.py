"""`iiif-train`: make synthetic pages, build line datasets, train and export models, evaluate them.

Serving is `iiif-server`'s; these commands need the `train` extra (`scripts/setup --train`).
"""

import argparse

from .dataset.command import register as register_dataset
from .evaluation.command import register as register_evaluate
from .fold_command import register as register_fold
from .quantize import register as register_quantize
from .synthetic.command import register as register_synth
from .train_command import register as register_train
from .training_extras import require_training_extras


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, check that the training packages are there, run the chosen command."""
    parser = argparse.ArgumentParser(prog="iiif-train", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for register in (
        register_synth,
        register_dataset,
        register_train,
        register_evaluate,
        register_quantize,
        register_fold,
    ):
        register(commands)
    args = parser.parse_args(argv)
    require_training_extras()
    args.run(args)
