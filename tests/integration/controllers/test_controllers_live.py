"""The controller manager against a real API server, driven through real kubectl."""

from __future__ import annotations

import asyncio
import pathlib
import sys
from typing import Any

import pytest
from tests.integration.client.helpers import DEPLOYMENTS, NAMESPACES, PODS, Server
from tests.integration.controllers.conftest import node_agent
from tests.support.fakekube import resource

from kybernetes.client import NotFound, RESTClient
from kybernetes.controllers import ControllerManager

REPLICA_SETS = resource("apps", "replicasets")
CONFIGMAPS = resource("", "configmaps")
KUBECTL = pathlib.Path(sys.executable).parent / "kubectl"


def deployment(name: str, image: str = "nginx:1", replicas: int = 3) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
        },
    }


async def kubectl(server: Server, cache: pathlib.Path, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        str(KUBECTL),
        "--kubeconfig",
        str(server.kubeconfig),
        "--cache-dir",
        str(cache),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, out.decode()


async def items(client: RESTClient, info: Any, ns: str) -> list[dict[str, Any]]:
    listing = await client.list(info, namespace=ns)
    return [i for i in listing["items"] if not i["metadata"].get("deletionTimestamp")]


async def wait_for(client: RESTClient, what: str, check: Any, limit: float = 30) -> None:
    """Poll the API (bounded) until the async ``check()`` holds."""

    async def poll() -> None:
        # The state changes in other processes: there is no event here to await.
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(poll(), limit)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


pytestmark = pytest.mark.usefixtures("manager")


async def test_deployment_rollout_undo(
    client: RESTClient, apiserver: Server, ns: str, tmp_path: pathlib.Path
) -> None:
    await client.create(DEPLOYMENTS, deployment("web"), namespace=ns)

    async def three_pods() -> bool:
        return len(await items(client, PODS, ns)) == 3

    await wait_for(client, "3 pods", three_pods)
    rss = await items(client, REPLICA_SETS, ns)
    assert len(rss) == 1
    first = rss[0]
    pod_hash = first["metadata"]["labels"]["pod-template-hash"]
    assert first["metadata"]["name"] == f"web-{pod_hash}"
    assert first["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    for pod in await items(client, PODS, ns):
        ref = pod["metadata"]["ownerReferences"][0]
        assert (ref["kind"], ref["name"], ref["controller"]) == (
            "ReplicaSet",
            first["metadata"]["name"],
            True,
        )
        assert pod["metadata"]["labels"]["pod-template-hash"] == pod_hash

    async with node_agent(client, ns) as samples:
        code, out = await kubectl(
            apiserver, tmp_path, "rollout", "status", "deploy/web", "-n", ns, "--timeout=60s"
        )
        assert code == 0, out
        assert 'deployment "web" successfully rolled out' in out

        samples.clear()
        patch = {
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}}
        }
        await client.patch(DEPLOYMENTS, "web", patch, namespace=ns, type="strategic")
        code, out = await kubectl(
            apiserver, tmp_path, "rollout", "status", "deploy/web", "-n", ns, "--timeout=60s"
        )
        assert code == 0, out
        # maxSurge 1, maxUnavailable 0: never more than 4 pods, never fewer than 3 ready.
        assert samples and max(s["live"] for s in samples) <= 4
        assert min(s["ready"] for s in samples) >= 3
        rss = {rs["metadata"]["name"]: rs for rs in await items(client, REPLICA_SETS, ns)}
        assert rss[first["metadata"]["name"]]["spec"]["replicas"] == 0
        assert len(rss) == 2

        code, out = await kubectl(apiserver, tmp_path, "rollout", "undo", "deploy/web", "-n", ns)
        assert code == 0, out
        code, out = await kubectl(
            apiserver, tmp_path, "rollout", "status", "deploy/web", "-n", ns, "--timeout=60s"
        )
        assert code == 0, out
    rss = {rs["metadata"]["name"]: rs for rs in await items(client, REPLICA_SETS, ns)}
    assert len(rss) == 2  # the old ReplicaSet was reused, not a third one made
    reused = rss[first["metadata"]["name"]]
    assert reused["spec"]["replicas"] == 3
    assert reused["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    d = await client.get(DEPLOYMENTS, "web", namespace=ns)
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1"
    code, out = await kubectl(apiserver, tmp_path, "rollout", "history", "deploy/web", "-n", ns)
    assert code == 0 and "2 " in out and "3 " in out, out


async def test_delete_background_and_orphan(
    client: RESTClient, apiserver: Server, ns: str, tmp_path: pathlib.Path
) -> None:
    for name in ("bg", "keep"):
        await client.create(DEPLOYMENTS, deployment(name, replicas=2), namespace=ns)

    async def four_pods() -> bool:
        return len(await items(client, PODS, ns)) == 4

    await wait_for(client, "4 pods", four_pods)
    code, out = await kubectl(
        apiserver, tmp_path, "delete", "deploy/bg", "-n", ns, "--cascade=background"
    )
    assert code == 0, out
    code, out = await kubectl(
        apiserver, tmp_path, "delete", "deploy/keep", "-n", ns, "--cascade=orphan"
    )
    assert code == 0, out

    async def only_orphans_left() -> bool:
        pods = await items(client, PODS, ns)
        rss = await items(client, REPLICA_SETS, ns)
        return (
            len(pods) == 2
            and all(p["metadata"]["labels"]["app"] == "keep" for p in pods)
            and len(rss) == 1
            and not rss[0]["metadata"].get("ownerReferences")
            and not (await items(client, DEPLOYMENTS, ns))
        )

    await wait_for(client, "bg's dependents gone, keep's orphaned", only_orphans_left)
    # The orphaned ReplicaSet still owns its pods.
    rs = (await items(client, REPLICA_SETS, ns))[0]
    for pod in await items(client, PODS, ns):
        assert pod["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"]


async def test_namespace_deletion_empties_it(client: RESTClient, ns: str) -> None:
    await client.create(DEPLOYMENTS, deployment("web", replicas=2), namespace=ns)
    await client.create(CONFIGMAPS, {"metadata": {"name": "cm"}, "data": {"a": "b"}}, namespace=ns)

    async def two_pods() -> bool:
        return len(await items(client, PODS, ns)) == 2

    await wait_for(client, "2 pods", two_pods)
    await client.delete(NAMESPACES, ns)

    async def gone() -> bool:
        try:
            await client.get(NAMESPACES, ns)
        except NotFound:
            return True
        return False

    await wait_for(client, f"namespace {ns} to go away", gone)
    assert (await client.list(PODS, namespace=ns))["items"] == []


async def test_default_service_account_restored(
    client: RESTClient, ns: str, manager: ControllerManager
) -> None:
    sas = resource("", "serviceaccounts")

    async def has_default() -> bool:
        try:
            await client.get(sas, "default", namespace=ns)
        except NotFound:
            return False
        return True

    await wait_for(client, "default SA", has_default)
    await client.delete(sas, "default", namespace=ns)
    await wait_for(client, "default SA re-created", has_default)
