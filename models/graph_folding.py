"""The same network in fewer operations: scalar scales and shifts folded into the convolutions next to them
and Paddle's four-operation hard-swish (`x * clip(x + 3, 0, 6) / 6`) made one `HardSwish`. PP-LCNet's
recogniser spent more CPU in these element-wise passes (and the layout changes around them) than in its
convolutions (benchmarks/ocr_speed)."""

import numpy as np
import onnx
from onnx import helper, numpy_helper, version_converter

HARD_SWISH_OPSET = 14  # the first opset with HardSwish


def constants_as_initializers(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model with its `Constant` nodes' tensors stored as initializers (as Paddle's exports keep them)."""
    kept = []
    for node in model.graph.node:
        if node.op_type == "Constant" and [a.name for a in node.attribute] == ["value"]:
            tensor = onnx.TensorProto()
            tensor.CopyFrom(node.attribute[0].t)
            tensor.name = node.output[0]
            model.graph.initializer.append(tensor)
        else:
            kept.append(node)
    del model.graph.node[:]
    model.graph.node.extend(kept)
    return model


class Graph:
    """A model's nodes, constants and consumers, edited in place."""

    def __init__(self, model: onnx.ModelProto) -> None:
        self.model = model
        self.constants = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
        self.outputs = {output.name for output in model.graph.output}

    def consumers(self, name: str) -> list[onnx.NodeProto]:
        """The nodes reading `name`."""
        return [node for node in self.model.graph.node if name in node.input]

    def only_consumer(self, name: str) -> onnx.NodeProto | None:
        """The one node reading `name` when it is not also a graph output."""
        readers = self.consumers(name)
        return readers[0] if len(readers) == 1 and name not in self.outputs else None

    def scalar(self, node: onnx.NodeProto, op_type: str, data: str) -> float | None:
        """The value of `node`'s one-element constant operand when it is `op_type` applied to `data`."""
        if node.op_type != op_type or len(node.input) != 2 or data not in node.input:
            return None
        if op_type in ("Div", "Sub") and node.input[0] != data:  # not commutative: `data` must come first
            return None
        other = node.input[1] if node.input[0] == data else node.input[0]
        value = self.constants.get(other)
        return float(value.reshape(-1)[0]) if value is not None and value.size == 1 else None

    def set_constant(self, name: str, value: np.ndarray) -> None:
        """Replace (or add) the initializer `name`."""
        self.constants[name] = value
        tensor = numpy_helper.from_array(value.astype(np.float32), name)
        for index, init in enumerate(self.model.graph.initializer):
            if init.name == name:
                self.model.graph.initializer[index].CopyFrom(tensor)
                return
        self.model.graph.initializer.append(tensor)

    def bypass(self, node: onnx.NodeProto, data: str) -> None:
        """Remove `node`, its readers reading `data` instead."""
        if node.output[0] in self.outputs:
            raise ValueError(f"{node.name} feeds a graph output")
        for reader in self.consumers(node.output[0]):
            reader.input[:] = [data if name == node.output[0] else name for name in reader.input]
        self.model.graph.node.remove(node)

    def constant_conv(self, node: onnx.NodeProto | None) -> bool:
        """Whether `node` is a Conv with constant weights and bias (or none)."""
        return (
            node is not None
            and node.op_type == "Conv"
            and all(name in self.constants for name in node.input[1:] if name)
        )


def conv_weights(graph: Graph, conv: onnx.NodeProto) -> tuple[np.ndarray, np.ndarray]:
    """A convolution's weights and bias (zeros when it has none), copied."""
    weight = graph.constants[conv.input[1]].copy()
    bias = (
        graph.constants[conv.input[2]].copy()
        if len(conv.input) > 2 and conv.input[2]
        else np.zeros(weight.shape[0], np.float32)
    )
    return weight, bias


def store_conv(graph: Graph, conv: onnx.NodeProto, weight: np.ndarray, bias: np.ndarray) -> None:
    """Write a convolution's weights and bias under names of its own (its output's, unique in a graph)."""
    weight_name, bias_name = f"{conv.output[0]}.folded_w", f"{conv.output[0]}.folded_b"
    graph.set_constant(weight_name, weight)
    graph.set_constant(bias_name, bias)
    conv.input[:] = [conv.input[0], weight_name, bias_name]


def fold_affine_after_conv(graph: Graph) -> int:
    """Conv → Mul(a) → Add(b) (either or both, one-element constants) as one Conv with a·W and a·bias + b."""
    folded = 0
    for conv in [node for node in graph.model.graph.node if graph.constant_conv(node)]:
        while (reader := graph.only_consumer(conv.output[0])) is not None:
            weight, bias = conv_weights(graph, conv)
            if (scale := graph.scalar(reader, "Mul", conv.output[0])) is not None:
                weight, bias = weight * scale, bias * scale
            elif (shift := graph.scalar(reader, "Add", conv.output[0])) is not None:
                bias = bias + shift
            else:
                break
            store_conv(graph, conv, weight, bias)
            conv.output[0] = reader.output[0]
            graph.model.graph.node.remove(reader)
            folded += 1
    return folded


def fold_affine_before_conv(graph: Graph) -> int:
    """Mul(a) → Add(b) → a Conv (their only reader). Before an unpadded 1x1 Conv: that Conv with a·W and
    bias + b·ΣW (exact: no padding reads the zero that b would have shifted). Before any other: a 1x1
    per-channel Conv computing a·x + b, which ONNX Runtime keeps in its blocked layout (two passes and two
    layout changes fewer)."""
    folded = 0
    for mul in [node for node in graph.model.graph.node if node.op_type == "Mul"]:
        data = next((name for name in mul.input if name not in graph.constants), None)
        if data is None or (scale := graph.scalar(mul, "Mul", data)) is None:
            continue
        add = graph.only_consumer(mul.output[0])
        shift = graph.scalar(add, "Add", mul.output[0]) if add is not None else None
        conv = graph.only_consumer(add.output[0]) if add is not None and shift is not None else None
        if not graph.constant_conv(conv) or conv.input[0] != add.output[0]:
            continue
        if _pointwise(graph, conv):
            weight, bias = conv_weights(graph, conv)
            store_conv(graph, conv, weight * scale, bias + shift * weight.sum(axis=(1, 2, 3)))
            graph.bypass(add, mul.output[0])
            graph.bypass(mul, data)
        else:
            channels = graph.constants[conv.input[1]].shape[1] * _attributes(conv).get("group", 1)
            affine = helper.make_node(
                "Conv", [data, "", ""], [add.output[0]], name=f"{add.name}.affine", group=channels
            )
            store_conv(graph, affine, np.full((channels, 1, 1, 1), scale), np.full(channels, shift))
            nodes = graph.model.graph.node
            nodes.insert(list(nodes).index(mul), affine)
            nodes.remove(add)
            nodes.remove(mul)
        folded += 1
    return folded


def _attributes(node: onnx.NodeProto) -> dict[str, object]:
    return {attribute.name: helper.get_attribute_value(attribute) for attribute in node.attribute}


def _pointwise(graph: Graph, conv: onnx.NodeProto) -> bool:
    attributes = _attributes(conv)
    return (
        graph.constants[conv.input[1]].shape[2:] == (1, 1)
        and not any(attributes.get("pads", []))
        and attributes.get("group", 1) == 1
    )


def fuse_hard_swish(graph: Graph) -> int:
    """`Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6)` as `HardSwish(x)`, the same function
    (x·min(max(x/6 + ½, 0), 1))."""
    fused = 0
    for add in [node for node in graph.model.graph.node if node.op_type == "Add"]:
        data = next((name for name in add.input if name not in graph.constants), None)
        match = _hard_swish(graph, add, data) if data is not None else None
        if match is None:
            continue
        clip, mul, div = match
        swish = helper.make_node("HardSwish", [data], [div.output[0]], name=f"{div.name}.hardswish")
        nodes = graph.model.graph.node
        nodes.insert(list(nodes).index(div), swish)
        for node in (div, mul, clip, add):
            nodes.remove(node)
        fused += 1
    return fused


def _hard_swish(
    graph: Graph, add: onnx.NodeProto, data: str
) -> tuple[onnx.NodeProto, onnx.NodeProto, onnx.NodeProto] | None:
    """The Clip, Mul and Div completing a hard-swish of `data` that starts at `add`, or None."""
    clip = graph.only_consumer(add.output[0]) if graph.scalar(add, "Add", data) == 3.0 else None
    if clip is None or clip.op_type != "Clip" or _clip_bounds(graph, clip) != (0.0, 6.0):
        return None
    mul = graph.only_consumer(clip.output[0])
    div = graph.only_consumer(mul.output[0]) if mul is not None and data in mul.input else None
    return (clip, mul, div) if div is not None and graph.scalar(div, "Div", mul.output[0]) == 6.0 else None


def _clip_bounds(graph: Graph, clip: onnx.NodeProto) -> tuple[float, ...] | None:
    values = [graph.constants.get(name) for name in clip.input[1:]]
    return None if len(values) != 2 or any(v is None for v in values) else tuple(float(v) for v in values)


def folded(model: onnx.ModelProto) -> tuple[onnx.ModelProto, dict[str, int]]:
    """The model at opset 14 or later with the folds and fusions above, and how many of each were made."""
    opset = next(entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx"))
    if opset < HARD_SWISH_OPSET:
        model = version_converter.convert_version(model, HARD_SWISH_OPSET)
    graph = Graph(constants_as_initializers(model))
    counts = {
        "hard_swish": fuse_hard_swish(graph),
        "affine_after_conv": fold_affine_after_conv(graph),
        "affine_before_conv": fold_affine_before_conv(graph),
    }
    used = {name for node in model.graph.node for name in node.input}
    kept = [init for init in model.graph.initializer if init.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    onnx.checker.check_model(model)
    return model, counts
