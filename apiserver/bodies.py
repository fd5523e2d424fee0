"""Request bodies: read, bounded and decoded so that no client input can fail as a 500 or stall
the event loop.

Kubernetes decodes JSON and YAML with nesting limits (10000 levels); Python's parsers recurse,
and PyYAML would spend seconds of event-loop CPU on a 100,000-deep document before a
RecursionError. So nesting is measured before parsing (a linear scan) and held to what this
server can also encode and store; large bodies are parsed off the event loop; text that
is not valid UTF-8 (a lone surrogate escape) is replaced by U+FFFD as Go's decoders do.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import orjson
import yaml
from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from apimachinery import errors, protobuf
from apimachinery.errors import StatusError

JSON = "application/json"
MAX_BODY_BYTES = 3 * 1024 * 1024
# orjson encodes at most 255 levels and every stored object is encoded; a body deeper than
# that could be accepted and then fail to store, so it is refused up front.
MAX_DEPTH = 200
THREAD_THRESHOLD = 64 * 1024  # bodies larger than this are parsed in a worker thread
_OPENERS = re.compile(rb"[\[{]")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
# libyaml, when PyYAML has it, is fast and stops at its own nesting limit within microseconds.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


async def read_body(request: web.Request) -> Any:
    """The decoded body, or None when it is empty; a 4xx Status for anything undecodable."""
    raw = await read_raw(request)
    if not raw.strip():
        return None
    content_type = request.headers.get("Content-Type", JSON).split(";")[0].strip()
    if content_type == protobuf.CONTENT_TYPE:
        return decode_protobuf_body(raw)
    if len(raw) > THREAD_THRESHOLD:
        return await asyncio.to_thread(decode_text_body, raw, content_type)
    return decode_text_body(raw, content_type)


async def read_object(request: web.Request) -> dict[str, Any] | None:
    """A body that must be one JSON object (a Binding, a Namespace to finalize, a review)."""
    body = await read_body(request)
    if body is not None and not isinstance(body, dict):
        raise errors.bad_request("the body of the request was in an unknown format")
    return body


async def read_raw(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise errors.too_large()
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise errors.too_large() from None
    except RequestPayloadError as exc:  # a Content-Encoding that does not decode
        raise errors.bad_request(f"the request body could not be read: {_first_line(exc)}") from None
    if len(raw) > MAX_BODY_BYTES:
        raise errors.too_large()
    return raw


def decode_text_body(raw: bytes, content_type: str) -> Any:
    """JSON, or YAML when the content type says so; nesting checked before parsing."""
    is_yaml = "yaml" in content_type
    check_depth(raw, "yaml" if is_yaml else "json")
    try:
        if not is_yaml:
            return orjson.loads(raw)  # orjson stops at its own depth limit, below ours
        document = yaml.load(raw, Loader=YAML_LOADER)  # noqa: S506 - a safe loader
    except (orjson.JSONDecodeError, yaml.YAMLError, UnicodeError, RecursionError) as exc:
        raise errors.bad_request(f"couldn't get version/kind; json parse error: {_first_line(exc)}") from None
    # Block-style YAML (`- - - x`, deep indentation) nests without brackets.
    if nesting_depth(document) > MAX_DEPTH:
        raise errors.bad_request(f"yaml: exceeded max depth of {MAX_DEPTH}")
    return replace_lone_surrogates(document)


def nesting_depth(value: Any) -> int:
    """How deeply lists and maps nest (iteratively: the value may be deeper than the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def check_depth(raw: bytes, syntax: str) -> None:
    """Refuse documents nested deeper than MAX_DEPTH. Brackets inside strings are counted too,
    which can only over-estimate; a real object is nowhere near the limit either way."""
    if len(_OPENERS.findall(raw)) <= MAX_DEPTH:
        return
    depth = deepest = 0
    for byte in raw:
        if byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif byte in b"]}" and depth:
            depth -= 1
    if deepest > MAX_DEPTH:
        raise errors.bad_request(f"{syntax}: exceeded max depth of {MAX_DEPTH}")


def replace_lone_surrogates(value: Any) -> Any:
    """Strings that cannot be UTF-8 get U+FFFD in place of each lone surrogate (as Go does)."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value) if _LONE_SURROGATE.search(value) else value
    if isinstance(value, list):
        return [replace_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {replace_lone_surrogates(k): replace_lone_surrogates(v) for k, v in value.items()}
    return value


def decode_protobuf_body(raw: bytes) -> dict[str, Any]:
    """Typed-clientset bodies (kubectl create deployment|namespace|job|service ...) are protobuf;
    decode them to the JSON dict, or refuse clearly: 400 if malformed, 415 if not decodable."""
    try:
        return protobuf.decode_object(raw, strict=True).obj
    except protobuf.UnsupportedProtobuf as exc:
        raise StatusError(415, "UnsupportedMediaType", str(exc)) from None
    except protobuf.ProtobufError as exc:
        raise errors.bad_request(f"the body of the request could not be decoded as protobuf: {exc}") from None


def metadata_of(body: Any) -> dict[str, Any]:
    """A body's metadata when it is an object, else {} (a patch body may carry anything there)."""
    meta = body.get("metadata") if isinstance(body, dict) else None
    return meta if isinstance(meta, dict) else {}


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines) or exc.__class__.__name__
