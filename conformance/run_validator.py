"""Start the server on a free loopback port, run `iiif-validate.py` (3.0 at `/iiif/3`, 2.0 at `/iiif/2`)
against it, and report per test."""

import re
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from iiif_server.samples import VALIDATOR_IDENTIFIER, validator_image

from .live_server import HOST, running_server

VALIDATOR_SCRIPT = Path(sysconfig.get_path("scripts")) / "iiif-validate.py"
RESULT_LINE = re.compile(r"^\[\d+\] test (?P<name>\w+) (?P<verdict>PASS|FAIL)$")


@dataclass(frozen=True)
class Outcome:
    """One validator test: its name, whether it passed, and the validator's explanation when it did not."""

    name: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class Group:
    """Validator tests run together, for one API version: by compliance level, or by name when `level` is
    None."""

    title: str
    tests: tuple[str, ...]
    level: int | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    version: str = "3.0"

    @property
    def prefix(self) -> str:
        """The server's path prefix for this group's API version (`iiif/3`, `iiif/2`)."""
        return f"iiif/{self.version.split('.')[0]}"

    def selection(self) -> list[str]:
        """The validator's options choosing this group's tests."""
        if self.level is not None:
            return ["--level", str(self.level)]
        return [option for name in self.tests for option in ("--test", name)]


LEVEL2 = Group(
    "level 2",
    (
        *("info_json", "id_basic", "id_squares", "format_jpg", "size_nofull"),  # level 0
        *("baseurl_redirect", "cors", "jsonld", "id_error_random", "id_error_escapedslash"),  # level 1
        *("id_error_unescaped", "id_escaped", "format_error_random", "quality_error_random"),
        *("region_error_random", "rot_error_random", "size_error_random", "region_pixels", "region_square"),
        *("size_wc", "size_ch", "size_wh", "size_region", "size_noup"),
        *("format_png", "quality_color", "quality_grey", "quality_bitonal", "region_percent"),  # level 2
        *("size_percent", "size_bwh", "rot_full_basic", "rot_region_basic"),
    ),
    level=2,
)
# The features and formats info.json claims beyond level 2. size_up expects `^max` to give the full size,
# which the 3.0 spec asks for only when no maxWidth/maxHeight/maxArea is advertised, so they are switched off.
NO_LIMITS = {
    **{"IIIF_MAX_WIDTH": "0", "IIIF_MAX_HEIGHT": "0"},
    **{"IIIF_MAX_AREA": "0", "IIIF_ANONYMOUS_MAX_AREA": "0"},
}
OPTIONAL = Group(
    "optional (claimed in info.json)",
    (
        *("rot_mirror", "rot_mirror_180", "rot_full_non90", "rot_region_non90", "size_up"),
        *("linkheader_canonical", "linkheader_profile", "format_gif", "format_tif"),
    ),
    env=NO_LIMITS,
)
# Image API 2.0 at level 2: the 3.0 list without region_square, size_nofull and size_noup (3.0 only).
LEVEL2_V2 = Group(
    "2.0 level 2",
    tuple(name for name in LEVEL2.tests if name not in ("region_square", "size_nofull", "size_noup")),
    level=2,
    version="2.0",
)
# size_up is left out: after a 2.0 server upscales `,s` as 2.x asks, the validator goes on to ask for 3.0's
# `^` sizes, which 2.1 does not have (the server's own tests cover sizeAboveFull).
OPTIONAL_V2 = Group(
    "2.0 optional (claimed in info.json)",
    (
        *("rot_mirror", "rot_mirror_180", "rot_full_non90", "rot_region_non90"),
        *("linkheader_canonical", "linkheader_profile", "format_gif", "format_tif"),
    ),
    env=NO_LIMITS,
    version="2.0",
)
GROUPS = (LEVEL2, OPTIONAL, LEVEL2_V2, OPTIONAL_V2)


def parse_output(text: str) -> list[Outcome]:
    """Read `[n] test NAME PASS|FAIL` lines, each FAIL with the indented lines that explain it."""
    outcomes: list[Outcome] = []
    for line in text.splitlines():
        match = RESULT_LINE.match(line)
        if match:
            outcomes.append(Outcome(match["name"], match["verdict"] == "PASS"))
        elif line.startswith("  ") and outcomes and not outcomes[-1].passed:
            outcomes[-1] = replace(outcomes[-1], detail=f"{outcomes[-1].detail}\n{line.strip()}".lstrip())
    return outcomes


def run_validator(port: int, group: Group) -> list[Outcome]:
    """Run the validator for the group's tests against the server on `port`; its exit code counts the
    failures."""
    command = [sys.executable, str(VALIDATOR_SCRIPT), "--server", f"{HOST}:{port}", "--prefix", group.prefix]
    command += ["--identifier", VALIDATOR_IDENTIFIER, "--version", group.version, *group.selection()]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    outcomes = parse_output(completed.stderr)
    if completed.returncode != sum(not outcome.passed for outcome in outcomes):
        raise RuntimeError(f"the validator exited with {completed.returncode}:\n{completed.stderr}")
    return outcomes


def write_test_image(folder: Path) -> Path:
    """Put the validator's test image into `folder` under its identifier."""
    return validator_image(folder / f"{VALIDATOR_IDENTIFIER}.png")


def run_group(group: Group, images: Path) -> list[Outcome]:
    """Start a server for `group` on the folder `images` and run the group's validator tests."""
    with running_server(images, group.env) as server:
        return run_validator(server.port, group)


def not_run(group: Group, outcomes: Sequence[Outcome]) -> list[Outcome]:
    """A failure for each of the group's tests that the validator did not report."""
    ran = {outcome.name for outcome in outcomes}
    return [Outcome(name, False, "not run by the validator") for name in group.tests if name not in ran]


def main() -> None:
    """Run every group, print a table per group and the counts, and exit 1 if any test failed."""
    passed = failed = 0
    with tempfile.TemporaryDirectory() as folder:
        images = Path(folder)
        write_test_image(images)
        for group in GROUPS:
            outcomes = run_group(group, images)
            report = [*outcomes, *not_run(group, outcomes)]
            print(f"\n{group.title}")
            for outcome in report:
                print(f"  {'PASS' if outcome.passed else 'FAIL'}  {outcome.name}")
                print("".join(f"        {line}\n" for line in outcome.detail.splitlines()), end="")
            group_passed = sum(outcome.passed for outcome in report)
            print(f"  {group_passed} passed, {len(report) - group_passed} failed")
            passed += group_passed
            failed += len(report) - group_passed
    print(f"\n{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
