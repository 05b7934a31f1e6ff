"""A minimal protobuf decoder for the TensorBoard `Event` messages that carry scalars.

Only what lrdoctor needs is decoded; every other field is skipped by its wire type:

    Event:           wall_time=1 double, step=2 int64, summary=5 Summary
    Summary:         value=1 repeated Value
    Value:           tag=1 string, simple_value=2 float, tensor=8 TensorProto, metadata=9
    SummaryMetadata: plugin_data=1 {plugin_name=1 string, content=2 bytes}, data_class=4
    TensorProto:     dtype=1, tensor_shape=2 {dim=2 {size=1}}, tensor_content=4 bytes,
                     float_val=5, double_val=6, int_val=7, int64_val=10, half_val=13,
                     uint32_val=16, uint64_val=17 (repeated numbers: packed or not)

The common layouts (one-byte keys, one-byte lengths) are read inline, without a call per
field; anything else goes through the general field walker. Offsets are absolute positions
in the whole file, so no record is copied. A malformed message raises :class:`DecodeError`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

SIMPLE, TENSOR = 1, 2  # how a Value carries its number

_DOUBLE = struct.Struct("<d").unpack_from
_FLOAT = struct.Struct("<f").unpack_from
_U64 = 1 << 64
_DATA_CLASS_SCALAR = 1  # SummaryMetadata.DataClass.DATA_CLASS_SCALAR

# TensorProto dtype -> (struct code of one element in tensor_content, repeated field holding it)
_DTYPES: dict[int, tuple[str, int]] = {
    1: ("<f", 5),  # DT_FLOAT: float_val
    2: ("<d", 6),  # DT_DOUBLE: double_val
    3: ("<i", 7),  # DT_INT32: int_val
    4: ("<B", 7),  # DT_UINT8
    5: ("<h", 7),  # DT_INT16
    6: ("<b", 7),  # DT_INT8
    9: ("<q", 10),  # DT_INT64: int64_val
    14: ("bf16", 13),  # DT_BFLOAT16: half_val holds the bits
    17: ("<H", 7),  # DT_UINT16
    19: ("<e", 13),  # DT_HALF: half_val holds the bits
    22: ("<I", 16),  # DT_UINT32: uint32_val
    23: ("<Q", 17),  # DT_UINT64: uint64_val
}

# (tag bytes, SIMPLE or TENSOR or 0, value, plugin name or None when no metadata, plugin content)
Value = tuple[bytes, int, float, "bytes | None", bytes]


class DecodeError(ValueError):
    """The bytes are not a well-formed message of the expected type."""


def varint(buf: bytes, pos: int) -> tuple[int, int]:
    """The varint at `pos` and the position after it."""
    result = 0
    shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise DecodeError("varint longer than 10 bytes")


def fields(buf: bytes, pos: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(field number, wire type, a, b) for each field in buf[pos:end]: a varint's value in `a`;
    the span of a fixed64, fixed32 or length-delimited field as `a:b`."""
    while pos < end:
        key = buf[pos]
        if key < 0x80:
            pos += 1
        else:
            key, pos = varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            a, pos = varint(buf, pos)
            b = pos
        else:
            if wire == 2:
                size, a = varint(buf, pos)
            elif wire == 1 or wire == 5:
                size, a = (8 if wire == 1 else 4), pos
            else:
                raise DecodeError(f"unsupported wire type {wire} for field {number}")
            b = pos = a + size
        if pos > end or number == 0:
            raise DecodeError("field runs past the end of its message")
        yield number, wire, a, b


def _skip_one(buf: bytes, pos: int, end: int) -> int:
    """The position after the one field that starts at `pos`."""
    key = buf[pos]
    if key < 0x80:
        pos += 1
    else:
        key, pos = varint(buf, pos)
    return skip_value(buf, pos, key & 7)


def skip_value(buf: bytes, pos: int, wire: int) -> int:
    """The position after a field's value of wire type `wire` that starts at `pos`."""
    if wire == 0:
        return varint(buf, pos)[1]
    if wire == 1:
        return pos + 8
    if wire == 5:
        return pos + 4
    if wire == 2:
        size, pos = varint(buf, pos)
        return pos + size
    raise DecodeError(f"unsupported wire type {wire}")


def decode_event(buf: bytes, pos: int, end: int) -> tuple[float, int, list[Value]]:
    """wall_time, step and the summary values of the Event in buf[pos:end]."""
    wall = 0.0
    step = 0
    values: list[Value] = []
    while pos < end:
        key = buf[pos]
        if key == 0x09:  # wall_time
            wall = _DOUBLE(buf, pos + 1)[0]
            pos += 9
        elif key == 0x10:  # step
            step = buf[pos + 1]
            pos += 2
            if step >= 0x80:
                step, pos = varint(buf, pos - 1)
        elif key == 0x2A:  # summary
            size = buf[pos + 1]
            pos += 2
            if size >= 0x80:
                size, pos = varint(buf, pos - 1)
            stop = pos + size
            if stop > end:
                raise DecodeError("summary runs past the end of the event")
            _summary(buf, pos, stop, values)
            pos = stop
        else:
            pos = _skip_one(buf, pos, end)
    if pos != end:
        raise DecodeError("last field runs past the end of the event")
    step &= _U64 - 1
    if step >> 63:
        step -= _U64
    return wall, step, values


def _summary(buf: bytes, pos: int, end: int, out: list[Value]) -> None:
    while pos < end:
        if buf[pos] != 0x0A:  # Summary.value
            pos = _skip_one(buf, pos, end)
            continue
        size = buf[pos + 1]
        pos += 2
        if size >= 0x80:
            size, pos = varint(buf, pos - 1)
        stop = pos + size
        if stop > end:
            raise DecodeError("summary value runs past the end of the summary")
        out.append(_value(buf, pos, stop))
        pos = stop
    if pos != end:
        raise DecodeError("summary value runs past the end of the summary")


def _value(buf: bytes, pos: int, end: int) -> Value:
    tag = b""
    kind = 0
    number = 0.0
    plugin: bytes | None = None
    content = b""
    while pos < end:
        key = buf[pos]
        if key == 0x0A:  # tag
            size = buf[pos + 1]
            pos += 2
            if size >= 0x80:
                size, pos = varint(buf, pos - 1)
            tag = buf[pos : pos + size]
            pos += size
        elif key == 0x15:  # simple_value
            number = _FLOAT(buf, pos + 1)[0]
            kind = SIMPLE
            pos += 5
        elif key == 0x42 or key == 0x4A:  # tensor, metadata
            size, start = varint(buf, pos + 1)
            pos = start + size
            if pos > end:
                raise DecodeError("summary value field runs past its end")
            if key == 0x4A:
                plugin, content = _metadata(buf, start, pos)
            else:
                got = _tensor(buf, start, pos)
                kind, number = (TENSOR, got) if got is not None else (0, 0.0)
        else:
            pos = _skip_one(buf, pos, end)
    if pos != end:
        raise DecodeError("summary value runs past its end")
    return tag, kind, number, plugin, content


def _metadata(buf: bytes, pos: int, end: int) -> tuple[bytes, bytes]:
    """(plugin name, plugin content); b'scalars' when only data_class says it is a scalar."""
    name = b""
    content = b""
    data_class = 0
    for number, wire, a, b in fields(buf, pos, end):
        if number == 1 and wire == 2:
            for n2, w2, a2, b2 in fields(buf, a, b):
                if n2 == 1 and w2 == 2:
                    name = buf[a2:b2]
                elif n2 == 2 and w2 == 2:
                    content = buf[a2:b2]
        elif number == 4 and wire == 0:
            data_class = a
    if not name and data_class == _DATA_CLASS_SCALAR:
        name = b"scalars"
    return name, content


def _tensor(buf: bytes, pos: int, end: int) -> float | None:
    """The number held by a one-element numeric tensor; None for anything else.

    Only counts and first values are taken from repeated fields, so a huge tensor costs a
    walk over its fields, never a list of its elements."""
    dtype = 0
    single = True
    content: bytes | None = None
    counts: dict[int, int] = {}
    firsts: dict[int, int | float] = {}
    for number, wire, a, b in fields(buf, pos, end):
        if number == 1 and wire == 0:
            dtype = a
        elif number == 2 and wire == 2:
            single = _one_element(buf, a, b)
        elif number == 4 and wire == 2 and b > a:
            content = buf[a:b] if b - a <= 8 else b"\0" * 9  # longer than any one element
        elif number in _VALUE_FIELDS:
            count, first = _count_first(buf, number, wire, a, b)
            counts[number] = counts.get(number, 0) + count
            if first is not None:
                firsts.setdefault(number, first)
    spec = _DTYPES.get(dtype)
    if spec is None or not single:
        return None
    code, field = spec
    if content is not None:
        return _from_content(code, content)
    count = counts.get(field, 0)
    if count > 1:
        return None
    raw = firsts.get(field, 0)  # no value at all: TensorFlow fills with zeros
    if field in (5, 6):
        return float(raw)
    return _from_int(code, int(raw))


_VALUE_FIELDS = frozenset({5, 6, 7, 10, 13, 16, 17})


def _one_element(buf: bytes, pos: int, end: int) -> bool:
    """Does this TensorShapeProto hold exactly one element (every dim of size 1)?"""
    for number, wire, a, b in fields(buf, pos, end):
        if number == 2 and wire == 2:
            size = 0
            for n2, w2, a2, _b2 in fields(buf, a, b):
                if n2 == 1 and w2 == 0:
                    size = a2
            if size != 1:
                return False
        elif number == 3 and wire == 0 and a:
            return False  # unknown rank
    return True


def _count_first(buf: bytes, number: int, wire: int, a: int, b: int) -> tuple[int, int | float | None]:
    """How many numbers a repeated field holds here, and the first of them."""
    if number in (5, 6):  # float_val, double_val: fixed width, packed or not
        width, unpack = (4, _FLOAT) if number == 5 else (8, _DOUBLE)
        if wire == (5 if number == 5 else 1):
            return 1, unpack(buf, a)[0]
        if wire == 2 and (b - a) % width == 0:
            return (b - a) // width, (unpack(buf, a)[0] if b > a else None)
    elif wire == 0:
        return 1, a
    elif wire == 2:
        if b - a > 10:  # one varint is at most 10 bytes: more than one number
            return 2, None
        values = []
        pos = a
        while pos < b:
            value, pos = varint(buf, pos)
            values.append(value)
        if pos != b:
            raise DecodeError("packed varints run past their field")
        return len(values), (values[0] if values else None)
    raise DecodeError(f"tensor field {number} has wire type {wire}")


def _from_content(code: str, content: bytes) -> float | None:
    if code == "bf16":
        return struct.unpack("<f", b"\x00\x00" + content)[0] if len(content) == 2 else None
    if len(content) != struct.calcsize(code):
        return None
    return float(struct.unpack(code, content)[0])


def _from_int(code: str, raw: int) -> float:
    """A number from a repeated integer field (int32 values come sign-extended to 64 bits)."""
    raw &= _U64 - 1
    if code == "<e":
        return float(struct.unpack("<e", struct.pack("<H", raw & 0xFFFF))[0])
    if code == "bf16":
        return float(struct.unpack("<f", struct.pack("<I", (raw & 0xFFFF) << 16))[0])
    if code not in ("<B", "<H", "<I", "<Q") and raw >> 63:
        raw -= _U64
    return float(raw)


def session_hparams(content: bytes) -> dict[str, float | str | bool]:
    """The hyperparameters in an `hparams` plugin's session_start_info (torch `add_hparams`,
    the Keras hparams callback): HParamsPluginData.session_start_info=3 -> hparams=1, a map
    of name -> google.protobuf.Value (number_value=2 double, string_value=3, bool_value=4)."""
    out: dict[str, float | str | bool] = {}
    for number, wire, a, b in fields(content, 0, len(content)):
        if number != 3 or wire != 2:
            continue
        for n2, w2, a2, b2 in fields(content, a, b):
            if n2 != 1 or w2 != 2:
                continue
            name = b""
            value: float | str | bool | None = None
            for n3, w3, a3, b3 in fields(content, a2, b2):
                if n3 == 1 and w3 == 2:
                    name = content[a3:b3]
                elif n3 == 2 and w3 == 2:
                    value = _struct_value(content, a3, b3)
            if name and value is not None:
                out[name.decode("utf-8", "replace")] = value
    return out


def _struct_value(buf: bytes, pos: int, end: int) -> float | str | bool | None:
    value: float | str | bool | None = None
    for number, wire, a, b in fields(buf, pos, end):
        if number == 2 and wire == 1:
            value = _DOUBLE(buf, a)[0]
        elif number == 3 and wire == 2:
            value = buf[a:b].decode("utf-8", "replace")
        elif number == 4 and wire == 0:
            value = bool(a)
    return value
