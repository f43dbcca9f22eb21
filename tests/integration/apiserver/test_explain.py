"""Real kubectl against our discovery and OpenAPI documents.

A throwaway aiohttp app on 127.0.0.1 serves only ``/version``, discovery and
``/openapi/v3`` from ``kybernetes.apiserver._discovery`` and ``_openapi`` (plus a POST
recorder), so these tests pin what kubectl reads from them: ``api-resources``,
``explain``, and the decision to send ``fieldValidation=Strict``.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import shutil
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import orjson
import pytest
from aiohttp import web

from kybernetes.apiserver._discovery import default_discovery, version_info_bytes
from kybernetes.apiserver._openapi import default_openapi

_VENV_KUBECTL = pathlib.Path(sys.executable).parent / "kubectl"
_IMAGE_KUBECTL = pathlib.Path("/usr/bin/kubectl")


@dataclass
class FakeServer:
    url: str
    posts: list[tuple[str, str]] = field(default_factory=list)


def _app(server: FakeServer) -> web.Application:
    discovery = default_discovery()
    openapi = default_openapi()

    async def version(_: web.Request) -> web.Response:
        return web.Response(body=version_info_bytes(), content_type="application/json")

    async def any_path(request: web.Request) -> web.Response:
        if request.method == "POST":
            # kubectl create: remember the query, answer 201 with what was sent.
            server.posts.append((request.path, request.query_string))
            return web.Response(
                status=201, body=await request.read(), content_type="application/json"
            )
        if request.path.startswith("/openapi/v3"):
            data = openapi.respond(request.path)
            if data is not None:
                return web.Response(body=data, content_type="application/json")
        else:
            answer = discovery.respond(request.path, request.headers.get("Accept"))
            if answer is not None:
                body, content_type = answer
                # aiohttp's content_type argument cannot carry parameters.
                return web.Response(body=body, headers={"Content-Type": content_type})
        status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404}
        return web.Response(status=404, body=orjson.dumps(status), content_type="application/json")

    app = web.Application()
    app.router.add_get("/version", version)
    app.router.add_route("*", "/{tail:.*}", any_path)
    return app


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    fake = FakeServer(url="")
    runner = web.AppRunner(_app(fake))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


async def _kubectl(binary: pathlib.Path, server: FakeServer, tmp: pathlib.Path, *args: str) -> str:
    kubeconfig = tmp / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters: [{{name: c, cluster: {{server: '{server.url}'}}}}]\n"
        "users: [{name: u, user: {}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u, namespace: default}}]\n"
        "current-context: c\n"
    )
    env = {**os.environ, "HOME": str(tmp), "KUBECONFIG": str(kubeconfig)}
    proc = await asyncio.create_subprocess_exec(
        str(binary),
        f"--cache-dir={tmp / 'cache'}",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, f"kubectl {' '.join(args)} failed: {err.decode()}"
    return out.decode()


def _binaries() -> list[pathlib.Path]:
    found = [b for b in (_VENV_KUBECTL, _IMAGE_KUBECTL) if b.exists()]
    if not found and shutil.which("kubectl"):
        found.append(pathlib.Path(str(shutil.which("kubectl"))))
    return found


@pytest.fixture(params=_binaries(), ids=lambda p: str(p))
def kubectl(request: pytest.FixtureRequest) -> pathlib.Path:
    return pathlib.Path(request.param)


async def test_api_resources_lists_every_resource(
    kubectl: pathlib.Path, server: FakeServer, tmp_path: pathlib.Path
) -> None:
    out = await _kubectl(kubectl, server, tmp_path, "api-resources")
    rows = {tuple(line.split()) for line in out.splitlines()[1:]}
    assert out.splitlines()[0].split() == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    assert ("pods", "po", "v1", "true", "Pod") in rows
    assert ("nodes", "no", "v1", "false", "Node") in rows
    assert ("deployments", "deploy", "apps/v1", "true", "Deployment") in rows
    assert ("clusterroles", "rbac.authorization.k8s.io/v1", "false", "ClusterRole") in rows
    assert (
        "customresourcedefinitions",
        "crd,crds",
        "apiextensions.k8s.io/v1",
        "false",
        "CustomResourceDefinition",
    ) in rows
    # Subresources are not resources.
    assert not any(row[0].startswith("pods/") for row in rows)


async def test_explain_field_of_a_core_kind(
    kubectl: pathlib.Path, server: FakeServer, tmp_path: pathlib.Path
) -> None:
    out = await _kubectl(kubectl, server, tmp_path, "explain", "pods.spec.containers")
    assert "KIND:       Pod" in out
    assert "VERSION:    v1" in out
    assert "FIELD: containers <[]Container>" in out
    assert "List of containers belonging to the pod." in out
    # The fields of Container, with their types and the required marker.
    assert "name\t<string> -required-" in out
    assert "ports\t<[]ContainerPort>" in out
    assert "resources\t<ResourceRequirements>" in out


async def test_explain_a_grouped_kind_and_a_nested_field(
    kubectl: pathlib.Path, server: FakeServer, tmp_path: pathlib.Path
) -> None:
    out = await _kubectl(kubectl, server, tmp_path, "explain", "deploy.spec.strategy")
    assert "GROUP:      apps" in out
    assert "KIND:       Deployment" in out
    assert "FIELD: strategy <DeploymentStrategy>" in out
    assert "rollingUpdate\t<RollingUpdateDeployment>" in out
    out = await _kubectl(kubectl, server, tmp_path, "explain", "service.spec.ports.targetPort")
    # IntOrString is published as a string, as upstream does.
    assert "FIELD: targetPort <string>" in out


async def test_create_sends_strict_field_validation(
    kubectl: pathlib.Path, server: FakeServer, tmp_path: pathlib.Path
) -> None:
    manifest = tmp_path / "pod.json"
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    manifest.write_bytes(orjson.dumps(pod))
    await _kubectl(kubectl, server, tmp_path, "create", "-f", str(manifest))
    assert len(server.posts) == 1
    path, query = server.posts[0]
    assert path == "/api/v1/namespaces/default/pods"
    # kubectl sends Strict only because our PATCH operation for Pod declares the parameter.
    assert "fieldValidation=Strict" in query.split("&")


@pytest.mark.skipif(not _IMAGE_KUBECTL.exists(), reason="no /usr/bin/kubectl dispatcher here")
async def test_image_dispatcher_runs_kubectl_1_33(
    server: FakeServer, tmp_path: pathlib.Path
) -> None:
    # The dispatcher reads our /version and runs its bundled kubectl of the same minor.
    out = await _kubectl(_IMAGE_KUBECTL, server, tmp_path, "version")
    assert "Client Version: v1.33." in out
    assert "Server Version: v1.33.0+kyb" in out
