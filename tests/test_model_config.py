"""models/config.py: YAML configs read strictly into the trainers' dataclasses."""

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from models.config import ConfigError, load_config


@dataclass(frozen=True)
class Optimiser:
    learning_rate: float = 1e-3
    epochs: int = 1


@dataclass(frozen=True)
class Trainer:
    pages: Path
    patch: tuple[int, ...] = (256, 256)
    optimiser: Optimiser = field(default_factory=Optimiser)
    note: str | None = None


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_nested_values_lists_and_paths(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, "pages: data/pages\npatch: [64, 32]\noptimiser: {epochs: 3}\n"), Trainer
    )
    assert config == Trainer(Path("data/pages"), (64, 32), Optimiser(1e-3, 3))


def test_yaml_exponent_without_a_dot_is_a_number(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "pages: p\noptimiser: {learning_rate: 3e-4}\n"), Trainer)
    assert config.optimiser.learning_rate == pytest.approx(3e-4)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pages: p\noptimiser: {epoch: 3}\n", '"epoch"'),
        ("patch: [1, 2]\n", '"pages"'),
        ("pages: p\noptimiser: {epochs: many}\n", '"optimiser.epochs"'),
        ("pages: p\noptimiser: {learning_rate: fast}\n", "fast"),
        ("- just\n- a list\n", "mapping"),
        ("pages: [unclosed\n", "config"),
    ],
)
def test_bad_configs_name_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text), Trainer)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.yaml"):
        load_config(tmp_path / "missing.yaml", Trainer)
