"""`iiif-train fold` (models/graph_folding.py): the same answers from fewer operations, for a small graph of
Paddle's patterns and for the shipped models, which are what the command writes."""

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from rendered_lines import rendered_line

from models.cli import main
from ocr_onnx import ModelRegistry, OnnxSettings, load_manifest
from ocr_onnx.onnx_settings import MANIFEST_DIR

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from models.graph_folding import folded  # noqa: E402

CPU = ["CPUExecutionProvider"]


def paddle_block(pointwise_after: bool, six_over: bool = False) -> onnx.ModelProto:
    """Conv → ·a + b → hard-swish as Paddle writes it → ·c + d → a padded 3x3 depthwise or a 1x1 Conv."""
    rng = np.random.default_rng(3)

    def constant(name: str, value: np.ndarray | float) -> onnx.TensorProto:
        return numpy_helper.from_array(
            np.asarray(value, np.float32).reshape(-1 if np.ndim(value) else 1), name
        )

    second = (rng.normal(size=(4, 4, 1, 1)) if pointwise_after else rng.normal(size=(4, 1, 3, 3))).astype(
        np.float32
    )
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Mul", ["a", "c1"], ["m1"]),
        helper.make_node("Add", ["m1", "b"], ["h"]),
        helper.make_node("Add", ["h", "three"], ["h3"]),
        helper.make_node("Clip", ["h3", "zero", "six"], ["clipped"]),
        helper.make_node("Mul", ["h", "clipped"], ["hm"]),
        helper.make_node("Div", ["six1", "hm"] if six_over else ["hm", "six1"], ["swish"]),
        helper.make_node("Mul", ["swish", "c"], ["m2"]),
        helper.make_node("Add", ["m2", "d"], ["shifted"]),
        helper.make_node(
            "Conv",
            ["shifted", "w2"],
            ["y"],
            name="conv2",
            **({} if pointwise_after else {"pads": [1, 1, 1, 1], "group": 4}),
        ),
    ]
    initializers = [
        numpy_helper.from_array(rng.normal(size=(4, 3, 3, 3)).astype(np.float32), "w1"),
        numpy_helper.from_array(rng.normal(size=4).astype(np.float32), "b1"),
        numpy_helper.from_array(second, "w2"),
        constant("a", 1.7),
        constant("b", -0.4),
        constant("three", 3.0),
        numpy_helper.from_array(np.float32(0.0), "zero"),
        numpy_helper.from_array(np.float32(6.0), "six"),
        constant("six1", 6.0),
        constant("c", 0.8),
        constant("d", 0.3),
    ]
    graph = helper.make_graph(
        nodes,
        "block",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)])


def outputs(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=CPU)
    return session.run(None, {session.get_inputs()[0].name: x})[0]


@pytest.mark.parametrize("pointwise_after", [False, True])
def test_a_paddle_block_folds_to_convolutions_and_one_hard_swish(pointwise_after: bool) -> None:
    model = paddle_block(pointwise_after)
    x = np.random.default_rng(4).normal(scale=3, size=(1, 3, 8, 16)).astype(np.float32)
    expected = outputs(model, x)
    result, counts = folded(model)
    kinds = [node.op_type for node in result.graph.node]
    assert counts == {"hard_swish": 1, "affine_after_conv": 2, "affine_before_conv": 1}
    # before a 1x1 Conv the shift goes into its bias; before a padded one, a per-channel 1x1 Conv does it
    assert kinds == (
        ["Conv", "HardSwish", "Conv"] if pointwise_after else ["Conv", "HardSwish", "Conv", "Conv"]
    )
    np.testing.assert_allclose(outputs(result, x), expected, rtol=1e-5, atol=1e-5)


def test_six_over_the_product_is_not_a_hard_swish() -> None:
    model = paddle_block(pointwise_after=True, six_over=True)
    x = np.random.default_rng(6).normal(scale=3, size=(1, 3, 8, 16)).astype(np.float32)
    expected = outputs(model, x)
    result, counts = folded(model)
    assert counts["hard_swish"] == 0 and "Div" in [node.op_type for node in result.graph.node]
    np.testing.assert_allclose(outputs(result, x), expected, rtol=1e-3)  # 6 / (near 0) is large


def test_the_shipped_folded_models_are_what_fold_writes_and_answer_as_their_sources(tmp_path: Path) -> None:
    for source, shipped in (
        ("latin_rec.json", "latin_rec_folded.json"),
        ("ppocrv4_det.json", "ppocrv4_det_folded.json"),
    ):
        main(["fold", str(MANIFEST_DIR / source), "--out", str(tmp_path)])
        written = json.loads((tmp_path / shipped).read_text(encoding="utf-8"))
        assert written == json.loads((MANIFEST_DIR / shipped).read_text(encoding="utf-8"))
        assert load_manifest(tmp_path / shipped).verify().stat().st_size > 0  # the checksum matches
    original, fast = (
        load_manifest(MANIFEST_DIR / name) for name in ("latin_rec.json", "latin_rec_folded.json")
    )
    assert fast.key != original.key and fast.crop == original.crop  # its predictions are cached apart
    kinds = {node.op_type for node in onnx.load(str(fast.verify())).graph.node}
    assert "HardSwish" in kinds and "Clip" not in kinds
    x = np.random.default_rng(5).normal(size=(2, 3, 48, 320)).astype(np.float32)
    scores = [outputs(onnx.load(str(manifest.verify())), x) for manifest in (original, fast)]
    np.testing.assert_allclose(scores[1], scores[0], atol=1e-4)


def test_the_folded_recogniser_reads_a_line() -> None:
    recognizer = ModelRegistry(
        OnnxSettings(recognition_manifest=MANIFEST_DIR / "latin_rec_folded.json")
    ).recognizer()
    (read,) = recognizer.recognize([rendered_line("Folded models read")])
    assert read.text == "Folded models read"
