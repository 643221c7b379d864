"""The `iiif-server` sub-command of this package (placeholder until its helper fills it in)."""

import argparse


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add this package's sub-command to `iiif-server`."""
