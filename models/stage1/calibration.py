"""The DB post-processing settings that turn a segmenter's maps back into the true line polygons best."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import onnxruntime as ort

from models.evaluation.detection_metrics import DetectionScores, detection_scores
from models.evaluation.stage1_eval import AnnotatedPage, page_detections
from ocr_onnx.detection import TextDetector
from ocr_onnx.manifest import DbPostprocess, ModelManifest


class RememberingSession:
    """An InferenceSession that runs each distinct input once: the post-processing settings can then be
    tried on the same probability maps without running the network again."""

    def __init__(self, session: ort.InferenceSession) -> None:
        self._session = session
        self._outputs: dict[str, Any] = {}

    def get_inputs(self) -> Any:
        return self._session.get_inputs()

    def run(self, names: Any, feeds: dict[str, np.ndarray]) -> Any:
        key = hashlib.sha256(b"".join(value.tobytes() for value in feeds.values())).hexdigest()
        if key not in self._outputs:
            self._outputs[key] = self._session.run(names, feeds)
        return self._outputs[key]


@dataclass(frozen=True)
class Trial:
    """One setting of the post-processing and its scores on the held-out pages."""

    db: DbPostprocess
    scores: DetectionScores


def calibrate(
    manifest: ModelManifest,
    pages: Sequence[AnnotatedPage],
    thresholds: Sequence[float],
    ratios: Sequence[float],
    min_confidence: float = 0.5,
) -> list[Trial]:
    """Every threshold x unclip ratio scored on `pages` by the server's own detector, best (mask AP) first."""
    session = RememberingSession(
        ort.InferenceSession(str(manifest.verify()), providers=["CPUExecutionProvider"])
    )
    trials = []
    for threshold in thresholds:
        for ratio in ratios:
            db = DbPostprocess(binary_threshold=threshold, unclip_ratio=ratio)
            detector = TextDetector(session, replace(manifest, db=db), manifest.input_size)  # type: ignore[arg-type]
            scored = [page_detections(page, detector, min_confidence) for page in pages]
            trials.append(Trial(db, detection_scores(scored)))
    return sorted(trials, key=lambda trial: (-trial.scores.ap, -trial.scores.mean_iou))
