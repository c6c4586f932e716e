"""GGUF files (llama.cpp's model format), written and read back, from the published specification
(ggml's docs/gguf.md, version 3) and ggml's block formats; plain numpy.

Layout: magic "GGUF", version (uint32 3), tensor count and metadata count (uint64), the metadata as
(key, value type, value), one info per tensor (name, dimension count, dimensions innermost first, ggml type,
data offset), padding to the alignment (32), then each tensor's data at its offset, each padded to the alignment.
Little-endian throughout; strings are a uint64 byte length and UTF-8 bytes.

Tensor types written: F32, and the two 32-value block formats of ggml's reference quantizer:
  Q8_0  float16 scale d = max|x| / 127, then 32 int8 q = round(x / d) (half away from zero); 34 bytes.
  Q4_0  float16 scale d = m / -8 where m is the value of largest magnitude (the first, on ties), then 16 bytes
        of 4-bit q = min(15, trunc(x / d + 8.5)): value j in the low nibble of byte j, value j + 16 in its high
        nibble; read back as (q - 8) * d; 18 bytes.
Blocks run along a tensor's innermost dimension (a weight's input features), which must be a multiple of 32.
"""
import struct

import numpy as np

MAGIC = b"GGUF"
VERSION = 3
ALIGNMENT = 32
BLOCK = 32

# ggml tensor types (ggml.h)
F32, F16, Q4_0, Q8_0 = 0, 1, 2, 8
TYPE_NAMES = {F32: "F32", F16: "F16", Q4_0: "Q4_0", Q8_0: "Q8_0"}
BLOCK_BYTES = {Q4_0: 2 + BLOCK // 2, Q8_0: 2 + BLOCK}

# metadata value types (the specification's gguf_metadata_value_type)
UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 = range(13)
_SCALARS = {UINT8: "<B", INT8: "<b", UINT16: "<H", INT16: "<h", UINT32: "<I", INT32: "<i", FLOAT32: "<f",
            BOOL: "<?", UINT64: "<Q", INT64: "<q", FLOAT64: "<d"}


class Value:
    """A metadata value with its GGUF type; arrays carry their element type."""

    def __init__(self, kind, value, element=None):
        self.kind, self.value, self.element = kind, value, element

    def __eq__(self, other):
        return isinstance(other, Value) and (self.kind, self.value, self.element) == \
            (other.kind, other.value, other.element)

    def __repr__(self):
        return "Value(%d, %r%s)" % (self.kind, self.value, "" if self.element is None else ", %d" % self.element)


def u32(v):
    return Value(UINT32, int(v))


def i32(v):
    return Value(INT32, int(v))


def f32(v):
    return Value(FLOAT32, float(v))


def boolean(v):
    return Value(BOOL, bool(v))


def string(v):
    return Value(STRING, v)


def array(element, values):
    return Value(ARRAY, list(values), element)


# ---------------------------------------------------------------- block quantization (ggml's reference)

def _blocks(x):
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.shape[-1] % BLOCK:
        raise ValueError("the innermost dimension (%d) is not a multiple of %d" % (x.shape[-1], BLOCK))
    return x.reshape(-1, BLOCK)


def quantize_q8_0(x):
    """float32 [..., K] → the Q8_0 bytes of its blocks, in order."""
    b = _blocks(x)
    d = np.abs(b).max(axis=1) / np.float32(127)
    inverse = np.divide(np.float32(1), d, out=np.zeros_like(d), where=d != 0)
    scaled = b * inverse[:, None]
    q = (np.sign(scaled) * np.floor(np.abs(scaled) + np.float32(0.5))).astype(np.int8)  # C's roundf
    out = np.empty((b.shape[0], BLOCK_BYTES[Q8_0]), dtype=np.uint8)
    out[:, :2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q.view(np.uint8)
    return out.tobytes()


def quantize_q4_0(x):
    """float32 [..., K] → the Q4_0 bytes of its blocks, in order."""
    b = _blocks(x)
    extreme = np.take_along_axis(b, np.abs(b).argmax(axis=1)[:, None], axis=1)[:, 0]
    d = extreme / np.float32(-8)
    inverse = np.divide(np.float32(1), d, out=np.zeros_like(d), where=d != 0)
    q = np.minimum(15, np.trunc(b * inverse[:, None] + np.float32(8.5)).astype(np.int8)).astype(np.uint8)
    out = np.empty((b.shape[0], BLOCK_BYTES[Q4_0]), dtype=np.uint8)
    out[:, :2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q[:, :BLOCK // 2] | (q[:, BLOCK // 2:] << 4)
    return out.tobytes()


def dequantize(kind, data, shape):
    """The float32 values of a tensor's bytes; shape innermost last (numpy order)."""
    if kind == F32:
        return np.frombuffer(data, dtype=np.float32).reshape(shape)
    if kind == F16:
        return np.frombuffer(data, dtype=np.float16).astype(np.float32).reshape(shape)
    raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, BLOCK_BYTES[kind])
    d = raw[:, :2].copy().view(np.float16).astype(np.float32)
    if kind == Q8_0:
        values = raw[:, 2:].view(np.int8).astype(np.float32) * d
    elif kind == Q4_0:
        low, high = raw[:, 2:] & 0x0F, raw[:, 2:] >> 4
        values = (np.concatenate([low, high], axis=1).astype(np.float32) - 8) * d
    else:
        raise ValueError("unsupported tensor type %d" % kind)
    return values.reshape(shape)


def encode(kind, x):
    """float32 array → the bytes of a tensor of that type."""
    if kind == F32:
        return np.ascontiguousarray(x, dtype=np.float32).tobytes()
    if kind == F16:
        return np.ascontiguousarray(x, dtype=np.float16).tobytes()
    if kind == Q8_0:
        return quantize_q8_0(x)
    if kind == Q4_0:
        return quantize_q4_0(x)
    raise ValueError("unsupported tensor type %d" % kind)


def nbytes(kind, shape):
    count = int(np.prod(shape))
    if kind in BLOCK_BYTES:
        return count // BLOCK * BLOCK_BYTES[kind]
    return count * (4 if kind == F32 else 2)


# ---------------------------------------------------------------- writing

def _string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _value(kind, value, element=None):
    if kind == STRING:
        return _string(value)
    if kind == ARRAY:
        if element == STRING:
            body = b"".join(_string(v) for v in value)
        else:
            body = np.asarray(value, dtype=np.dtype(_SCALARS[element])).tobytes()
        return struct.pack("<IQ", element, len(value)) + body
    return struct.pack(_SCALARS[kind], value)


def _pad(n):
    return -n % ALIGNMENT


def write(path, metadata, tensors):
    """metadata: {key: Value} in order; tensors: [(name, ggml type, numpy shape, producer)], where producer()
    returns the float32 array (called once, while writing, so one tensor is in memory at a time)."""
    header = bytearray(MAGIC + struct.pack("<IQQ", VERSION, len(tensors), len(metadata)))
    for key, v in metadata.items():
        header += _string(key) + struct.pack("<I", v.kind) + _value(v.kind, v.value, v.element)
    offset = 0
    for name, kind, shape, _ in tensors:
        if kind in BLOCK_BYTES and shape[-1] % BLOCK:
            raise ValueError("%s: innermost dimension %d is not a multiple of %d" % (name, shape[-1], BLOCK))
        dims = list(reversed(shape))  # GGUF lists the innermost dimension first
        header += _string(name) + struct.pack("<I", len(dims)) + struct.pack("<%dQ" % len(dims), *dims)
        header += struct.pack("<IQ", kind, offset)
        size = nbytes(kind, shape)
        offset += size + _pad(size)
    header += b"\0" * _pad(len(header))
    with open(path, "wb") as f:
        f.write(header)
        for name, kind, shape, producer in tensors:
            x = producer()
            if tuple(x.shape) != tuple(shape):
                raise ValueError("%s: shape %s, declared %s" % (name, x.shape, shape))
            data = encode(kind, x)
            f.write(data + b"\0" * _pad(len(data)))


# ---------------------------------------------------------------- reading (tests and checks)

class Reader:
    """A GGUF file's version, metadata ({key: Value}) and tensors ({name: (type, numpy shape, bytes)})."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self._buf = f.read()
        self._at = 0
        if self._take(4) != MAGIC:
            raise ValueError("%s is not a GGUF file" % path)
        self.version, count, kv_count = struct.unpack("<IQQ", self._take(20))
        self.metadata = {}
        for _ in range(kv_count):
            key = self._string()
            kind = self._scalar("<I")
            self.metadata[key] = self._value(kind)
        infos = []
        for _ in range(count):
            name = self._string()
            n = self._scalar("<I")
            dims = struct.unpack("<%dQ" % n, self._take(8 * n))
            kind, offset = struct.unpack("<IQ", self._take(12))
            infos.append((name, kind, tuple(reversed(dims)), offset))
        alignment = self.metadata.get("general.alignment", u32(ALIGNMENT)).value
        start = self._at + (-self._at % alignment)
        self.data_start = start
        self.tensors = {name: (kind, shape, self._buf[start + offset:start + offset + nbytes(kind, shape)])
                        for name, kind, shape, offset in infos}
        self.offsets = {name: offset for name, _, _, offset in infos}

    def array(self, name):
        kind, shape, data = self.tensors[name]
        return dequantize(kind, data, shape)

    def _take(self, n):
        b = self._buf[self._at:self._at + n]
        self._at += n
        return b

    def _scalar(self, fmt):
        return struct.unpack(fmt, self._take(struct.calcsize(fmt)))[0]

    def _string(self):
        return self._take(self._scalar("<Q")).decode("utf-8")

    def _value(self, kind):
        if kind == STRING:
            return Value(STRING, self._string())
        if kind == ARRAY:
            element, n = struct.unpack("<IQ", self._take(12))
            if element == STRING:
                return Value(ARRAY, [self._string() for _ in range(n)], element)
            dtype = np.dtype(_SCALARS[element])
            values = np.frombuffer(self._take(dtype.itemsize * n), dtype=dtype).tolist()
            return Value(ARRAY, values, element)
        return Value(kind, self._scalar(_SCALARS[kind]))
