"""A manifest's `allowed_charset`: parsed into characters, turned into the classes decoding may choose, and
applied before the CTC argmax so that the best allowed character is written."""

import numpy as np
import pytest

from ocr_onnx.allowed_charset import allowed_characters, allowed_classes
from ocr_onnx.recognition import greedy_decode

# The classes: the blank, a Latin letter, a CJK one, a Latin one, the fullwidth comma, the space.
CHARSET = ("", "a", "中", "b", "，", " ")  # noqa: RUF001


def test_a_masked_character_gives_way_to_the_best_allowed_one() -> None:
    """Step 2's argmax is 中 (0.6), masked out: b (0.3) is written instead, not nothing."""
    scores = np.array(
        [
            [0.1, 0.8, 0.05, 0.05, 0.0, 0.0],
            [0.05, 0.0, 0.6, 0.3, 0.05, 0.0],
            [0.9, 0.0, 0.05, 0.0, 0.05, 0.0],
            [0.1, 0.0, 0.0, 0.2, 0.7, 0.0],
        ]
    )
    assert greedy_decode(scores, CHARSET).text == "a中，"  # noqa: RUF001
    allowed = allowed_classes(CHARSET, allowed_characters({"sets": ["latin", "space"]}))
    assert allowed is not None and allowed.tolist() == [True, True, False, True, False, True]
    read = greedy_decode(scores, CHARSET, allowed)
    assert read.text == "abb"
    assert read.confidence == pytest.approx((0.8 + 0.3 + 0.2) / 3, abs=1e-4)


def test_named_sets_ranges_and_characters_add_up() -> None:
    allowed = allowed_characters(
        {"sets": ["latin", "digits"], "ranges": ["U+2018-U+201E"], "characters": "§¬"}
    )
    assert {"A", "z", "é", "ß", "æ", "ø", "œ", "ſ", "ǒ", "7", "‘", "’", "“", "”", "„", "§", "¬"} <= allowed  # noqa: RUF001
    assert not {"×", "÷", "中", "，", " ", "!"} & allowed  # noqa: RUF001
    assert allowed_classes(CHARSET, None) is None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"sets": ["klingon"]}, "unknown sets"),
        ({"ranges": ["U+0100-U+00FF"]}, "not a range"),
        ({"ranges": ["0100-017F"]}, "not a range"),
        ({"sets": "latin"}, "must be lists"),
        ({"alphabet": "abc"}, "must be an object"),
        ({}, "must be an object"),
        ("latin", "must be an object"),
    ],
)
def test_unknown_values_are_refused(raw: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        allowed_characters(raw)  # type: ignore[arg-type]


def test_a_charset_leaving_no_character_of_the_model_is_refused() -> None:
    with pytest.raises(ValueError, match="leaves none of the model's 5 characters"):
        allowed_classes(CHARSET, allowed_characters({"characters": "xyz"}))
