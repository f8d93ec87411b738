"""dlib's face-recognition ResNet, read from its serialized ``.dat`` and rebuilt as ONNX.

dlib's serialization (``dlib/serialize.h``, ``dlib/dnn/core.h``, ``dlib/dnn/layers.h``):

- an integer is one byte ``size | 0x80 if negative`` and then ``size`` little-endian bytes;
- a float is two integers, mantissa and exponent (value = mantissa * 2**exponent);
- a string is its length and its bytes; a bool is the character ``'1'`` or ``'0'``;
- a tensor is version 2, num_samples, k, nr, nc and then little-endian float32 values;
- a network is written outermost first: the loss layer, then every layer's version down to the
  input layer, the input layer, and then each layer's details (``con_4``, ``affine_``...) on
  the way back up, each followed by its state flags and (empty) cached tensors.

The converter checks the file against the architecture dlib's ``dnn_face_recognition_ex``
declares (``anet_type``), layer by layer, and emits an ONNX graph with the same arithmetic:
convolutions with the affine (batch-norm) layer folded in, ReLU, max and average pooling,
``add_prev`` with dlib's zero-fill where the two tensors differ in size, a global average
and the 128x256 fully connected layer without bias. Input: N x 3 x 150 x 150 float32 RGB
pixel values 0-255 (the aligned chip ``dlib.get_face_chip`` gives); output: N x 128, the
unnormalised descriptor ``dlib.compute_face_descriptor`` returns.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edge_agent.vision.errors import ModelChecksumError, ModelError
from edge_agent.vision.models import ModelSpec, sha256_of

_LOGGER = logging.getLogger(__name__)

CHIP_SIZE = 150
OPSET = 17
Array = NDArray[np.float32]


class DatFormatError(ModelError):
    """The ``.dat`` file is not the network this converter knows."""


# ----------------------------------------------------------------------------- reading


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise DatFormatError("unexpected end of the .dat file")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def integer(self) -> int:
        head = self.byte()
        size = head & 0x0F
        if size > 8:
            raise DatFormatError(f"bad integer header {head:#x} at byte {self.pos - 1}")
        value = int.from_bytes(self.data[self.pos : self.pos + size], "little")
        self.pos += size
        return -value if head & 0x80 else value

    def real(self) -> float:
        mantissa = self.integer()
        exponent = self.integer()
        if exponent >= 32000:
            raise DatFormatError("non-finite float in the .dat file")
        return float(mantissa) * 2.0**exponent

    def string(self) -> str:
        size = self.integer()
        text = self.data[self.pos : self.pos + size]
        self.pos += size
        return text.decode("ascii")

    def flag(self) -> bool:
        char = self.byte()
        if char not in (ord("0"), ord("1")):
            raise DatFormatError(f"bad bool {char:#x} at byte {self.pos - 1}")
        return char == ord("1")

    def expect(self, what: str, value: object, wanted: object) -> None:
        if value != wanted:
            raise DatFormatError(f"{what}: found {value!r}, expected {wanted!r}")

    def tensor(self) -> Array:
        self.expect("tensor version", self.integer(), 2)
        shape = tuple(self.integer() for _ in range(4))
        count = int(np.prod(shape))
        end = self.pos + 4 * count
        if end > len(self.data):
            raise DatFormatError("tensor runs past the end of the file")
        values = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.pos)
        self.pos = end
        return values.astype(np.float32).reshape(shape)

    def alias(self) -> tuple[int, int, int, int]:
        self.expect("alias_tensor version", self.integer(), 1)
        ns, k, nr, nc = (self.integer() for _ in range(4))
        return ns, k, nr, nc


# ----------------------------------------------------------------------------- architecture


@dataclass
class Layer:
    kind: str  # con, affine, relu, max_pool, avg_pool, add_prev, fc, tag, skip
    tag: int = 0  # tag number (tag, skip, add_prev)
    params: dict[str, Any] = field(default_factory=dict)


def _block(filters: int, stride: int) -> list[Layer]:
    """dlib's ``block``: BN<con<N,3,3,1,1, relu<BN<con<N,3,3,stride,stride>>>>>, top first."""
    del filters, stride  # read from the file and checked against the expected shapes there
    return [Layer("affine"), Layer("con"), Layer("relu"), Layer("affine"), Layer("con")]


def _ares(n: int) -> list[Layer]:
    return [Layer("relu"), Layer("add_prev", 1), *_block(n, 1), Layer("tag", 1)]


def _ares_down(n: int) -> list[Layer]:
    return [
        Layer("relu"),
        Layer("add_prev", 2),
        Layer("avg_pool"),
        Layer("skip", 1),
        Layer("tag", 2),
        *_block(n, 2),
        Layer("tag", 1),
    ]


def architecture() -> list[Layer]:
    """``anet_type`` of dlib's dnn_face_recognition_ex.cpp, outermost layer first."""
    levels = [
        _ares_down(256),  # alevel0
        _ares(256) + _ares(256) + _ares_down(256),  # alevel1
        _ares(128) + _ares(128) + _ares_down(128),  # alevel2
        _ares(64) + _ares(64) + _ares(64) + _ares_down(64),  # alevel3
        _ares(32) + _ares(32) + _ares(32),  # alevel4
    ]
    layers = [Layer("fc"), Layer("avg_pool")]
    for level in levels:
        layers += level
    return [*layers, Layer("max_pool"), Layer("relu"), Layer("affine"), Layer("con")]


@dataclass
class DlibNet:
    mean_rgb: tuple[float, float, float]
    layers: list[Layer]  # input side first (the order they compute in)


def _read_details(reader: _Reader, layer: Layer) -> None:
    name = reader.string()
    p = layer.params
    if layer.kind == "con":
        reader.expect("layer", name, "con_4")
        params = reader.tensor()
        filters, nr, nc = reader.integer(), reader.integer(), reader.integer()
        p["stride"] = (reader.integer(), reader.integer())
        p["pad"] = (reader.integer(), reader.integer())
        shape = reader.alias()
        reader.alias()  # biases
        for _ in range(4):  # learning-rate and weight-decay multipliers
            reader.real()
        reader.expect("con filters", (shape[0], shape[2], shape[3]), (filters, nr, nc))
        flat = params.reshape(-1)
        size = int(np.prod(shape))
        p["weight"] = flat[:size].reshape(shape)
        p["bias"] = flat[size : size + filters].copy()
    elif layer.kind == "affine":
        reader.expect("layer", name, "affine_")
        params = reader.tensor().reshape(-1)
        gamma, _ = reader.alias(), reader.alias()
        reader.expect("affine mode (CONV_MODE)", reader.integer(), 0)
        k = gamma[1]
        p["gamma"], p["beta"] = params[:k].copy(), params[k : 2 * k].copy()
    elif layer.kind == "relu":
        reader.expect("layer", name, "relu_")
    elif layer.kind in ("max_pool", "avg_pool"):
        reader.expect("layer", name, f"{layer.kind}_2")
        p["window"] = (reader.integer(), reader.integer())
        p["stride"] = (reader.integer(), reader.integer())
        p["pad"] = (reader.integer(), reader.integer())
    elif layer.kind == "add_prev":
        reader.expect("layer", name, "add_prev_")
    elif layer.kind == "fc":
        reader.expect("layer", name, "fc_2")
        outputs, inputs = reader.integer(), reader.integer()
        params = reader.tensor().reshape(-1)
        reader.alias()
        reader.alias()
        reader.expect("fc bias mode (FC_NO_BIAS)", reader.integer(), 1)
        for _ in range(4):
            reader.real()
        p["weight"] = params[: inputs * outputs].reshape(inputs, outputs).copy()


def _read_state(reader: _Reader, bottom: bool) -> None:
    for _ in range(3):  # setup called, gradient stale, output and gradient disabled
        reader.flag()
    for _ in range(3):  # x_grad, cached_output, params_grad / grad_final: empty when saved
        reader.tensor()
    if bottom:
        reader.integer()  # sample expansion factor


def read_dat(data: bytes) -> DlibNet:
    reader = _Reader(data)
    reader.expect("loss version", reader.integer(), 1)
    reader.expect("loss layer", reader.string(), "loss_metric_2")
    reader.real()  # margin
    reader.real()  # distance threshold
    layers = architecture()
    for i, layer in enumerate(layers):
        wanted = 3 if i == len(layers) - 1 else (1 if layer.kind in ("tag", "skip") else 2)
        reader.expect(f"version of layer {i} ({layer.kind})", reader.integer(), wanted)
    reader.expect("input layer", reader.string(), "input_rgb_image_sized")
    mean = (reader.real(), reader.real(), reader.real())
    reader.expect("input size", (reader.integer(), reader.integer()), (CHIP_SIZE, CHIP_SIZE))
    for i, layer in enumerate(reversed(layers)):
        if layer.kind in ("tag", "skip"):
            continue
        _read_details(reader, layer)
        _read_state(reader, bottom=i == 0)
    reader.expect("bytes left after the network", len(data) - reader.pos, 0)
    return DlibNet(mean, list(reversed(layers)))


# ----------------------------------------------------------------------------- ONNX


def _out_size(size: int, window: int, stride: int, pad: int) -> int:
    return 1 + (size + 2 * pad - window) // stride


def build_onnx(net: DlibNet) -> bytes:
    """The network as a serialized ONNX model (deterministic bytes for the same input)."""
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError as exc:
        raise ModelError(
            "converting dlib's network needs the onnx package (pip install onnx)"
        ) from exc

    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []

    def const(name: str, value: NDArray[Any]) -> str:
        inits.append(numpy_helper.from_array(value, name))
        return name

    def node(op: str, inputs: list[str], **attrs: Any) -> str:
        out = f"t{len(nodes)}"
        nodes.append(helper.make_node(op, inputs, [out], name=f"{op}_{len(nodes)}", **attrs))
        return out

    mean = np.array(net.mean_rgb, dtype=np.float32).reshape(1, 3, 1, 1)
    current = node("Sub", ["chip", const("mean_rgb", mean)])
    current = node("Mul", [current, const("scale", np.array(1 / 256, dtype=np.float32))])
    shape = (3, CHIP_SIZE, CHIP_SIZE)  # k, nr, nc of ``current``
    tags: dict[int, tuple[str, tuple[int, int, int]]] = {}
    layers = net.layers
    i = 0
    while i < len(layers):
        layer = layers[i]
        p = layer.params
        if layer.kind == "con":
            weight, bias = p["weight"], p["bias"]
            if i + 1 < len(layers) and layers[i + 1].kind == "affine":  # fold the affine
                gamma, beta = layers[i + 1].params["gamma"], layers[i + 1].params["beta"]
                weight = weight * gamma[:, None, None, None]
                bias = bias * gamma + beta
                i += 1
            n = len(nodes)
            (sy, sx), (py, px) = p["stride"], p["pad"]
            current = node(
                "Conv",
                [
                    current,
                    const(f"w{n}", weight.astype(np.float32)),
                    const(f"b{n}", bias.astype(np.float32)),
                ],
                kernel_shape=list(weight.shape[2:]),
                strides=[sy, sx],
                pads=[py, px, py, px],
            )
            ky, kx = weight.shape[2:]
            shape = (
                weight.shape[0],
                _out_size(shape[1], ky, sy, py),
                _out_size(shape[2], kx, sx, px),
            )
        elif layer.kind == "affine":
            raise DatFormatError("an affine layer that does not follow a convolution")
        elif layer.kind == "relu":
            current = node("Relu", [current])
        elif layer.kind in ("max_pool", "avg_pool"):
            (wy, wx), (sy, sx), (py, px) = p["window"], p["stride"], p["pad"]
            if wy == 0 and wx == 0:  # avg_pool_everything
                current = node("GlobalAveragePool", [current])
                shape = (shape[0], 1, 1)
            else:
                if py or px:
                    raise DatFormatError("padded pooling is not supported by this converter")
                op = "MaxPool" if layer.kind == "max_pool" else "AveragePool"
                current = node(op, [current], kernel_shape=[wy, wx], strides=[sy, sx])
                shape = (shape[0], _out_size(shape[1], wy, sy, 0), _out_size(shape[2], wx, sx, 0))
        elif layer.kind == "tag":
            tags[layer.tag] = (current, shape)
        elif layer.kind == "skip":
            current, shape = tags[layer.tag]
        elif layer.kind == "add_prev":
            other, other_shape = tags[layer.tag]
            # dlib adds tensors of different sizes as if the smaller were zero-filled to the
            # larger one's size (top-left aligned, tt::add).
            full = (
                max(shape[0], other_shape[0]),
                max(shape[1], other_shape[1]),
                max(shape[2], other_shape[2]),
            )
            operands = []
            for name, have in ((current, shape), (other, other_shape)):
                if have != full:
                    pads = [0, 0, 0, 0, 0, *(f - h for f, h in zip(full, have, strict=True))]
                    name = node("Pad", [name, const(f"pad{len(nodes)}", np.array(pads))])
                operands.append(name)
            current = node("Add", operands)
            shape = full
        elif layer.kind == "fc":
            flat = node("Flatten", [current], axis=1)
            current = node("MatMul", [flat, const("fc", p["weight"].astype(np.float32))])
        i += 1
    nodes[-1].output[0] = "descriptor"
    graph = helper.make_graph(
        nodes,
        "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info("chip", TensorProto.FLOAT, ["N", 3, CHIP_SIZE, CHIP_SIZE])],
        [helper.make_tensor_value_info("descriptor", TensorProto.FLOAT, ["N", 128])],
        inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="gridgate",
        producer_version="1",
        ir_version=8,
    )
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString(deterministic=True))


def convert(source: Path, source_spec: ModelSpec, target: Path) -> Path:
    """Convert dlib's ``.dat`` at ``source`` into ONNX at ``target`` (atomically).

    Refuses a source whose sha256 is not the manifest's: the converter knows one network.
    """
    digest = sha256_of(source)
    if digest != source_spec.sha256:
        raise ModelChecksumError(
            f"{source}: sha256 {digest[:12]}... is not the known {source_spec.name} "
            f"({source_spec.sha256[:12]}...); refusing to convert an unknown network"
        )
    data = build_onnx(read_dat(source.read_bytes()))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".partial")
    except OSError as exc:
        raise ModelError(f"cannot write the converted network into {target.parent}: {exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(partial).replace(target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    _LOGGER.info("converted %s into %s (%d bytes)", source.name, target, len(data))
    return target
