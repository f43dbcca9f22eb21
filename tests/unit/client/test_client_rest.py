"""The REST client against the fake API: verbs, paths, options, errors, retries, failover."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
from tests.support.fakekube import FakeKube, eventually, resource, status

from kybernetes.client import (
    AlreadyExists,
    APIError,
    ClientConfig,
    Conflict,
    ConnectError,
    Expired,
    FakeClock,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    PatchType,
    RESTClient,
    ServerError,
    TooManyRequests,
    TransportError,
)

pytestmark = pytest.mark.timeout(10)

SERVER = "http://api.test:6443"


PODS = resource("", "pods")
NODES = resource("", "nodes")
DEPLOYMENTS = resource("apps", "deployments")
CONFIGMAPS = resource("", "configmaps")


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def path(url: str) -> str:
    return urlsplit(url).path


def cm(name: str, ns: str = "default", **data: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": ns}, "data": data}


async def test_crud_namespaced_and_cluster_scoped(client: RESTClient, kube: FakeKube) -> None:
    created = await client.create(CONFIGMAPS, cm("a", x="1"))
    assert created["metadata"]["resourceVersion"]
    assert path(kube.requests[-1].url) == "/api/v1/namespaces/default/configmaps"
    got = await client.get(CONFIGMAPS, "a", namespace="default")
    assert got["data"] == {"x": "1"}

    body = {**got, "data": {"x": "2"}}
    updated = await client.update(CONFIGMAPS, body)
    assert path(kube.requests[-1].url) == "/api/v1/namespaces/default/configmaps/a"
    assert updated["data"] == {"x": "2"}

    patched = await client.patch(CONFIGMAPS, "a", {"data": {"y": "3"}}, namespace="default")
    assert patched["data"] == {"x": "2", "y": "3"}
    assert kube.requests[-1].headers["Content-Type"] == "application/merge-patch+json"

    await client.create(NODES, {"metadata": {"name": "n1"}})
    assert path(kube.requests[-1].url) == "/api/v1/nodes"
    assert (await client.get(NODES, "n1"))["metadata"]["name"] == "n1"

    deleted = await client.delete(CONFIGMAPS, "a", namespace="default")
    assert deleted["metadata"]["name"] == "a"
    with pytest.raises(NotFound) as info:
        await client.get(CONFIGMAPS, "a", namespace="default")
    assert info.value.code == 404 and 'configmaps "a" not found' in info.value.message


async def test_scope_and_subresource_mistakes_fail_before_sending(
    client: RESTClient, kube: FakeKube
) -> None:
    with pytest.raises(ValueError, match="namespaced"):
        await client.get(PODS, "p")
    with pytest.raises(ValueError, match="cluster-scoped"):
        await client.get(NODES, "n", namespace="default")
    with pytest.raises(ValueError, match="no subresource 'scale'"):
        await client.get(PODS, "p", namespace="d", subresource="scale")
    with pytest.raises(ValueError, match="namespace is needed"):
        await client.create(PODS, {"metadata": {"name": "p"}})
    with pytest.raises(ValueError, match="field_manager"):
        await client.patch(PODS, "p", {}, namespace="d", type="apply")
    with pytest.raises(ValueError, match="list of operations"):
        await client.patch(PODS, "p", {}, namespace="d", type="json")
    with pytest.raises(ValueError, match="path segment"):
        await client.get(PODS, "a/b", namespace="d")
    assert kube.requests == []


async def test_subresource_paths(client: RESTClient, kube: FakeKube) -> None:
    kube.put(DEPLOYMENTS, {"metadata": {"name": "web", "namespace": "d"}, "spec": {}})
    kube.put(PODS, {"metadata": {"name": "p", "namespace": "d"}, "spec": {}})
    await client.get(DEPLOYMENTS, "web", namespace="d", subresource="scale")
    assert path(kube.requests[-1].url) == "/apis/apps/v1/namespaces/d/deployments/web/scale"
    await client.patch(
        DEPLOYMENTS, "web", {"spec": {"replicas": 3}}, namespace="d", subresource="scale"
    )
    assert path(kube.requests[-1].url) == "/apis/apps/v1/namespaces/d/deployments/web/scale"
    pod = await client.get(PODS, "p", namespace="d")
    await client.update(PODS, {**pod, "status": {"phase": "Running"}}, subresource="status")
    assert path(kube.requests[-1].url) == "/api/v1/namespaces/d/pods/p/status"
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "p", "namespace": "d"},
        "target": {"kind": "Node", "name": "n1"},
    }
    await client.create(PODS, binding, subresource="binding")
    assert kube.requests[-1].method == "POST"
    assert path(kube.requests[-1].url) == "/api/v1/namespaces/d/pods/p/binding"
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "p"}}
    await client.create(PODS, eviction, namespace="d", subresource="eviction")
    assert path(kube.requests[-1].url) == "/api/v1/namespaces/d/pods/p/eviction"


async def test_query_options_are_sent(client: RESTClient, kube: FakeKube) -> None:
    await client.list(
        PODS,
        label_selector="app=web",
        field_selector="spec.nodeName=n1",
        limit=10,
        continue_="",
        resource_version="0",
    )
    sent = kube.requests[-1]
    assert path(sent.url) == "/api/v1/pods"  # all namespaces
    assert query(sent.url) == {
        "labelSelector": ["app=web"],
        "fieldSelector": ["spec.nodeName=n1"],
        "limit": ["10"],
        "resourceVersion": ["0"],
    }
    await client.create(
        CONFIGMAPS, cm("q"), dry_run=True, field_manager="me", field_validation="Strict"
    )
    assert query(kube.requests[-1].url) == {
        "dryRun": ["All"],
        "fieldManager": ["me"],
        "fieldValidation": ["Strict"],
    }
    kube.put(CONFIGMAPS, cm("q"))
    cases: list[tuple[PatchType, str]] = [
        ("strategic", "application/strategic-merge-patch+json"),
        ("apply", "application/apply-patch+yaml"),
    ]
    for kind, content_type in cases:
        await client.patch(
            CONFIGMAPS, "q", {"data": {}}, namespace="default", type=kind, field_manager="m"
        )
        assert kube.requests[-1].headers["Content-Type"] == content_type
    await client.patch(
        CONFIGMAPS, "q", {}, namespace="default", type="apply", field_manager="m", force=True
    )
    assert query(kube.requests[-1].url) == {"fieldManager": ["m"], "force": ["true"]}
    ops = [{"op": "add", "path": "/data/z", "value": "1"}]
    out = await client.patch(CONFIGMAPS, "q", ops, namespace="default", type="json")
    assert out["data"]["z"] == "1"
    assert kube.requests[-1].headers["Content-Type"] == "application/json-patch+json"

    await client.delete(
        CONFIGMAPS,
        "q",
        namespace="default",
        propagation_policy="Foreground",
        grace_period_seconds=0,
        uid="u1",
        resource_version="7",
    )
    assert orjson.loads(kube.requests[-1].body or b"") == {
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "propagationPolicy": "Foreground",
        "gracePeriodSeconds": 0,
        "preconditions": {"uid": "u1", "resourceVersion": "7"},
    }
    await client.delete_collection(CONFIGMAPS, namespace="default", label_selector="a=b")
    sent = kube.requests[-1]
    assert sent.method == "DELETE" and path(sent.url) == "/api/v1/namespaces/default/configmaps"
    assert query(sent.url) == {"labelSelector": ["a=b"]}


async def test_headers_and_timeouts(kube: FakeKube, clock: FakeClock) -> None:
    config = ClientConfig(servers=(SERVER,), headers={"Authorization": "Bearer t"})
    client = RESTClient(
        config, transport=kube.transport(), qps=None, clock=clock, timeout=7, user_agent="ua/1"
    )
    await client.list(PODS)
    sent = kube.requests[-1]
    assert sent.headers["Authorization"] == "Bearer t"
    assert sent.headers["User-Agent"] == "ua/1"
    assert sent.headers["Accept"] == "application/json"
    assert "Content-Type" not in sent.headers  # no body
    assert sent.timeout == 7
    await client.list(PODS, timeout=0.5)
    assert kube.requests[-1].timeout == 0.5
    await client.list(PODS, timeout=None)
    assert kube.requests[-1].timeout is None


def _status_answer(code: int, reason: str, message: str = "m", **details: Any) -> Any:
    return (code, status(code, reason, message, **details), {})


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (_status_answer(404, "NotFound"), NotFound),
        (_status_answer(409, "AlreadyExists"), AlreadyExists),
        (_status_answer(409, "Conflict"), Conflict),
        (_status_answer(403, "Forbidden"), Forbidden),
        (_status_answer(410, "Expired"), Expired),
        (_status_answer(410, "Gone"), Gone),
        (_status_answer(500, "InternalError"), ServerError),
        (_status_answer(504, "Timeout"), ServerError),
        (_status_answer(429, "TooManyRequests"), TooManyRequests),  # no Retry-After: at once
        ((418, b"I'm a teapot", {}), APIError),
    ],
)
async def test_status_errors_are_typed(
    client: RESTClient, kube: FakeKube, answer: Any, error: type[APIError]
) -> None:
    kube.script(answer)
    with pytest.raises(error) as info:
        await client.get(PODS, "p", namespace="d")
    assert type(info.value) is error
    assert info.value.code == answer[0]
    assert len(kube.requests) == 1
    if error is APIError:
        assert info.value.message == "I'm a teapot"


async def test_invalid_carries_causes(client: RESTClient, kube: FakeKube) -> None:
    causes = [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.image"},
        {"reason": "FieldValueInvalid", "message": "bad"},
    ]
    kube.script(_status_answer(422, "Invalid", 'Pod "p" is invalid', causes=causes))
    with pytest.raises(Invalid) as info:
        await client.create(PODS, {"metadata": {"name": "p"}}, namespace="d")
    assert [(c.reason, c.field) for c in info.value.causes] == [
        ("FieldValueRequired", "spec.image"),
        ("FieldValueInvalid", ""),
    ]
    assert info.value.message == 'Pod "p" is invalid'


async def test_retry_after_is_honoured(
    client: RESTClient, kube: FakeKube, clock: FakeClock
) -> None:
    kube.put(CONFIGMAPS, cm("r"))
    kube.script((429, status(429, "TooManyRequests", "slow down"), {"Retry-After": "3"}))
    task = asyncio.create_task(client.get(CONFIGMAPS, "r", namespace="default"))
    await clock.wait_sleepers()
    assert clock.next_deadline() == 3.0 and not task.done()
    clock.advance(3)
    assert (await task)["metadata"]["name"] == "r"
    assert len(kube.requests) == 2


async def test_retry_after_gives_up_after_max_retries(kube: FakeKube, clock: FakeClock) -> None:
    client = RESTClient(SERVER, transport=kube.transport(), qps=None, clock=clock, max_retries=2)
    for _ in range(3):
        kube.script((429, status(429, "TooManyRequests", "busy"), {"Retry-After": "1"}))
    task = asyncio.create_task(client.list(PODS))
    for _ in range(2):
        await clock.wait_sleepers()
        clock.advance(1)
    with pytest.raises(TooManyRequests) as info:
        await task
    assert info.value.retry_after == 1.0
    assert len(kube.requests) == 3


async def test_failover_tries_the_next_server_and_remembers_it(
    kube: FakeKube, clock: FakeClock
) -> None:
    servers = ["http://a:1", "http://b:2", "http://c:3"]
    client = RESTClient(servers, transport=kube.transport(), qps=None, clock=clock)
    kube.down = {"http://a:1"}
    await client.list(PODS)
    assert [urlsplit(r.url).netloc for r in kube.requests] == ["a:1", "b:2"]
    assert client.active_server == "http://b:2"
    kube.requests.clear()
    await client.list(PODS)
    assert [urlsplit(r.url).netloc for r in kube.requests] == ["b:2"]  # remembered

    kube.down = {"http://b:2"}
    kube.requests.clear()
    await client.create(CONFIGMAPS, cm("f"))  # connect errors are safe for any verb
    assert [urlsplit(r.url).netloc for r in kube.requests] == ["b:2", "c:3"]
    assert client.active_server == "http://c:3"

    kube.down = set(servers)
    with pytest.raises(ConnectError):
        await client.list(PODS)


async def test_broken_connection_fails_over_only_for_reads(
    kube: FakeKube, clock: FakeClock
) -> None:
    client = RESTClient(["http://a:1", "http://b:2"], transport=kube.transport(), clock=clock)
    kube.script(TransportError("connection reset"))
    await client.list(PODS)  # retried on b
    assert client.active_server == "http://b:2"
    kube.script(TransportError("connection reset"))
    with pytest.raises(TransportError, match="reset"):
        await client.create(CONFIGMAPS, cm("x"))  # may have been applied: not resent
    assert kube.get(CONFIGMAPS, "x", "default") is None


async def test_client_side_rate_limit(kube: FakeKube, clock: FakeClock) -> None:
    client = RESTClient(SERVER, transport=kube.transport(), qps=2, burst=2, clock=clock)
    await client.list(PODS)
    await client.list(PODS)  # the burst
    third = asyncio.create_task(client.list(PODS))
    fourth = asyncio.create_task(client.list(PODS))
    await clock.wait_sleepers(2)
    assert len(kube.requests) == 2
    clock.advance(0.5)
    await eventually(lambda: third.done())
    assert not fourth.done() and len(kube.requests) == 3
    clock.advance(0.5)
    await fourth
    assert len(kube.requests) == 4


async def test_list_all_pages_through(client: RESTClient, kube: FakeKube) -> None:
    for i in range(7):
        kube.put(CONFIGMAPS, cm(f"c{i}"))
    listing = await client.list_all(CONFIGMAPS, namespace="default", page_size=3)
    assert [i["metadata"]["name"] for i in listing["items"]] == [f"c{i}" for i in range(7)]
    assert listing["kind"] == "ConfigMapList"
    assert listing["metadata"]["resourceVersion"] == str(kube.revision)
    gets = kube.requests_to("GET")
    assert [query(r.url).get("continue") for r in gets] == [None, ["3"], ["6"]]
    assert all(query(r.url)["limit"] == ["3"] for r in gets)


async def test_list_all_falls_back_when_continue_expires(
    client: RESTClient, kube: FakeKube
) -> None:
    for i in range(5):
        kube.put(CONFIGMAPS, cm(f"c{i}"))
    kube.compacted = 100  # every continue token is now too old
    listing = await client.list_all(CONFIGMAPS, namespace="default", page_size=2)
    assert len(listing["items"]) == 5
    last = kube.requests[-1]
    assert "limit" not in query(last.url)  # one full list
