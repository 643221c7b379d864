"""The official IIIF validator against the real server on loopback: level 2, and the claimed extras."""

from pathlib import Path

import pytest

from conformance.run_validator import LEVEL2, OPTIONAL, run_group, write_test_image


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding only the validator's test image."""
    folder = tmp_path_factory.mktemp("validator")
    write_test_image(folder)
    return folder


def test_level2_all_33_pass(images: Path) -> None:
    """`--level 2` runs exactly the 33 known tests, so a test the validator skips fails here too."""
    outcomes = run_group(LEVEL2, images)
    assert sorted(outcome.name for outcome in outcomes) == sorted(LEVEL2.tests)
    assert len(outcomes) == 33
    assert [outcome for outcome in outcomes if not outcome.passed] == []


def test_claimed_optional_features_pass(images: Path) -> None:
    """Every feature and format info.json claims beyond level 2 that the validator can check."""
    outcomes = run_group(OPTIONAL, images)
    assert sorted(outcome.name for outcome in outcomes) == sorted(OPTIONAL.tests)
    assert [outcome for outcome in outcomes if not outcome.passed] == []
