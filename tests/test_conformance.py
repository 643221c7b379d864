"""The official IIIF validator against the real server on loopback: level 2 and the claimed extras, for
Image API 3.0 at `/iiif/3` and 2.0 at `/iiif/2`."""

from pathlib import Path

import pytest

from conformance.run_validator import (
    LEVEL2,
    LEVEL2_V2,
    OPTIONAL,
    OPTIONAL_V2,
    Group,
    run_group,
    write_test_image,
)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding only the validator's test image."""
    folder = tmp_path_factory.mktemp("validator")
    write_test_image(folder)
    return folder


@pytest.mark.parametrize(("group", "count"), [(LEVEL2, 33), (LEVEL2_V2, 30)], ids=["3.0", "2.0"])
def test_level2_all_pass(images: Path, group: Group, count: int) -> None:
    """`--level 2` runs exactly the known tests, so a test the validator skips fails here too."""
    outcomes = run_group(group, images)
    assert sorted(outcome.name for outcome in outcomes) == sorted(group.tests)
    assert len(outcomes) == count
    assert [outcome for outcome in outcomes if not outcome.passed] == []


@pytest.mark.parametrize("group", [OPTIONAL, OPTIONAL_V2], ids=["3.0", "2.0"])
def test_claimed_optional_features_pass(images: Path, group: Group) -> None:
    """Every feature and format info.json claims beyond level 2 that the validator can check."""
    outcomes = run_group(group, images)
    assert sorted(outcome.name for outcome in outcomes) == sorted(group.tests)
    assert [outcome for outcome in outcomes if not outcome.passed] == []
