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
from tests.integration.apiserver._bad_input_cases import (
    ALIAS_BOMB,
    BODIES,
    DELETE_BODIES,
    JSON,
    LIMIT,
    MERGE,
    PATCHES,
    PATHS,
    QUERIES,
    YAML,
)
from tests.integration.apiserver.conftest import Cluster


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
    conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=60)
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
    conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=30)
    try:
        conn.request("GET", f"/api/v1/watch/namespaces/{stored.ns}/configmaps/cm?timeoutSeconds=1")
        response = conn.getresponse()
        assert response.status == 200
        events = [json.loads(line) for line in response.read().splitlines() if line.strip()]
    finally:
        conn.close()
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "cm")]


def test_a_scale_patch_cannot_rename_the_workload(cluster: Cluster, ns: str) -> None:
    labels = {"app": "d"}
    deployment = {
        "metadata": {"name": "d"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }
    path = f"/apis/apps/v1/namespaces/{ns}/deployments"
    assert call(cluster, "POST", path, json.dumps(deployment).encode(), JSON).status == 201
    before = call(cluster, "GET", f"{path}/d").doc
    body = b'{"metadata":{"name":"zz"},"spec":{"replicas":3}}'
    reply = call(cluster, "PATCH", f"{path}/d/scale", body, MERGE)
    assert_status(reply, 400, "BadRequest", "does not match the name on the URL (d)")
    reply = call(cluster, "PATCH", f"{path}/d/scale", b'{"spec":{"replicas":"3"}}', MERGE)
    assert_status(reply, 422, "Invalid", "spec.replicas")
    assert call(cluster, "GET", f"{path}/d").doc == before
