"""The `iiif-server` sub-commands for models: synth, dataset, train, evaluate (heavy imports stay lazy)."""

import argparse

from .dataset.command import register as register_dataset
from .evaluation.command import register as register_evaluate
from .synthetic.command import register as register_synth
from .train_command import register as register_train


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the sub-commands of models/ to `iiif-server`."""
    for add in (register_synth, register_dataset, register_train, register_evaluate):
        add(commands)
