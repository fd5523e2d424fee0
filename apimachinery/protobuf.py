"""Decode Kubernetes protobuf request bodies into the JSON dicts the rest of kube-py uses.

Why this exists: kubectl 1.32's typed clientset (`kubectl create deployment|namespace|job|
service ...`) POSTs and PUTs `application/vnd.kubernetes.protobuf` bodies and, unlike for
CBOR, never retries as JSON after a 415. So the API server has to read protobuf to support
those commands. It still answers JSON, which clients accept.

A body is the magic `k8s\\x00` followed by a `runtime.Unknown` envelope
{typeMeta{apiVersion=1, kind=2}=1, raw=2, contentEncoding=3, contentType=4}; `raw` is the
object's own protobuf. This module is a small, dependency-free wire-format reader (varints,
fixed32/64, length-delimited fields, packed repeated scalars) driven by the field tables in
`apimachinery.protobuf_schema`, and produces exactly what the JSON API would have received:
camelCase names, unset and omitempty-zero fields left out, Kubernetes' special types in their
JSON form (metav1.Time → RFC 3339, resource.Quantity → string, IntOrString → int or string,
metav1.Duration → Go duration string, RawExtension/FieldsV1 → embedded JSON).

Policy for what the tables do not cover (decided here, enforced by the API server):

* malformed wire data (truncated, bad wire type, bad UTF-8) → `ProtobufError` (400 BadRequest);
* a kind without a table, an encoded (`contentEncoding`) payload → `UnsupportedProtobuf`
  (415), a clear error instead of a guessed object;
* field numbers the tables do not know are skipped safely and reported in
  `DecodedObject.unknown_fields`; with `strict=True` (what the API server uses) they raise
  `UnsupportedProtobuf` too, because silently dropping a field the client set would store a
  different object than the one the user asked for.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from apimachinery.errors import ApiMachineryError
from apimachinery.protobuf_schema import (
    BOOL,
    BYTES,
    DURATION,
    FIELDS_V1,
    INT32,
    INT64,
    INT_OR_STRING,
    MAP,
    MESSAGE,
    MICRO_TIME,
    OPTIONS_KINDS,
    QUANTITY,
    RAW_EXTENSION,
    SCHEMA,
    STRING,
    TIME,
    TOP_LEVEL,
    VARINT_KINDS,
    Field,
)

CONTENT_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5
_WIRE_NAMES = {VARINT: "varint", FIXED64: "fixed64", LENGTH_DELIMITED: "length-delimited", FIXED32: "fixed32"}
_ZERO_TIME_SECONDS = -62135596800  # Go's time.Time{} (0001-01-01T00:00:00Z) as Unix seconds


class ProtobufError(ApiMachineryError):
    """The bytes are not valid protobuf for the expected message."""


class UnsupportedProtobuf(ApiMachineryError):
    """Valid protobuf this decoder will not turn into an object (unknown kind or fields)."""


@dataclass
class DecodedObject:
    obj: dict[str, Any]
    unknown_fields: list[str] = field(default_factory=list)


# ---- wire format ------------------------------------------------------------------------


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """(value, next position) of the base-128 varint at `pos`; at most 10 bytes."""
    result = 0
    for shift in range(0, 70, 7):
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if result >= 1 << 64:
                raise ProtobufError("varint overflows 64 bits")
            return result, pos
    raise ProtobufError("varint longer than 10 bytes")


def iter_fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) for each field; value is an int or the field's bytes."""
    pos = 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtobufError("field number 0")
        if wire == VARINT:
            value, pos = read_varint(data, pos)
            yield number, wire, value
        elif wire in (FIXED64, FIXED32):
            size = 8 if wire == FIXED64 else 4
            if pos + size > len(data):
                raise ProtobufError(f"truncated fixed{size * 8} field {number}")
            yield number, wire, int.from_bytes(data[pos:pos + size], "little")
            pos += size
        elif wire == LENGTH_DELIMITED:
            length, pos = read_varint(data, pos)
            if pos + length > len(data):
                raise ProtobufError(f"truncated field {number}: {length} bytes declared, {len(data) - pos} left")
            yield number, wire, data[pos:pos + length]
            pos += length
        else:
            raise ProtobufError(f"unsupported wire type {wire} (field {number})")


def to_signed(value: int, bits: int = 64) -> int:
    """int32/int64 fields carry negative numbers as 64-bit two's complement varints."""
    value &= (1 << 64) - 1
    if value >= 1 << 63:
        value -= 1 << 64
    if bits == 32 and not -(1 << 31) <= value < 1 << 31:
        raise ProtobufError(f"value {value} out of int32 range")
    return value


def packed_varints(data: bytes) -> list[int]:
    values: list[int] = []
    pos = 0
    while pos < len(data):
        value, pos = read_varint(data, pos)
        values.append(value)
    return values


def utf8(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtobufError(f"{where}: string is not valid UTF-8") from None


# ---- special types ----------------------------------------------------------------------


def timestamp_parts(data: bytes, where: str) -> tuple[int, int] | None:
    """(seconds, nanos) of a Time/MicroTime/Timestamp; None for the zero time."""
    if not data:
        return None
    seconds = nanos = 0
    for number, wire, value in iter_fields(data):
        if wire != VARINT or not isinstance(value, int):
            raise ProtobufError(f"{where}: timestamp field {number} is not a varint")
        if number == 1:
            seconds = to_signed(value)
        elif number == 2:
            nanos = to_signed(value, 32)
    if seconds == _ZERO_TIME_SECONDS and nanos == 0:
        return None
    return seconds, nanos


def _datetime(seconds: int, nanos: int, where: str) -> dt.datetime:
    try:
        base = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return base + dt.timedelta(seconds=seconds, microseconds=nanos // 1000)
    except OverflowError:
        raise ProtobufError(f"{where}: timestamp {seconds}s is out of range") from None


def decode_time(data: bytes, where: str) -> str | None:
    """metav1.Time → RFC 3339 at second precision, as its JSON marshaller writes it."""
    parts = timestamp_parts(data, where)
    if parts is None:
        return None
    return _datetime(*parts, where).strftime("%Y-%m-%dT%H:%M:%SZ")


def decode_micro_time(data: bytes, where: str) -> str | None:
    """metav1.MicroTime → RFC 3339 with six fractional digits."""
    parts = timestamp_parts(data, where)
    if parts is None:
        return None
    return _datetime(*parts, where).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def decode_quantity(data: bytes, where: str) -> str:
    text = ""
    for number, wire, value in iter_fields(data):
        if number == 1:
            if not isinstance(value, bytes):
                raise ProtobufError(f"{where}: quantity string has wire type {_WIRE_NAMES[wire]}")
            text = utf8(value, where)
    return text


def decode_int_or_string(data: bytes, where: str) -> int | str:
    kind = int_val = 0
    str_val = ""
    for number, wire, value in iter_fields(data):
        if number in (1, 2):
            if not isinstance(value, int) or wire != VARINT:
                raise ProtobufError(f"{where}: IntOrString field {number} is not a varint")
            if number == 1:
                kind = to_signed(value)
            else:
                int_val = to_signed(value, 32)
        elif number == 3:
            if not isinstance(value, bytes):
                raise ProtobufError(f"{where}: IntOrString strVal is not length-delimited")
            str_val = utf8(value, where)
    if kind not in (0, 1):
        raise ProtobufError(f"{where}: IntOrString type {kind} is neither 0 (int) nor 1 (string)")
    return str_val if kind == 1 else int_val


def go_duration(nanos: int) -> str:
    """time.Duration.String(): "1h2m3.5s", "150ms", "0s"."""
    if nanos == 0:
        return "0s"
    sign = "-" if nanos < 0 else ""
    nanos = abs(nanos)
    if nanos < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if nanos >= size:
                return sign + _fraction(nanos, size) + unit
    hours, rest = divmod(nanos, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    out = f"{hours}h" if hours else ""
    if hours or minutes:
        out += f"{minutes}m"
    return sign + out + _fraction(rest, 1_000_000_000) + "s"


def _fraction(value: int, unit: int) -> str:
    whole, frac = divmod(value, unit)
    if not frac:
        return str(whole)
    digits = len(str(unit)) - 1
    return f"{whole}.{str(frac).rjust(digits, '0').rstrip('0')}"


def decode_duration(data: bytes, where: str) -> str:
    nanos = 0
    for number, wire, value in iter_fields(data):
        if number == 1:
            if wire != VARINT or not isinstance(value, int):
                raise ProtobufError(f"{where}: duration is not a varint")
            nanos = to_signed(value)
    return go_duration(nanos)


def decode_raw_json(data: bytes, where: str) -> Any:
    """RawExtension{raw=1} / FieldsV1{Raw=1}: the embedded bytes are JSON."""
    raw = b""
    for number, _wire, value in iter_fields(data):
        if number == 1 and isinstance(value, bytes):
            raw = value
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProtobufError(f"{where}: embedded object is not JSON ({exc})") from None


SPECIAL: dict[str, Callable[[bytes, str], Any]] = {
    TIME: decode_time,
    MICRO_TIME: decode_micro_time,
    QUANTITY: decode_quantity,
    INT_OR_STRING: decode_int_or_string,
    DURATION: decode_duration,
    RAW_EXTENSION: decode_raw_json,
    FIELDS_V1: decode_raw_json,
}


# ---- schema-driven decoding -------------------------------------------------------------


@dataclass
class _Context:
    unknown: list[str]


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def decode_message(data: bytes, type_name: str, path: str = "", unknown: list[str] | None = None) -> dict[str, Any]:
    """Protobuf bytes of message `type_name` → its JSON object."""
    ctx = _Context(unknown if unknown is not None else [])
    return _message(data, type_name, path, ctx)


def _message(data: bytes, type_name: str, path: str, ctx: _Context) -> dict[str, Any]:
    fields = SCHEMA[type_name]
    out: dict[str, Any] = {}
    for number, wire, value in iter_fields(data):
        spec = fields.get(number)
        if spec is None:
            ctx.unknown.append(f"{path or '<root>'}: field {number} of {type_name}")
            continue
        _field(out, spec, wire, value, path, ctx)
    return out


def _field(out: dict[str, Any], spec: Field, wire: int, value: int | bytes, path: str, ctx: _Context) -> None:
    where = path if spec.inline else _join(path, spec.name)
    if spec.repeated:
        _repeated(out, spec, wire, value, where, ctx)
    elif spec.kind == MAP:
        key, item = _map_entry(_bytes(value, wire, where), spec, where)
        out.setdefault(spec.name, {})[key] = item
    elif spec.kind == MESSAGE:
        _single_message(out, spec, _bytes(value, wire, where), where, ctx)
    else:
        decoded = _scalar(spec.kind, wire, value, where)
        if decoded in ("", 0) and not (spec.ptr or spec.always):
            return  # JSON omitempty: the zero value of a non-pointer field is not sent
        out[spec.name] = decoded


def _single_message(out: dict[str, Any], spec: Field, data: bytes, where: str, ctx: _Context) -> None:
    special = SPECIAL.get(spec.message)
    if special is None:
        decoded = _message(data, spec.message, where, ctx)
        if spec.inline:
            out.update(decoded)
        else:
            out[spec.name] = decoded
        return
    value = special(data, where)  # None: zero Time or empty RawExtension, which JSON writes as null
    if spec.message == INT_OR_STRING and value in (0, "") and not spec.ptr:
        return  # a zero IntOrString means "unset" to defaulting (e.g. Service targetPort)
    out[spec.name] = value


def _repeated(out: dict[str, Any], spec: Field, wire: int, value: int | bytes, where: str, ctx: _Context) -> None:
    items = out.setdefault(spec.name, [])
    at = f"{where}[{len(items)}]"
    if spec.kind == MESSAGE:
        data = _bytes(value, wire, at)
        special = SPECIAL.get(spec.message)
        items.append(special(data, at) if special else _message(data, spec.message, at, ctx))
    elif spec.kind in VARINT_KINDS and wire == LENGTH_DELIMITED and isinstance(value, bytes):
        items.extend(_scalar(spec.kind, VARINT, v, at) for v in packed_varints(value))
    else:
        items.append(_scalar(spec.kind, wire, value, at))


def _map_entry(data: bytes, spec: Field, where: str) -> tuple[str, Any]:
    key = ""
    item: Any = None
    for number, wire, value in iter_fields(data):
        if number == 1:
            key = utf8(_bytes(value, wire, where), where)
        elif number == 2:
            raw = _bytes(value, wire, f"{where}[{key}]")
            if spec.message == STRING:
                item = utf8(raw, where)
            elif spec.message == BYTES:
                item = base64.b64encode(raw).decode()
            else:
                item = SPECIAL[spec.message](raw, f"{where}[{key}]")
    if item is None:
        item = "" if spec.message in (STRING, BYTES) else SPECIAL[spec.message](b"", where)
    return key, item


def _bytes(value: int | bytes, wire: int, where: str) -> bytes:
    if wire != LENGTH_DELIMITED or not isinstance(value, bytes):
        raise ProtobufError(f"{where}: expected a length-delimited field, got {_WIRE_NAMES.get(wire, wire)}")
    return value


def _scalar(kind: str, wire: int, value: int | bytes, where: str) -> Any:
    if kind == STRING:
        return utf8(_bytes(value, wire, where), where)
    if kind == BYTES:
        return base64.b64encode(_bytes(value, wire, where)).decode()
    if wire != VARINT or not isinstance(value, int):
        raise ProtobufError(f"{where}: expected a varint, got {_WIRE_NAMES.get(wire, wire)}")
    if kind == BOOL:
        return value != 0
    if kind == INT32:
        return to_signed(value, 32)
    if kind == INT64:
        return to_signed(value)
    raise ProtobufError(f"{where}: unsupported field kind {kind}")


# ---- the runtime.Unknown envelope -------------------------------------------------------


@dataclass
class Envelope:
    api_version: str
    kind: str
    raw: bytes
    content_encoding: str = ""
    content_type: str = ""


def parse_envelope(body: bytes) -> Envelope:
    """`k8s\\x00` + runtime.Unknown{typeMeta=1{apiVersion=1, kind=2}, raw=2, contentEncoding=3, contentType=4}."""
    if not body.startswith(MAGIC):
        raise ProtobufError("missing the k8s\\x00 protobuf prefix")
    env = Envelope("", "", b"")
    for number, wire, value in iter_fields(body[len(MAGIC):]):
        if number == 1:
            for sub, sub_wire, sub_value in iter_fields(_bytes(value, wire, "typeMeta")):
                if sub == 1:
                    env.api_version = utf8(_bytes(sub_value, sub_wire, "typeMeta.apiVersion"), "apiVersion")
                elif sub == 2:
                    env.kind = utf8(_bytes(sub_value, sub_wire, "typeMeta.kind"), "kind")
        elif number == 2:
            env.raw = _bytes(value, wire, "raw")
        elif number == 3:
            env.content_encoding = utf8(_bytes(value, wire, "contentEncoding"), "contentEncoding")
        elif number == 4:
            env.content_type = utf8(_bytes(value, wire, "contentType"), "contentType")
    return env


def message_for(api_version: str, kind: str) -> str:
    """The table that decodes (apiVersion, kind); raises UnsupportedProtobuf if there is none."""
    name = TOP_LEVEL.get((api_version, kind)) or OPTIONS_KINDS.get(kind)
    if name is None:
        raise UnsupportedProtobuf(f"this server cannot decode protobuf for {api_version or '<no apiVersion>'}, "
                                  f"Kind={kind or '<no kind>'}; send it as application/json")
    return name


def decode_object(body: bytes, strict: bool = True) -> DecodedObject:
    """A protobuf request body → the object as JSON would carry it, with apiVersion and kind set."""
    env = parse_envelope(body)
    if env.content_encoding:
        raise UnsupportedProtobuf(f"protobuf content encoding {env.content_encoding!r} is not supported")
    if env.content_type not in ("", CONTENT_TYPE):
        if env.content_type != "application/json":
            raise UnsupportedProtobuf(f"runtime.Unknown payload of type {env.content_type!r} is not supported")
        try:
            return DecodedObject(orjson.loads(env.raw))
        except orjson.JSONDecodeError as exc:
            raise ProtobufError(f"embedded JSON object: {exc}") from None
    name = message_for(env.api_version, env.kind)
    unknown: list[str] = []
    obj = decode_message(env.raw, name, "", unknown)
    if strict and unknown:
        raise UnsupportedProtobuf(f"protobuf fields this server does not know: {'; '.join(unknown)}; "
                                  "send the object as application/json instead")
    head = {"apiVersion": env.api_version, "kind": env.kind} if env.api_version or env.kind else {}
    return DecodedObject({**head, **obj}, unknown)
