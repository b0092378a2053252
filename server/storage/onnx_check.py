"""Validating an uploaded ONNX file: untrusted input, so it is opened in a child process.

The child parses the file with `onnx` (never following external-data references), refuses
any tensor stored outside the file, runs the ONNX checker, then builds an onnxruntime session
from the bytes and reports the input and output signature as one JSON line. The parent gives
it a wall-clock limit and the child caps its own address space and CPU time, so a hostile
file can cost at most one killed process.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from server.errors import ValidationFailed

MAX_REASON_CHARS = 300


class ModelRejected(ValidationFailed):
    code = "invalid_model"
    default_message = "the file is not a loadable, self-contained ONNX model"


async def inspect_onnx_file(path: Path, *, timeout: float, memory_bytes: int) -> dict[str, Any]:
    """The model's signature (`inputs`, `outputs`, `opsets`, `ir_version`), or ModelRejected."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-I", "-m", "server.storage.onnx_check", str(path), str(memory_bytes),
        str(int(timeout) + 1),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise ModelRejected(f"the model did not load within {timeout:g} s") from None
    lines = out.decode(errors="replace").strip().splitlines()
    try:
        verdict = json.loads(lines[-1]) if lines else None
    except ValueError:
        verdict = None
    if proc.returncode != 0 or not isinstance(verdict, dict):
        raise ModelRejected("the model could not be loaded (the validator stopped)")
    if not verdict.get("ok"):
        raise ModelRejected(str(verdict.get("reason", "the model was refused"))[:MAX_REASON_CHARS])
    return verdict["signature"]


# ---- the child process -------------------------------------------------------------------


def _graph_tensors(graph: Any) -> Iterator[Any]:
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        yield from _node_tensors(node)


def _node_tensors(node: Any) -> Iterator[Any]:
    for attr in node.attribute:
        if attr.HasField("t"):
            yield attr.t
        yield from attr.tensors
        if attr.HasField("sparse_tensor"):
            yield attr.sparse_tensor.values
            yield attr.sparse_tensor.indices
        if attr.HasField("g"):
            yield from _graph_tensors(attr.g)
        for sub in attr.graphs:
            yield from _graph_tensors(sub)


def _all_tensors(model: Any) -> Iterator[Any]:
    yield from _graph_tensors(model.graph)
    for function in model.functions:
        for node in function.node:
            yield from _node_tensors(node)


def _describe(values: Any) -> list[dict[str, Any]]:
    return [{"name": v.name, "type": v.type,
             "shape": [d if isinstance(d, int) or d is None else str(d) for d in (v.shape or [])]}
            for v in values]


def _inspect(path: str) -> dict[str, Any]:
    import onnx
    import onnxruntime

    data = Path(path).read_bytes()
    if not data:
        return {"ok": False, "reason": "the file is empty"}
    try:
        # From bytes, so nothing outside the file is ever opened.
        model = onnx.load_model_from_string(data)
    except Exception:  # noqa: BLE001 - any parse failure means "not ONNX"
        return {"ok": False, "reason": "the file is not an ONNX model (it does not parse)"}
    external = sorted({t.name for t in _all_tensors(model)
                       if t.data_location == onnx.TensorProto.EXTERNAL or len(t.external_data)})
    if external:
        return {"ok": False, "reason": "the model references external data files "
                f"(tensors: {', '.join(external[:5])}); publish a self-contained file"}
    try:
        onnx.checker.check_model(model)
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "reason": f"the ONNX checker refused the model: {exc}"}
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    try:
        session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "reason": f"onnxruntime could not load the model: {exc}"}
    return {"ok": True, "signature": {
        "inputs": _describe(session.get_inputs()),
        "outputs": _describe(session.get_outputs()),
        "opsets": {(o.domain or "ai.onnx"): o.version for o in model.opset_import},
        "ir_version": model.ir_version,
    }}


def _limit_resources(memory_bytes: int, cpu_seconds: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))


def main(argv: list[str]) -> int:
    path, memory_bytes, cpu_seconds = argv[0], int(argv[1]), int(argv[2])
    _limit_resources(memory_bytes, cpu_seconds)
    try:
        verdict = _inspect(path)
    except MemoryError:
        verdict = {"ok": False, "reason": "the model needs more memory than allowed to load"}
    print(json.dumps(verdict, default=str)[:100_000], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
