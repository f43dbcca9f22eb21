"""The API over raw HTTP: bad input gets a clear 4xx Status, and watch streams behave."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from typing import Any

import pytest
from tests.integration.apiserver.conftest import Cluster

#: A small event window per resource, so a test can push a revision out of it.
WATCH_WINDOW = 20


def request(
    cluster: Cluster,
    method: str,
    path: str,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any, http.client.HTTPMessage]:
    parsed = urllib.parse.urlsplit(cluster.url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        raw = response.read()
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = raw.decode()
        return response.status, dict(response.headers), doc, response.headers
    finally:
        conn.close()


def create_cm(cluster: Cluster, ns: str, name: str, labels: dict[str, str] | None = None) -> Any:
    meta: dict[str, Any] = {"name": name}
    if labels:
        meta["labels"] = labels
    code, _, doc, _ = request(
        cluster,
        "POST",
        f"/api/v1/namespaces/{ns}/configmaps",
        json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}),
        {"Content-Type": "application/json"},
    )
    assert code == 201, doc
    return doc


def watch_lines(cluster: Cluster, path: str, count: int) -> list[dict[str, Any]]:
    """The first ``count`` events of a watch (the stream is closed afterwards)."""
    parsed = urllib.parse.urlsplit(cluster.url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        assert response.status == 200
        return [json.loads(response.readline()) for _ in range(count)]
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("body", "content_type", "code", "reason", "text"),
    [
        (b"{not json", "application/json", 400, "BadRequest", "json parse error"),
        (b"- a\n- b\n", "application/yaml", 400, "BadRequest", "not a JSON object"),
        (
            b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}}',
            "",
            400,
            "BadRequest",
            "does not match",
        ),
        (
            b"\x6b\x38\x73\x00",
            "application/vnd.kubernetes.protobuf",
            415,
            "UnsupportedMediaType",
            "unknown format",
        ),
        (
            b"a" * (4 * 1024 * 1024),
            "application/json",
            413,
            "RequestEntityTooLarge",
            "limit is 3145728",
        ),
    ],
)
def test_bad_bodies_get_clear_statuses(
    cluster: Cluster, ns: str, body: bytes, content_type: str, code: int, reason: str, text: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    status, _, doc, _ = request(
        cluster, "POST", f"/api/v1/namespaces/{ns}/configmaps", body, headers
    )
    assert status == code
    assert doc["kind"] == "Status" and doc["reason"] == reason and doc["code"] == code
    assert text in doc["message"]
    status, _, listed, _ = request(cluster, "GET", f"/api/v1/namespaces/{ns}/configmaps")
    assert listed["items"] == []  # nothing was stored


def test_yaml_bodies_and_unknown_paths(cluster: Cluster, ns: str) -> None:
    body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  when: 2024-01-01\n"
    status, _, doc, _ = request(
        cluster,
        "POST",
        f"/api/v1/namespaces/{ns}/configmaps",
        body,
        {"Content-Type": "application/yaml"},
    )
    assert status == 201 and doc["data"] == {"when": "2024-01-01"}
    for path in ("/api/v1/foos", "/apis/nope/v1/things", "/nothing/here"):
        status, _, doc, _ = request(cluster, "GET", path)
        assert status == 404 and doc["reason"] == "NotFound"
    status, _, doc, _ = request(cluster, "PUT", f"/api/v1/namespaces/{ns}/configmaps")
    assert status == 405 and doc["reason"] == "MethodNotAllowed"


def test_field_validation(cluster: Cluster, ns: str) -> None:
    body = json.dumps(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "f"}, "bogus": 1}
    )
    path = f"/api/v1/namespaces/{ns}/configmaps"
    status, _, doc, _ = request(cluster, "POST", path + "?fieldValidation=Strict", body)
    assert status == 400
    assert doc["message"] == 'strict decoding error: unknown field "bogus"'
    status, _, doc, headers = request(cluster, "POST", path + "?fieldValidation=Warn", body)
    assert status == 201 and "bogus" not in doc
    assert headers.get_all("Warning") == ['299 - "unknown field \\"bogus\\""']
    typed = json.dumps(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "t"}, "data": {"a": 1}}
    )
    status, _, doc, _ = request(cluster, "POST", path, typed)
    assert status == 422 and doc["details"]["causes"][0]["field"] == "data.a"


def test_table_responses(cluster: Cluster, ns: str) -> None:
    create_cm(cluster, ns, "tbl")
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    status, _, doc, _ = request(
        cluster,
        "GET",
        f"/api/v1/namespaces/{ns}/configmaps?limit=500",
        None,
        {"Accept": accept},
    )
    assert status == 200 and doc["kind"] == "Table"
    assert [c["name"] for c in doc["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert doc["rows"][0]["cells"][0] == "tbl"
    assert doc["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    status, _, doc, _ = request(
        cluster,
        "GET",
        f"/api/v1/namespaces/{ns}/configmaps",
        None,
        {"Accept": "application/vnd.kubernetes.protobuf,application/json"},
    )
    assert status == 200 and doc["kind"] == "ConfigMapList"


def test_watch_semantics(cluster: Cluster, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    first = create_cm(cluster, ns, "one")
    create_cm(cluster, ns, "two")
    # Initial events, then the end-of-initial-events bookmark.
    events = watch_lines(
        cluster,
        base + "?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
        "&allowWatchBookmarks=true",
        3,
    )
    assert [(e["type"], e["object"]["metadata"].get("name")) for e in events[:2]] == [
        ("ADDED", "one"),
        ("ADDED", "two"),
    ]
    assert events[2]["type"] == "BOOKMARK"
    assert events[2]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    # Resuming from a revision replays what came after it.
    resumed = watch_lines(
        cluster, base + f"?watch=true&resourceVersion={first['metadata']['resourceVersion']}", 1
    )
    assert resumed[0]["type"] == "ADDED" and resumed[0]["object"]["metadata"]["name"] == "two"
    # Out of the cache's window: one 410 ERROR event, then the stream ends.
    for i in range(WATCH_WINDOW + 1):
        create_cm(cluster, ns, f"filler-{i}")
    old = first["metadata"]["resourceVersion"]
    expired = watch_lines(cluster, base + f"?watch=true&resourceVersion={old}", 1)
    assert expired[0]["type"] == "ERROR"
    assert expired[0]["object"]["code"] == 410 and expired[0]["object"]["reason"] == "Expired"
    assert expired[0]["object"]["message"].startswith(f"too old resource version: {old} (")
    # sendInitialEvents=false: changes only, from now on.
    parsed = urllib.parse.urlsplit(cluster.url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        conn.request(
            "GET", base + "?watch=true&sendInitialEvents=false&resourceVersionMatch=NotOlderThan"
        )
        response = conn.getresponse()
        assert response.status == 200
        create_cm(cluster, ns, "later")
        event = json.loads(response.readline())
        assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", "later")
    finally:
        conn.close()
    # timeoutSeconds ends the stream on its own.
    status, _, text, _ = request(cluster, "GET", base + "?watch=true&timeoutSeconds=1")
    assert status == 200 and '"name":"two"' in text.replace(" ", "")


def test_health_and_version(cluster: Cluster) -> None:
    for path in ("/healthz", "/livez", "/readyz"):
        status, _, text, _ = request(cluster, "GET", path)
        assert (status, text) == (200, "ok")
    status, _, doc, _ = request(cluster, "GET", "/version")
    assert status == 200 and doc["minor"] == "33"


def test_periodic_bookmarks(cluster: Cluster, ns: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The server runs in this process: shorten its bookmark period for this test.
    from kybernetes.apiserver import _watch

    monkeypatch.setattr(_watch, "BOOKMARK_INTERVAL", 0.2)
    made = create_cm(cluster, ns, "marked")
    rv = made["metadata"]["resourceVersion"]
    base = f"/api/v1/namespaces/{ns}/configmaps?watch=true&resourceVersion={rv}"
    events = watch_lines(cluster, base + "&allowWatchBookmarks=true", 1)
    assert events[0]["type"] == "BOOKMARK"
    assert events[0]["object"] == {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": events[0]["object"]["metadata"]["resourceVersion"]},
    }
    assert int(events[0]["object"]["metadata"]["resourceVersion"]) >= int(rv)
