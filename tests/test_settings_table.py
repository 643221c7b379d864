"""One settings tree, read once: the README's settings table lists exactly the variables the server reads,
every one is read by `ServerSettings.from_env`, and only `iiif_server/env.py` touches the environment."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from extensions.server_settings import ServerSettings

ROOT = Path(__file__).resolve().parent.parent
SERVER_PACKAGES = ("iiif_server", "extensions", "ocr_onnx")
# A read through `iiif_server.env.Env`: `env.text("IIIF_X")`, `env.integer("IIIF_X", 8)`, ...
ENV_READ = re.compile(r"\benv\.(?:text|integer|decimal|limit|flag|items)\(\s*\"([A-Z][A-Z0-9_]*)\"")
ENVIRONMENT = re.compile(r"os\.environ|getenv")


class Recording(dict[str, str]):
    """An empty environment that remembers the names it was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, name: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.add(name)
        return default


def server_sources() -> Iterator[Path]:
    for package in SERVER_PACKAGES:
        yield from (ROOT / package).rglob("*.py")


def names_in_code() -> set[str]:
    return {name for path in server_sources() for name in ENV_READ.findall(path.read_text())}


def names_in_readme() -> set[str]:
    """The names in the first column of the README's settings table."""
    readme = (ROOT / "README.md").read_text()
    table = readme.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", row)}


def test_every_variable_read_is_in_the_readme_table_and_every_one_there_is_read() -> None:
    in_code, in_readme = names_in_code(), names_in_readme()
    assert {"IIIF_WORKERS", "IIIF_ONNX_PROVIDERS", "REDIS_URL"} <= in_code  # the pattern finds the reads
    assert in_code - in_readme == set(), "read, but missing from the README's settings table"
    assert in_readme - in_code == set(), "in the README's settings table, but never read"


def test_the_one_entry_reads_every_setting() -> None:
    environment = Recording()
    ServerSettings.from_env(environment)
    assert environment.asked == names_in_readme()


def test_only_the_env_module_reads_the_environment() -> None:
    readers = {
        str(path.relative_to(ROOT)) for path in server_sources() if ENVIRONMENT.search(path.read_text())
    }
    assert readers == {"iiif_server/env.py"}


def test_a_malformed_value_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="IIIF_PORT='eighty'"):
        ServerSettings.from_env({"IIIF_PORT": "eighty"})
    with pytest.raises(ValueError, match="IIIF_JOBS_BACKEND"):
        ServerSettings.from_env({"IIIF_JOBS_BACKEND": "celery"})


@pytest.mark.parametrize(
    ("value", "extensions"),
    [(None, None), ("none", ()), (" masking, ocr ", ("masking", "ocr")), ("", None)],
)
def test_the_extensions_to_load(value: str | None, extensions: tuple[str, ...] | None) -> None:
    environment = {} if value is None else {"IIIF_EXTENSIONS": value}
    assert ServerSettings.from_env(environment).extensions == extensions


def test_one_default_for_the_number_of_workers() -> None:
    assert ServerSettings.from_env({}).core.workers == 1
