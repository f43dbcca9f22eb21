"""Reading requests: which resource a path names, the body, and the response format.

Pure except :func:`read_body` (which reads the aiohttp request). Every malformed input
becomes a 4xx :class:`~kybernetes.apiserver._errors.APIError`, never an exception of
another kind.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import orjson
import yaml
from aiohttp import web

from kybernetes.api import Registry, ResourceInfo
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver import _nesting as nesting

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH)


# -- which resource ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    info: ResourceInfo
    #: The namespace in the path; None for cluster-scoped resources and all-namespace lists.
    namespace: str | None
    name: str = ""
    subresource: str = ""
    #: The legacy ``/watch/`` path prefix was used.
    watch: bool = False


def not_found_path() -> errors.APIError:
    return errors.APIError(404, "NotFound", "the server could not find the requested resource")


def parse_target(registry: Registry, group: str, version: str, path: str) -> Target:
    """The target of ``/api/v1/{path}`` or ``/apis/{group}/{version}/{path}``."""
    segments = path.split("/") if path else []
    if any(s == "" for s in segments):
        segments = [s for s in segments if s]
    watch = bool(segments) and segments[0] == "watch"
    if watch:
        segments = segments[1:]
    if not segments:
        raise not_found_path()
    namespace: str | None = None
    if segments[0] == "namespaces" and len(segments) >= 3:
        ns_info = registry.get(group, version, "namespaces")
        is_ns_subresource = (
            ns_info is not None and len(segments) == 3 and segments[2] in ns_info.subresources
        )
        if not is_ns_subresource:
            namespace, segments = segments[1], segments[2:]
    if len(segments) > 3:
        raise not_found_path()
    info = registry.get(group, version, segments[0])
    if info is None:
        raise not_found_path()
    name = segments[1] if len(segments) > 1 else ""
    subresource = segments[2] if len(segments) > 2 else ""
    if namespace is not None and not info.namespaced:
        raise not_found_path()
    if info.namespaced and name and namespace is None:
        raise not_found_path()
    if subresource and subresource not in info.subresources:
        raise not_found_path()
    if watch and subresource:
        raise not_found_path()
    return Target(info, namespace, name, subresource, watch)


# -- the body ---------------------------------------------------------------------------------


def media_type(header: str | None) -> str:
    """The bare media type of a Content-Type header, lower-cased ("" when absent)."""
    return (header or "").split(";", 1)[0].strip().lower()


async def read_body(request: web.Request, limit: int = errors.MAX_REQUEST_BODY) -> bytes:
    """The whole body; 413 beyond ``limit`` (checked before reading when announced)."""
    length = request.content_length
    if length is not None and length > limit:
        raise errors.request_entity_too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(256 * 1024)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise errors.request_entity_too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


class _YamlLoader(yaml.SafeLoader):
    """YAML as JSON sees it: timestamps stay strings (what sigs.k8s.io/yaml does)."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _jsonable(value: Any) -> bool:
    """YAML can hold what JSON cannot (binary, sets, non-string keys): refuse those."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _jsonable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_jsonable(v) for v in value)
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    return value is None or isinstance(value, str | int | bool)


def decode(raw: bytes, content_type: str) -> Any:
    """Decode a JSON (default) or YAML body; 400 with the parser's complaint if malformed."""
    if content_type in (YAML, "application/x-yaml", "text/yaml"):
        try:
            value = yaml.load(raw, Loader=_YamlLoader)
        except yaml.YAMLError as e:
            raise errors.bad_request(f"error converting YAML to JSON: yaml: {e}") from None
        except RecursionError:  # the pure-Python composer recurses once per level
            raise nesting.too_deep() from None
        nesting.check_value(value, raw, aliases=True)
        if not _jsonable(value):
            raise errors.bad_request("error converting YAML to JSON: not representable as JSON")
        return value
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        if not raw.strip():
            raise errors.bad_request("the request body is empty") from None
        raise errors.bad_request(f"couldn't get version/kind; json parse error: {e}") from None
    nesting.check_value(value, raw)
    return value


def decode_object(raw: bytes, content_type: str) -> dict[str, Any]:
    """A body that must be one object (create, update); 415 for media types we lack."""
    if content_type == PROTOBUF:
        raise errors.unsupported_media_type(content_type, (JSON, YAML))
    if content_type not in ("", JSON, YAML, "application/x-yaml", "text/yaml", "*/*"):
        raise errors.unsupported_media_type(content_type, (JSON, YAML))
    value = decode(raw, content_type)
    if not isinstance(value, dict):
        raise errors.bad_request(
            "couldn't get version/kind; json parse error: the body is not a JSON object"
        )
    return value


def check_kind(obj: dict[str, Any], kind: str, api_version: str) -> None:
    """Fill in kind/apiVersion when absent (both), refuse them when they name another type."""
    have_kind, have_version = obj.get("kind"), obj.get("apiVersion")
    if have_kind in (None, "") and have_version in (None, ""):
        obj["kind"], obj["apiVersion"] = kind, api_version
        return
    if have_kind != kind:
        if have_kind in (None, ""):
            raise errors.bad_request(f"Object 'Kind' is missing in the request body ({kind})")
        raise errors.bad_request(
            f"the kind in the body ({have_kind}) does not match the kind of the resource "
            f"in the URL ({kind})"
        )
    if have_version != api_version:
        if have_version in (None, ""):
            obj["apiVersion"] = api_version
            return
        raise errors.bad_request(
            f"the API version in the data ({have_version}) does not match the expected API "
            f"version ({api_version})"
        )


def check_identity(obj: dict[str, Any], target: Target) -> None:
    """400 unless ``obj`` (a patched object) still has the name and namespace of the URL,
    as upstream checks after applying a patch: a patch cannot rename or move an object."""
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    name = meta.get("name")
    if name != target.name:
        shown = name if isinstance(name, str) else ""
        raise errors.bad_request(
            f"the name of the object ({shown}) does not match the name on the URL ({target.name})"
        )
    namespace = meta.get("namespace")
    if target.namespace and namespace and namespace != target.namespace:
        raise errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )


# -- the response format ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Output:
    """How to render: plain objects as JSON or YAML, or a ``meta.k8s.io`` Table, or only
    their metadata (``partial``: PartialObjectMetadata or PartialObjectMetadataList, see
    ``_partial``)."""

    table: str = ""  # "", "v1" or "v1beta1"
    yaml: bool = False
    partial: str = ""
    partial_version: str = ""


OUTPUT_JSON = Output()


def _ranges(accept: str) -> list[tuple[str, dict[str, str], float]]:
    out = []
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        params: dict[str, str] = {}
        q = 1.0
        for p in pieces[1:]:
            key, _, value = p.partition("=")
            key, value = key.strip().lower(), value.strip().strip('"')
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
            else:
                params[key] = value
        out.append((media, params, q))
    return out


def negotiate(accept: str | None, *, table_allowed: bool = True) -> Output:
    """The best representation ``accept`` allows; 406 when it allows none we speak."""
    if not accept:
        return OUTPUT_JSON
    return _negotiate(accept, table_allowed)


@functools.lru_cache(maxsize=256)
def _negotiate(accept: str, table_allowed: bool) -> Output:
    # Clients send a handful of distinct headers over and over: parse each once.
    for media, params, q in sorted(_ranges(accept), key=lambda r: -r[2]):
        if q <= 0:
            continue
        if "as" in params:
            meta_type = (
                media == JSON
                and params.get("g") == "meta.k8s.io"
                and params.get("v") in ("v1", "v1beta1")
            )
            if meta_type and table_allowed:
                if params.get("as") == "Table":
                    return Output(table=params["v"])
                if params.get("as") in ("PartialObjectMetadata", "PartialObjectMetadataList"):
                    return Output(partial=params["as"], partial_version=params["v"])
            continue
        if media in (JSON, "application/*", "*/*"):
            return OUTPUT_JSON
        if media == YAML:
            return Output(yaml=True)
    raise errors.not_acceptable((JSON, YAML, f"{JSON};as=Table;v=v1;g=meta.k8s.io"))
