"""Bad input over raw HTTP: the right 4xx Status, and nothing stored changes.

Every case is aimed at a stored ConfigMap (or its collection) in a namespace of the test's
own. Afterwards the ConfigMap is read back and must be exactly as before, its
resourceVersion included, and the collection must hold nothing new. Cases cover malformed
bodies of every media type, bodies of the wrong shape or kind, oversized and overly nested
bodies, invalid UTF-8, YAML alias bombs, patches of the wrong type, invalid query
parameters (selectors, resourceVersion, limit, timeouts, delete options), unknown paths and
unsupported verbs. The server must also survive each (a later request still works).
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from tests.integration.apiserver.conftest import Cluster

JSON = "application/json"
YAML = "application/yaml"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
LIMIT = 3 * 1024 * 1024


@dataclass
class Reply:
    status: int
    doc: Any
    headers: http.client.HTTPMessage


def call(
    cluster: Cluster,
    method: str,
    path: str,
    body: bytes | Iterator[bytes] | None = None,
    content_type: str = "",
    *,
    chunked: bool = False,
) -> Reply:
    parsed = urllib.parse.urlsplit(cluster.url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    headers = {"Content-Type": content_type} if content_type else {}
    try:
        try:
            conn.request(method, path, body=body, headers=headers, encode_chunked=chunked)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered before reading it all (413): read that answer
        response = conn.getresponse()
        raw = response.read()
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = raw.decode(errors="replace")
        return Reply(response.status, doc, response.headers)
    finally:
        conn.close()


@dataclass
class Stored:
    ns: str
    collection: str
    path: str
    obj: dict[str, Any]


@pytest.fixture
def stored(cluster: Cluster, ns: str) -> Stored:
    collection = f"/api/v1/namespaces/{ns}/configmaps"
    body = {"metadata": {"name": "cm", "labels": {"app": "x"}}, "data": {"k": "v"}}
    made = call(cluster, "POST", collection, json.dumps(body).encode(), JSON)
    assert made.status == 201, made.doc
    path = f"{collection}/cm"
    return Stored(ns, collection, path, call(cluster, "GET", path).doc)


def assert_unchanged(cluster: Cluster, stored: Stored) -> None:
    now = call(cluster, "GET", stored.path)
    assert now.status == 200, now.doc
    assert now.doc == stored.obj  # resourceVersion included: nothing was written
    listed = call(cluster, "GET", stored.collection)
    assert [item["metadata"]["name"] for item in listed.doc["items"]] == ["cm"]


def assert_status(reply: Reply, code: int, reason: str, text: str = "") -> None:
    doc = reply.doc
    assert reply.status == code, doc
    assert isinstance(doc, dict), doc
    assert (doc["kind"], doc["apiVersion"], doc["status"]) == ("Status", "v1", "Failure")
    assert (doc["code"], doc["reason"]) == (code, reason), doc
    assert text in doc["message"], doc["message"]


def nested(depth: int) -> bytes:
    return b'{"metadata":{"name":"cm"},"data":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"


# One manifest per wrong shape; "{obj}" / "{coll}" stand for the object and collection path.
BODIES: list[tuple[str, str, str, bytes, str, int, str, str]] = [
    ("malformed json", "PUT", "{obj}", b"{not json", JSON, 400, "BadRequest", "json parse"),
    ("malformed yaml", "PUT", "{obj}", b"kind: [Con\nx: y", YAML, 400, "BadRequest", "yaml"),
    ("json array", "POST", "{coll}", b"[1, 2]", JSON, 400, "BadRequest", "not a JSON object"),
    ("json string", "POST", "{coll}", b'"cm"', JSON, 400, "BadRequest", "not a JSON object"),
    ("json number", "PUT", "{obj}", b"42", JSON, 400, "BadRequest", "not a JSON object"),
    ("json null", "PUT", "{obj}", b"null", JSON, 400, "BadRequest", "not a JSON object"),
    ("yaml scalar", "PUT", "{obj}", b"just text", YAML, 400, "BadRequest", "not a JSON object"),
    ("empty body", "PUT", "{obj}", b"", JSON, 400, "BadRequest", "empty"),
    (
        "wrong kind",
        "PUT",
        "{obj}",
        b'{"apiVersion":"v1","kind":"Secret","metadata":{"name":"cm"}}',
        JSON,
        400,
        "BadRequest",
        "does not match the kind",
    ),
    (
        "wrong apiVersion",
        "PUT",
        "{obj}",
        b'{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"cm"}}',
        JSON,
        400,
        "BadRequest",
        "does not match the expected API version",
    ),
    (
        "a pod posted to configmaps",
        "POST",
        "{coll}",
        b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}',
        JSON,
        400,
        "BadRequest",
        "does not match",
    ),
    (
        "name mismatch",
        "PUT",
        "{obj}",
        b'{"metadata":{"name":"other"},"data":{"k":"changed"}}',
        JSON,
        400,
        "BadRequest",
        "the name of the object (other) does not match the name on the URL (cm)",
    ),
    (
        "namespace mismatch",
        "PUT",
        "{obj}",
        b'{"metadata":{"name":"cm","namespace":"elsewhere"},"data":{"k":"changed"}}',
        JSON,
        400,
        "BadRequest",
        "namespace of the provided object does not match",
    ),
    (
        "metadata is not an object",
        "PUT",
        "{obj}",
        b'{"metadata":5,"data":{"k":"changed"}}',
        JSON,
        422,
        "Invalid",
        "metadata",
    ),
    (
        "a field of the wrong type",
        "PUT",
        "{obj}",
        b'{"metadata":{"name":"cm"},"data":{"k":1}}',
        JSON,
        422,
        "Invalid",
        "data.k",
    ),
    (
        "protobuf",
        "PUT",
        "{obj}",
        b"k8s\x00",
        "application/vnd.kubernetes.protobuf",
        415,
        "UnsupportedMediaType",
        "",
    ),
    (
        "3 MiB + 1",
        "PUT",
        "{obj}",
        b" " * (LIMIT + 1),
        JSON,
        413,
        "RequestEntityTooLarge",
        "3145728",
    ),
    ("json 10,000 deep", "PUT", "{obj}", nested(10_000), JSON, 400, "BadRequest", "depth"),
    ("json 150 deep", "PUT", "{obj}", nested(150), JSON, 400, "BadRequest", "levels deep"),
    (
        "yaml 10,000 deep",
        "PUT",
        "{obj}",
        b"metadata: {name: cm}\ndata: " + b"[" * 10_000 + b"]" * 10_000,
        YAML,
        400,
        "BadRequest",
        "levels deep",
    ),
    (
        "invalid utf-8 json",
        "PUT",
        "{obj}",
        b'{"metadata":{"name":"cm"},"data":{"k":"\xff\xfe"}}',
        JSON,
        400,
        "BadRequest",
        "UTF-8",
    ),
    (
        "invalid utf-8 yaml",
        "PUT",
        "{obj}",
        b"metadata:\n  name: cm\ndata:\n  k: \xff\xfe\n",
        YAML,
        400,
        "BadRequest",
        "yaml",
    ),
    (
        "many invalid labels",
        "PUT",
        "{obj}",
        json.dumps(
            {"metadata": {"name": "cm", "labels": {f"bad key {i}": "v" for i in range(2000)}}}
        ).encode(),
        JSON,
        422,
        "Invalid",
        "metadata.labels",
    ),
    (
        "labels beyond the body limit",
        "PUT",
        "{obj}",
        json.dumps(
            {"metadata": {"name": "cm", "labels": {f"k{i}": "v" * 40 for i in range(70_000)}}}
        ).encode(),
        JSON,
        413,
        "RequestEntityTooLarge",
        "",
    ),
]

ALIAS_BOMB = "\n".join(
    ["metadata: {name: cm}", 'a: &a ["x","x","x","x","x","x","x","x","x"]']
    + [
        f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]"
        for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
    ]
).encode()

PATCHES: list[tuple[str, str, bytes, int, str, str]] = [
    ("json patch as object", JSON_PATCH, b"{}", 400, "BadRequest", "jsonpatch.Patch"),
    ("json patch as string", JSON_PATCH, b'"x"', 400, "BadRequest", ""),
    ("json patch item not an object", JSON_PATCH, b"[1]", 400, "BadRequest", ""),
    ("json patch unknown op", JSON_PATCH, b'[{"op":"frob","path":"/x"}]', 422, "Invalid", "frob"),
    ("merge patch as array", MERGE, b"[]", 400, "BadRequest", "not a JSON object"),
    ("strategic patch as string", STRATEGIC, b'"x"', 400, "BadRequest", "not a JSON object"),
    ("strategic patch as number", STRATEGIC, b"12", 400, "BadRequest", "not a JSON object"),
    ("merge patch malformed", MERGE, b"{", 400, "BadRequest", "error decoding patch"),
    ("merge patch 10,000 deep", MERGE, nested(10_000), 400, "BadRequest", "depth"),
    ("merge patch 150 deep", MERGE, nested(150), 400, "BadRequest", "levels deep"),
    ("patch as application/json", JSON, b"{}", 415, "UnsupportedMediaType", ""),
    (
        "patch renames the object",
        MERGE,
        b'{"metadata":{"name":"other"}}',
        400,
        "BadRequest",
        "does not match the name on the URL",
    ),
    ("patch changes the kind", MERGE, b'{"kind":"Secret"}', 400, "BadRequest", "kind"),
    ("patch sets a wrong type", MERGE, b'{"data":{"k":1}}', 422, "Invalid", "data.k"),
    ("patch makes metadata a string", MERGE, b'{"metadata":"x"}', 422, "Invalid", "metadata"),
    ("apply an array", APPLY, b"[]", 400, "BadRequest", "not a YAML or JSON object"),
    (
        "apply another kind",
        APPLY,
        b'{"apiVersion":"v1","kind":"Secret","metadata":{"name":"cm"}}',
        400,
        "BadRequest",
        "Secret",
    ),
    (
        "apply with another name",
        APPLY,
        b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"zz"}}',
        400,
        "BadRequest",
        "does not match the name",
    ),
    (
        "apply 200,000-deep flow yaml",
        APPLY,
        b"apiVersion: v1\nkind: ConfigMap\ndata: " + b"[" * 200_000 + b"]" * 200_000,
        400,
        "BadRequest",
        "levels deep",
    ),
    ("apply an alias bomb", APPLY, ALIAS_BOMB, 400, "BadRequest", "excessive aliasing"),
]

BIG = str(2**70)
QUERIES: list[tuple[str, str, str, int, str, str]] = [
    ("GET", "{coll}", "labelSelector=a%20in%20(b", 400, "BadRequest", "unable to parse"),
    ("GET", "{coll}", "labelSelector=!!", 400, "BadRequest", "unable to parse"),
    ("GET", "{coll}", "fieldSelector=spec.foo%3Dx", 400, "BadRequest", "not a known field"),
    ("GET", "{coll}", "fieldSelector=metadata.name%3D%3Da%3Db", 400, "BadRequest", "field"),
    ("GET", "{coll}", "resourceVersion=abc", 400, "BadRequest", "invalid resource version"),
    ("GET", "{coll}", "resourceVersion=-1", 400, "BadRequest", "invalid resource version"),
    ("GET", "{coll}", f"resourceVersion={BIG}", 400, "BadRequest", "invalid resource version"),
    ("GET", "{obj}", "resourceVersion=abc", 400, "BadRequest", "invalid resource version"),
    ("GET", "{coll}", "watch=true&resourceVersion=x1", 400, "BadRequest", "resource version"),
    ("GET", "{coll}", "resourceVersion=1&resourceVersionMatch=Bogus", 422, "Invalid", "Bogus"),
    ("GET", "{coll}", "limit=abc", 400, "BadRequest", "limit"),
    ("GET", "{coll}", "limit=1e3", 400, "BadRequest", "limit"),
    ("GET", "{coll}", f"limit={BIG}", 400, "BadRequest", "out of range"),
    ("GET", "{coll}", "timeoutSeconds=abc", 400, "BadRequest", "timeoutSeconds"),
    ("GET", "{coll}", f"timeoutSeconds={BIG}", 400, "BadRequest", "out of range"),
    ("GET", "{coll}", "limit=1&continue=garbage", 400, "BadRequest", "continue"),
    ("GET", "{coll}", "watch=maybe", 400, "BadRequest", "watch"),
    ("DELETE", "{obj}", "gracePeriodSeconds=abc", 400, "BadRequest", "gracePeriodSeconds"),
    ("DELETE", "{obj}", "gracePeriodSeconds=1.5", 400, "BadRequest", "gracePeriodSeconds"),
    ("DELETE", "{obj}", f"gracePeriodSeconds={BIG}", 400, "BadRequest", "out of range"),
    ("DELETE", "{obj}", "propagationPolicy=Sideways", 422, "Invalid", "Sideways"),
    ("DELETE", "{obj}", "orphanDependents=true&propagationPolicy=Orphan", 422, "Invalid", ""),
    ("DELETE", "{obj}", "orphanDependents=maybe", 400, "BadRequest", "orphanDependents"),
    ("DELETE", "{obj}", "dryRun=Bogus", 400, "BadRequest", "dryRun"),
    ("DELETE", "{coll}", "labelSelector=a%20in%20(b", 400, "BadRequest", "unable to parse"),
    ("DELETE", "{coll}", "gracePeriodSeconds=abc", 400, "BadRequest", "gracePeriodSeconds"),
    ("PUT", "{obj}", "fieldValidation=Bogus", 400, "BadRequest", "fieldValidation"),
    ("PUT", "{obj}", "dryRun=Bogus", 400, "BadRequest", "dryRun"),
    ("PUT", "{obj}", "fieldManager=" + "m" * 200, 422, "Invalid", "fieldManager"),
]

DELETE_BODIES: list[tuple[str, bytes, int, str, str]] = [
    ("an array", b"[]", 400, "BadRequest", "DeleteOptions"),
    ("another kind", b'{"kind":"Pod"}', 400, "BadRequest", "DeleteOptions"),
    ("malformed", b"{oops", 400, "BadRequest", "json parse"),
    ("grace as a string", b'{"gracePeriodSeconds":"x"}', 400, "BadRequest", "gracePeriodSeconds"),
    ("policy as a number", b'{"propagationPolicy":5}', 400, "BadRequest", "propagationPolicy"),
    ("precondition uid as a number", b'{"preconditions":{"uid":5}}', 400, "BadRequest", "uid"),
    ("another uid", b'{"preconditions":{"uid":"nope"}}', 409, "Conflict", "Precondition failed"),
    ("a stale version", b'{"preconditions":{"resourceVersion":"1"}}', 409, "Conflict", ""),
]

PATHS: list[tuple[str, str, int, str]] = [
    ("GET", "/api/v1/foos", 404, "NotFound"),
    ("GET", "/api/v1/namespaces/{ns}/foos", 404, "NotFound"),
    ("GET", "/apis/nope.example.com/v1/things", 404, "NotFound"),
    ("GET", "/apis/apps/v9/deployments", 404, "NotFound"),
    ("GET", "/api/v2/pods", 404, "NotFound"),
    ("GET", "{obj}/bogus", 404, "NotFound"),
    ("GET", "/api/v1/namespaces/a%0Ab/configmaps", 404, "NotFound"),
    ("PUT", "{obj}%0A", 404, "NotFound"),
    ("GET", "/nothing/at/all", 404, "NotFound"),
    ("PUT", "{coll}", 405, "MethodNotAllowed"),
    ("PATCH", "{coll}", 405, "MethodNotAllowed"),
    ("POST", "{obj}", 405, "MethodNotAllowed"),
    ("DELETE", "/api/v1/namespaces", 405, "MethodNotAllowed"),
    ("TRACE", "{obj}", 405, "MethodNotAllowed"),
    ("PUT", "/api/v1/watch/namespaces/{ns}/configmaps/cm", 405, "MethodNotAllowed"),
    ("DELETE", "/api/v1/watch/namespaces/{ns}/configmaps", 405, "MethodNotAllowed"),
]


def _where(template: str, stored: Stored) -> str:
    return template.format(obj=stored.path, coll=stored.collection, ns=stored.ns)


@pytest.mark.parametrize(
    ("method", "where", "body", "content_type", "code", "reason", "text"),
    [case[1:] for case in BODIES],
    ids=[case[0] for case in BODIES],
)
def test_bad_bodies(
    cluster: Cluster,
    stored: Stored,
    method: str,
    where: str,
    body: bytes,
    content_type: str,
    code: int,
    reason: str,
    text: str,
) -> None:
    reply = call(cluster, method, _where(where, stored), body, content_type)
    assert_status(reply, code, reason, text)
    assert_unchanged(cluster, stored)


def test_a_chunked_body_beyond_the_limit_is_413(cluster: Cluster, stored: Stored) -> None:
    # No Content-Length: the limit is enforced while reading.
    chunks = (b" " * (256 * 1024) for _ in range(LIMIT // (256 * 1024) + 1))
    reply = call(cluster, "PUT", stored.path, chunks, JSON, chunked=True)
    assert_status(reply, 413, "RequestEntityTooLarge", "3145728")
    assert_unchanged(cluster, stored)


def test_a_yaml_alias_bomb_is_refused(cluster: Cluster, stored: Stored) -> None:
    reply = call(cluster, "PUT", stored.path, ALIAS_BOMB, YAML)
    assert_status(reply, 400, "BadRequest", "excessive aliasing")
    assert_unchanged(cluster, stored)


@pytest.mark.parametrize(
    ("content_type", "body", "code", "reason", "text"),
    [case[1:] for case in PATCHES],
    ids=[case[0] for case in PATCHES],
)
def test_bad_patches(
    cluster: Cluster,
    stored: Stored,
    content_type: str,
    body: bytes,
    code: int,
    reason: str,
    text: str,
) -> None:
    reply = call(cluster, "PATCH", stored.path + "?fieldManager=t", body, content_type)
    assert_status(reply, code, reason, text)
    assert_unchanged(cluster, stored)


@pytest.mark.parametrize(
    ("method", "where", "query", "code", "reason", "text"),
    QUERIES,
    ids=[f"{q[0]} {q[1]} {q[2][:40]}" for q in QUERIES],
)
def test_bad_query_parameters(
    cluster: Cluster,
    stored: Stored,
    method: str,
    where: str,
    query: str,
    code: int,
    reason: str,
    text: str,
) -> None:
    body, content_type = None, ""
    if method == "PUT":
        body = json.dumps({"metadata": {"name": "cm"}, "data": {"k": "x"}}).encode()
        content_type = JSON
    reply = call(cluster, method, f"{_where(where, stored)}?{query}", body, content_type)
    assert_status(reply, code, reason, text)
    assert_unchanged(cluster, stored)


@pytest.mark.parametrize(
    ("body", "code", "reason", "text"),
    [case[1:] for case in DELETE_BODIES],
    ids=[case[0] for case in DELETE_BODIES],
)
def test_bad_delete_options(
    cluster: Cluster, stored: Stored, body: bytes, code: int, reason: str, text: str
) -> None:
    assert_status(call(cluster, "DELETE", stored.path, body, JSON), code, reason, text)
    assert_unchanged(cluster, stored)


@pytest.mark.parametrize(
    ("method", "where", "code", "reason"), PATHS, ids=[f"{p[0]} {p[1]}" for p in PATHS]
)
def test_unknown_paths_and_unsupported_verbs(
    cluster: Cluster, stored: Stored, method: str, where: str, code: int, reason: str
) -> None:
    body = b"{}" if method in ("PUT", "POST", "PATCH") else None
    content_type = MERGE if method == "PATCH" else JSON
    reply = call(cluster, method, _where(where, stored), body, content_type)
    assert_status(reply, code, reason)
    assert_unchanged(cluster, stored)


def test_control_characters_in_unknown_fields_do_not_break_the_response(
    cluster: Cluster, stored: Stored
) -> None:
    # The Warning header quoting the field once made aiohttp drop the connection.
    body = json.dumps({"bogus\r\nX-Injected: 1": 1}).encode()
    reply = call(cluster, "PATCH", stored.path, body, MERGE)
    assert reply.status == 200, reply.doc
    warnings = reply.headers.get_all("Warning") or []
    assert warnings == ['299 - "unknown field \\"bogus  X-Injected: 1\\""']
    assert reply.headers.get("X-Injected") is None
    assert_unchanged(cluster, stored)  # the unknown field was dropped: nothing to write


def test_a_long_selector_is_answered_by_the_api(cluster: Cluster, stored: Stored) -> None:
    # 20 KB of query: beyond aiohttp's default request line, within upstream's 1 MiB.
    selector = urllib.parse.quote(",".join(f"k{i}=v" for i in range(3000)))
    reply = call(cluster, "GET", f"{stored.collection}?labelSelector={selector}")
    assert reply.status == 200 and reply.doc["items"] == []
    reply = call(cluster, "GET", f"{stored.collection}?labelSelector={'a' * 20_000}")
    assert_status(reply, 400, "BadRequest", "unable to parse")


def test_watching_one_object_by_its_legacy_path(cluster: Cluster, stored: Stored) -> None:
    # /watch/.../{name} used to answer the plain object instead of a stream of events.
    other = {"metadata": {"name": "other"}}
    assert call(cluster, "POST", stored.collection, json.dumps(other).encode(), JSON).status == 201
    parsed = urllib.parse.urlsplit(cluster.url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        conn.request("GET", f"/api/v1/watch/namespaces/{stored.ns}/configmaps/cm?timeoutSeconds=1")
        response = conn.getresponse()
        assert response.status == 200
        events = [json.loads(line) for line in response.read().splitlines() if line.strip()]
    finally:
        conn.close()
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "cm")]
