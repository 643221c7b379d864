"""The shipped PP-OCRv4 recogniser's ONNX graph as a trainable PyTorch module (onnx2torch) without its
classifier, and the trained weights written back into that same graph: the exported model is the proven
PP-OCRv4 graph, whose widths stay dynamic, with new numbers in it."""

from dataclasses import dataclass
from pathlib import Path

import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper
from torch import fx

HEIGHT = 48  # PP-OCRv4's line height
OWN_WEIGHTS = {
    "Conv": ("weight", "bias"),
    "BatchNormalization": ("weight", "bias", "running_mean", "running_var"),
}
"""ONNX nodes that onnx2torch turns into torch layers holding their inputs 1, 2, … as these attributes."""


@dataclass
class Backbone:
    """The graph up to the classifier (returns (N, T, C) features); each parameter's ONNX initializer;
    the old classifier `softmax(x @ weight + bias)`, its initializers' names and values."""

    module: fx.GraphModule
    sources: dict[str, str]
    classifier: tuple[str, str]
    weight: torch.Tensor
    bias: torch.Tensor


def plain_onnx(onnx_path: Path) -> onnx.ModelProto:
    """The model with its weights, stored as `Constant` nodes, made initializers (onnx2torch reads weights
    only from those) and its input height fixed, so that every shape can be inferred."""
    model = onnx.load(str(onnx_path))
    graph = model.graph
    nodes = list(graph.node)
    del graph.node[:]
    for node in nodes:
        if node.op_type == "Constant" and [a.name for a in node.attribute] == ["value"]:
            value = numpy_helper.to_array(node.attribute[0].t)
            graph.initializer.append(numpy_helper.from_array(value, node.output[0]))
        else:
            graph.node.append(node)
    dims = graph.input[0].type.tensor_type.shape.dim
    dims[0].dim_param, dims[2].dim_value, dims[3].dim_param = "batch", HEIGHT, "width"
    return model


def load_backbone(onnx_path: Path) -> Backbone:
    """The converted graph, weights trainable, classifier cut off."""
    from onnx2torch import convert

    model = onnx.shape_inference.infer_shapes(plain_onnx(onnx_path))
    _give_batch_norms_rank_four(model)
    module = convert(model, attach_onnx_mapping=True)
    producers = {node.output[0]: node for node in model.graph.node}
    sources: dict[str, str] = {}
    for node in module.graph.nodes:
        if node.op != "call_module":
            continue
        layer = module.get_submodule(node.target)
        inputs = layer.onnx_mapping.inputs
        for arg, name in zip(node.args, inputs, strict=False):
            if isinstance(arg, fx.Node) and arg.op == "get_attr":
                sources[arg.target] = name
        onnx_node = producers[layer.onnx_mapping.outputs[0]]
        for attribute, name in zip(OWN_WEIGHTS.get(onnx_node.op_type, ()), onnx_node.input[1:], strict=False):
            sources[f"{node.target}.{attribute}"] = name
    _make_weights_parameters(module)
    return _cut_classifier(module, sources)


def _give_batch_norms_rank_four(model: onnx.ModelProto) -> None:
    """Batch norms after a reshape get no inferred shape, and onnx2torch picks the norm by input rank: all of
    PP-OCRv4's follow a convolution, so their inputs are (N, C, H, W)."""
    known = {info.name: info for info in model.graph.value_info}
    for node in model.graph.node:
        info = known.get(node.input[0])
        if node.op_type == "BatchNormalization" and info is not None and not info.type.tensor_type.shape.dim:
            model.graph.value_info.remove(info)
            model.graph.value_info.append(
                onnx.helper.make_tensor_value_info(node.input[0], onnx.TensorProto.FLOAT, list("nchw"))
            )


def _make_weights_parameters(module: torch.nn.Module) -> None:
    """onnx2torch keeps the weights of MatMul, Add and Mul nodes as buffers: those with more than one number
    become parameters (scalar constants, shapes and batch-norm statistics stay as they are)."""
    for owner in module.modules():
        for name, buffer in list(owner.named_buffers(recurse=False)):
            if buffer.is_floating_point() and buffer.numel() > 1 and not name.startswith("running_"):
                del owner._buffers[name]
                owner.register_parameter(name, torch.nn.Parameter(buffer.clone()))


def _cut_classifier(module: fx.GraphModule, sources: dict[str, str]) -> Backbone:
    """The graph ending before its last `softmax(x @ W + b)`."""
    graph = module.graph
    output = next(node for node in graph.nodes if node.op == "output")
    softmax = output.args[0]
    add = softmax.args[0]
    matmul, bias_node = add.args
    features, weight_node = matmul.args
    weight, bias = (module.get_parameter(node.target).detach().clone() for node in (weight_node, bias_node))
    classifier = (sources.pop(weight_node.target), sources.pop(bias_node.target))
    output.args = (features,)
    for node in (softmax, add, matmul, bias_node, weight_node):
        graph.erase_node(node)
    for name in (weight_node.target, bias_node.target):
        owner, _, attribute = name.rpartition(".")
        delattr(module.get_submodule(owner), attribute)
    module.delete_all_unused_submodules()
    module.recompile()
    return Backbone(module, sources, classifier, weight, bias)


def trained_onnx(
    onnx_path: Path,
    backbone: Backbone,
    head: torch.nn.Linear,
    metadata: dict[str, str],
) -> onnx.ModelProto:
    """The original graph with the backbone's trained values and the new classifier in place of the old
    one, the metadata replaced by `metadata`; a ValueError if one initializer got two different values."""
    model = plain_onnx(onnx_path)
    state = backbone.module.state_dict()
    values: dict[str, torch.Tensor] = {}
    for target, name in backbone.sources.items():
        tensor = state[target]
        if name in values and not torch.equal(values[name], tensor):
            raise ValueError(f"initializer {name!r} is shared by parameters trained apart")
        values[name] = tensor
    values[backbone.classifier[0]] = head.weight.detach().T.contiguous()
    values[backbone.classifier[1]] = head.bias.detach()
    for index, initializer in enumerate(model.graph.initializer):
        if initializer.name in values:
            array = values[initializer.name].cpu().numpy().astype(numpy_helper.to_array(initializer).dtype)
            model.graph.initializer[index].CopyFrom(numpy_helper.from_array(array, initializer.name))
    del model.graph.output[0].type.tensor_type.shape.dim[2:]
    model.graph.output[0].type.tensor_type.shape.dim.add().dim_value = head.out_features
    del model.metadata_props[:]
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    return model


def _pool(module: fx.GraphModule) -> fx.Node:
    """The average pool that ends the convolutional stages, making the height 1."""
    return next(
        n for n in module.graph.nodes if n.op == "call_module" and n.target.startswith("p2o/AveragePool/")
    )


def pool_session(onnx_path: Path, module: fx.GraphModule) -> ort.InferenceSession:
    """An ONNX Runtime session of the original graph that answers the pool's output, (N, C, 1, W / 8): the
    frozen stages run many times faster there than as onnx2torch's modules."""
    model = plain_onnx(onnx_path)
    name = module.get_submodule(_pool(module).target).onnx_mapping.outputs[0]
    del model.graph.output[:]
    model.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def split_at_pool(module: fx.GraphModule) -> tuple[fx.GraphModule, fx.GraphModule]:
    """The convolutional stages (lines → (N, C, 1, W / 8), ending at the average pool that makes the
    height 1) and the rest (→ (N, T, C) features), sharing `module`'s layers and weights."""
    nodes = list(module.graph.nodes)
    pool = _pool(module)
    first, copied = fx.Graph(), {}
    for node in nodes[: nodes.index(pool) + 1]:
        copied[node] = first.node_copy(node, copied.__getitem__)
    first.output(copied[pool])
    rest: fx.Graph = fx.Graph()
    copied = {pool: rest.placeholder("pooled")}

    def value(node: fx.Node) -> fx.Node:
        if node not in copied and node.op == "get_attr":  # a weight first used before the pool
            copied[node] = rest.node_copy(node)
        return copied[node]

    for node in nodes[nodes.index(pool) + 1 :]:
        copied[node] = rest.node_copy(node, value)
    return fx.GraphModule(module, first), fx.GraphModule(module, rest)
