"""Small ONNX files built in the tests with the `onnx` package: valid ones and broken ones."""

from __future__ import annotations

import hashlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def tiny_model(scale: float = 1.0, width: int = 4) -> bytes:
    """obs[batch, width] * w -> logits[batch, width]."""
    obs = helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", width])
    logits = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", width])
    weights = numpy_helper.from_array(np.full((width,), scale, dtype=np.float32), "w")
    graph = helper.make_graph([helper.make_node("Mul", ["obs", "w"], ["logits"])], "policy",
                              [obs], [logits], [weights])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    return model.SerializeToString()


def external_data_model(location: str = "../../etc/passwd") -> bytes:
    """A model whose weights point at a file outside it."""
    model = onnx.load_model_from_string(tiny_model())
    tensor = model.graph.initializer[0]
    tensor.ClearField("raw_data")
    tensor.ClearField("float_data")
    tensor.data_location = TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", location
    return model.SerializeToString()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
