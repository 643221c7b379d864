"""The `train` extra's packages, checked before an `iiif-train` command runs: one clear message if missing."""

import re
from importlib import metadata

PROJECT = "iiif-mask-server"
TRAIN_EXTRA = re.compile(r"""extra\s*==\s*["']train["']""")
NAME_END = re.compile(r"[\s;<>=!~\[(@]")


def training_packages() -> list[str]:
    """The distributions named by the project's `train` extra, read from its installed metadata."""
    requirements = metadata.requires(PROJECT) or []
    return [NAME_END.split(line, maxsplit=1)[0] for line in requirements if TRAIN_EXTRA.search(line)]


def missing_training_packages() -> list[str]:
    """The training packages that are not installed."""
    missing = []
    for name in training_packages():
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
    return missing


def require_training_extras() -> None:
    """Exit with what is missing and how to install it, rather than an ImportError deep inside a command."""
    missing = missing_training_packages()
    if missing:
        raise SystemExit(
            f"iiif-train needs the training packages (missing: {', '.join(missing)}): "
            'run `scripts/setup --train` (or `pip install -e ".[train]"`)'
        )
