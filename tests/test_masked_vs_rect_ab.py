"""The A/B's scoring: readings of the same lines compared by kind of line, over several training seeds."""

import pytest

from benchmarks.masked_vs_rect.ocr_ab import CRNN, MATCHED, SHIPPED, score_cells, table
from models.evaluation.text_metrics import LineText

KIND = "synthetic.kind"


def reading(errors: dict[str, int]) -> dict[str, list[list[LineText]]]:
    """One model's reading of 10 curved and 10 straight lines, missing the first `errors[kind]` characters."""
    truth = [(kind, f"{kind} line {i:02d}") for kind in ("curved", "straight") for i in range(10)]
    lines = [LineText(text, text[errors[kind] :], {KIND: kind}) for kind, text in truth]
    by_kind = {kind: [line for line in lines if line.groups[KIND] == kind] for kind in ("curved", "straight")}
    return {"all": [lines], **{kind: [members] for kind, members in by_kind.items()}}


def seeds(*readings: dict[str, list[list[LineText]]]) -> dict[str, list[list[LineText]]]:
    """The readings of several trained models (seeds) put together, group by group."""
    return {group: [run for r in readings for run in r[group]] for group in readings[0]}


def test_scores_average_the_seeds_and_compare_each_crnn_on_its_own_crops() -> None:
    clean, curved_off = {"curved": 0, "straight": 0}, {"curved": 2, "straight": 0}
    readings = {
        SHIPPED: {"rect": reading(curved_off), "mask": reading(clean)},
        CRNN["rect"]: {
            "rect": seeds(reading(curved_off), reading(clean)),
            "mask": seeds(reading(clean), reading(clean)),
        },
        CRNN["mask"]: {
            "rect": seeds(reading(clean), reading(clean)),
            "mask": seeds(reading(clean), reading(clean)),
        },
    }
    cells = score_cells(readings)
    assert list(cells) == [SHIPPED, CRNN["rect"], CRNN["mask"], MATCHED]
    shipped = cells[SHIPPED]
    assert shipped["rect"]["curved"]["cer"] == pytest.approx(2 / len("curved line 00"))
    assert shipped["mask"]["curved"]["cer"] == 0
    low, high = shipped["cer_change_95"]["curved"]
    assert low == high == pytest.approx(-shipped["rect"]["curved"]["cer"])
    assert shipped["cer_change_by_seed"]["straight"] == [None]  # no errors either way: no relative change
    matched = cells[MATCHED]  # the rect CRNN's two seeds on rect crops against the mask CRNN's on masks
    assert matched["rect"]["curved"]["cer"] == pytest.approx(shipped["rect"]["curved"]["cer"] / 2)
    assert matched["cer_change_by_seed"]["curved"] == [-1.0, None]
    markdown = table(cells)
    assert len(markdown.splitlines()) == 2 + 4 * 3  # header, rule, 4 recognisers x (all, curved, straight)
    assert f"| {MATCHED} | curved | 10 |" in markdown and "-100%, n/a" in markdown
