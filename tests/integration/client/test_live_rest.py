"""The REST client against a real ``kyb apiserver``: verbs, subresources, errors, failover."""

from __future__ import annotations

import pathlib
import socket
import subprocess
import sys
from typing import Any

import pytest
import yaml
from tests.integration.client.helpers import CONFIGMAPS, DEPLOYMENTS, NODES, PODS, Server

from kybernetes.client import (
    SERVERS_EXTENSION,
    AlreadyExists,
    Conflict,
    ConnectError,
    Invalid,
    NotFound,
    RequestTimeout,
    RESTClient,
)

pytestmark = pytest.mark.timeout(60)


async def test_crud_and_typed_errors(client: RESTClient, ns: str) -> None:
    body: dict[str, Any] = {"metadata": {"name": "c1", "labels": {"app": "a"}}, "data": {"k": "1"}}
    created = await client.create(CONFIGMAPS, body, namespace=ns)
    assert created["metadata"]["uid"] and created["data"] == {"k": "1"}
    assert "namespace" not in body["metadata"]  # our input is untouched

    with pytest.raises(AlreadyExists) as exists:
        await client.create(CONFIGMAPS, body, namespace=ns)
    assert exists.value.code == 409 and exists.value.reason == "AlreadyExists"

    stale = dict(created)
    updated = await client.update(CONFIGMAPS, {**created, "data": {"k": "2"}})
    assert updated["metadata"]["resourceVersion"] != created["metadata"]["resourceVersion"]
    with pytest.raises(Conflict):
        await client.update(CONFIGMAPS, {**stale, "data": {"k": "3"}})

    merged = await client.patch(CONFIGMAPS, "c1", {"data": {"m": "x"}}, namespace=ns)
    assert merged["data"] == {"k": "2", "m": "x"}
    strategic = await client.patch(
        CONFIGMAPS, "c1", {"metadata": {"labels": {"s": "y"}}}, namespace=ns, type="strategic"
    )
    assert strategic["metadata"]["labels"] == {"app": "a", "s": "y"}
    ops = [{"op": "remove", "path": "/data/m"}]
    jsonp = await client.patch(CONFIGMAPS, "c1", ops, namespace=ns, type="json")
    assert jsonp["data"] == {"k": "2"}
    applied = await client.patch(
        CONFIGMAPS,
        "c2",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c2"}, "data": {"a": "1"}},
        namespace=ns,
        type="apply",
        field_manager="kyb-test",
    )
    assert applied["data"] == {"a": "1"}
    assert any(m["manager"] == "kyb-test" for m in applied["metadata"]["managedFields"])

    dry = await client.create(CONFIGMAPS, {"metadata": {"name": "dry"}}, namespace=ns, dry_run=True)
    assert dry["metadata"]["name"] == "dry"
    with pytest.raises(NotFound):
        await client.get(CONFIGMAPS, "dry", namespace=ns)

    with pytest.raises(Invalid) as invalid:
        await client.create(CONFIGMAPS, {"metadata": {"name": "Not_Valid"}}, namespace=ns)
    assert invalid.value.code == 422
    assert [c.field for c in invalid.value.causes] == ["metadata.name"]

    selected = await client.list(CONFIGMAPS, namespace=ns, label_selector="app=a")
    assert [i["metadata"]["name"] for i in selected["items"]] == ["c1"]
    by_field = await client.list(CONFIGMAPS, namespace=ns, field_selector="metadata.name=c2")
    assert [i["metadata"]["name"] for i in by_field["items"]] == ["c2"]

    await client.delete(CONFIGMAPS, "c1", namespace=ns)
    with pytest.raises(NotFound):
        await client.get(CONFIGMAPS, "c1", namespace=ns)
    await client.delete_collection(CONFIGMAPS, namespace=ns, label_selector="!app")
    assert (await client.list(CONFIGMAPS, namespace=ns))["items"] == []


async def test_subresources(client: RESTClient, ns: str) -> None:
    deployment = {
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }
    await client.create(DEPLOYMENTS, deployment, namespace=ns)
    scale = await client.get(DEPLOYMENTS, "web", namespace=ns, subresource="scale")
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 1
    await client.patch(
        DEPLOYMENTS, "web", {"spec": {"replicas": 4}}, namespace=ns, subresource="scale"
    )
    assert (await client.get(DEPLOYMENTS, "web", namespace=ns))["spec"]["replicas"] == 4

    await client.create(NODES, {"metadata": {"name": f"node-{ns}"}})
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    await client.create(PODS, pod, namespace=ns)
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "p"},
        "target": {"apiVersion": "v1", "kind": "Node", "name": f"node-{ns}"},
    }
    await client.create(PODS, binding, namespace=ns, subresource="binding")
    bound = await client.get(PODS, "p", namespace=ns)
    assert bound["spec"]["nodeName"] == f"node-{ns}"

    status = {**bound, "status": {**bound.get("status", {}), "phase": "Running"}}
    await client.update(PODS, status, subresource="status")
    assert (await client.get(PODS, "p", namespace=ns))["status"]["phase"] == "Running"

    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "p"}}
    await client.create(PODS, eviction, namespace=ns, subresource="eviction")
    evicted = await client.list(PODS, namespace=ns, field_selector="metadata.name=p")
    assert all(i["metadata"].get("deletionTimestamp") for i in evicted["items"])
    await client.delete(NODES, f"node-{ns}")


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ha_kubeconfig(apiserver: Server, path: pathlib.Path, servers: list[str]) -> pathlib.Path:
    config = yaml.safe_load(apiserver.kubeconfig.read_text())
    cluster = config["clusters"][0]["cluster"]
    cluster["server"] = servers[0]
    cluster["extensions"] = [
        {"name": SERVERS_EXTENSION, "extension": {"servers": servers[1:]}},
    ]
    path.write_text(yaml.safe_dump(config))
    return path


async def test_failover_to_a_live_server(apiserver: Server, tmp_path: pathlib.Path) -> None:
    dead = f"http://127.0.0.1:{_dead_port()}"
    other_dead = f"http://127.0.0.1:{_dead_port()}"
    path = _ha_kubeconfig(apiserver, tmp_path / "ha", [dead, other_dead, apiserver.url])
    async with RESTClient.from_kubeconfig(str(path)) as client:
        assert client.servers == (dead, other_dead, apiserver.url)
        listing = await client.list(NODES)
        assert listing["kind"] == "NodeList"
        assert client.active_server == apiserver.url
    path = _ha_kubeconfig(apiserver, tmp_path / "dead", [dead, other_dead])
    async with RESTClient.from_kubeconfig(path) as client:
        with pytest.raises(ConnectError):
            await client.list(NODES)


async def test_per_request_timeout(client: RESTClient) -> None:
    with pytest.raises(RequestTimeout):
        await client.list(NODES, timeout=1e-6)  # cannot even connect in a microsecond
    assert (await client.list(NODES))["kind"] == "NodeList"  # the default still works


def test_kubectl_reads_the_ha_kubeconfig(apiserver: Server, tmp_path: pathlib.Path) -> None:
    # kubectl ignores the extension and uses `server` (the live one first here).
    path = _ha_kubeconfig(apiserver, tmp_path / "ha", [apiserver.url, "http://127.0.0.1:1"])
    kubectl = pathlib.Path(sys.executable).parent / "kubectl"
    home = tmp_path / "home"
    home.mkdir()
    result = subprocess.run(
        [str(kubectl), f"--kubeconfig={path}", "get", "namespaces", "-o", "name"],
        capture_output=True,
        text=True,
        env={"HOME": str(home), "PATH": ""},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "namespace/default" in result.stdout.split()
