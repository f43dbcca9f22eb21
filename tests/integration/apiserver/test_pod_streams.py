"""pods/log, pods/exec and nodes/proxy relayed to a node's kubelet, driven by real kubectl and
the Python client.

The kubelet does not exist yet (a later issue brings it): these tests register a Node whose
status points at :class:`~tests.integration.apiserver.fake_kubelet.FakeKubelet`, a small
aiohttp server on 127.0.0.1 that speaks the kubelet's URLs. It is a fake of the *backend*
only; everything between the client and it (our API server's lookups, proxying, streaming,
WebSocket relaying) is the real thing.
"""

from __future__ import annotations

import socket
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.stream import portforward, stream
from tests.integration.apiserver.conftest import VENV_KUBECTL, Cluster
from tests.integration.apiserver.fake_kubelet import FakeKubelet
from tests.integration.apiserver.test_http import request
from tests.integration.apiserver.test_kubectl import IMAGE_KUBECTL


@pytest.fixture(scope="module")
def kubelet() -> Iterator[FakeKubelet]:
    fake = FakeKubelet().start()
    try:
        yield fake
    finally:
        fake.stop()


def _node(name: str, port: int | None, address: str = "127.0.0.1") -> dict[str, Any]:
    status: dict[str, Any] = {"addresses": [{"type": "InternalIP", "address": address}]}
    if port is not None:
        status["daemonEndpoints"] = {"kubeletEndpoint": {"Port": port}}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "status": status}


@pytest.fixture(scope="module")
def node(cluster: Cluster, kubelet: FakeKubelet) -> str:
    name = f"node-{uuid.uuid4().hex[:6]}"
    client.CoreV1Api(cluster.api()).create_node(_node(name, kubelet.port))
    return name


def _pod(name: str, node: str | None, containers: tuple[str, ...] = ("app",)) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": c, "image": "busybox"} for c in containers]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def _create_pod(cluster: Cluster, ns: str, pod: dict[str, Any]) -> None:
    client.CoreV1Api(cluster.api()).create_namespaced_pod(ns, pod)


def test_logs_with_options_and_default_container(
    cluster: Cluster, ns: str, kubelet: FakeKubelet, node: str
) -> None:
    pod = _pod("web", node, ("app", "side"))
    pod["metadata"]["annotations"] = {"kubectl.kubernetes.io/default-container": "side"}
    _create_pod(cluster, ns, pod)
    kubelet.logs[(ns, "web", "app")] = ["one", "two", "three"]
    kubelet.logs[(ns, "web", "side")] = ["side car"]

    assert cluster.kubectl("logs", "-n", ns, "web", "-c", "app").stdout == "one\ntwo\nthree\n"
    assert cluster.kubectl("logs", "-n", ns, "web", "-c", "app", "--tail=1").stdout == "three\n"
    path, query = kubelet.requests[-1]
    assert path == f"/containerLogs/{ns}/web/app"
    assert ("tailLines", "1") in query
    stamped = cluster.kubectl("logs", "-n", ns, "web", "-c", "app", "--timestamps").stdout
    assert stamped.splitlines()[0] == "2025-01-01T00:00:00Z one"

    # No container named: the server picks the annotated default (raw request, no kubectl
    # in between to pick it client-side).
    code, headers, body, _ = request(cluster, "GET", f"/api/v1/namespaces/{ns}/pods/web/log")
    assert code == 200 and body == "side car\n"
    assert headers["Content-Type"].startswith("text/plain")

    missing = cluster.kubectl("logs", "-n", ns, "web", "-c", "nope", check=False)
    assert missing.returncode != 0
    assert "container nope is not valid for pod web" in missing.stderr
    code, _, body, _ = request(cluster, "GET", f"/api/v1/namespaces/{ns}/pods/web/log?tailLines=-1")
    assert code == 422 and body["details"]["causes"][0]["field"] == "tailLines"
    # The kubelet's own refusal comes back as a Status (404 here: it has no such pod).
    _create_pod(cluster, ns, _pod("ghost", node))
    code, _, body, _ = request(cluster, "GET", f"/api/v1/namespaces/{ns}/pods/ghost/log")
    assert code == 404 and body["kind"] == "Status"


def test_follow_streams_lines_as_they_come(
    cluster: Cluster, ns: str, kubelet: FakeKubelet, node: str
) -> None:
    _create_pod(cluster, ns, _pod("tail", node))
    kubelet.logs[(ns, "tail", "app")] = ["first", "second"]
    follow = subprocess.Popen(
        [str(VENV_KUBECTL), f"--kubeconfig={cluster.kubeconfig}", "logs", "-f", "-n", ns, "tail"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cluster.env(),
    )
    try:
        assert follow.stdout is not None
        # The kubelet holds the stream open until released: these lines can only be read
        # here if the API server relayed them before the stream ended.
        assert follow.stdout.readline() == "first\n"
        assert follow.stdout.readline() == "second\n"
        kubelet.release()
        assert follow.stdout.read() == "released\n"
        assert follow.wait(30) == 0
    finally:
        if follow.poll() is None:
            follow.kill()
        follow.wait()
    _, query = kubelet.requests[-1]
    assert ("follow", "true") in query


def test_exec_over_websocket_with_kubectl_and_python(
    cluster: Cluster, ns: str, kubelet: FakeKubelet, node: str
) -> None:
    _create_pod(cluster, ns, _pod("box", node, ("app", "other")))
    k = cluster.kubectl
    assert k("exec", "-n", ns, "box", "-c", "app", "--", "echo", "hello", "world").stdout == (
        "hello world\n"
    )
    path, query = kubelet.requests[-1]
    assert path == f"/exec/{ns}/box/app"
    assert query[:2] == [("command", "echo"), ("command", "hello")]
    assert ("output", "1") in query and ("input", "1") not in query

    # stdin to the kubelet and back, then the client's close of stdin (v5 only).
    piped = k("exec", "-i", "-n", ns, "box", "-c", "app", "--", "cat", input="ping\npong\n")
    assert piped.stdout == "ping\npong\n"
    warned = k("exec", "-n", ns, "box", "-c", "app", "--", "warn", "careful")
    assert warned.stdout == "" and "careful" in warned.stderr
    failed = k("exec", "-n", ns, "box", "-c", "app", "--", "exit", "3", check=False)
    assert failed.returncode == 3

    api = client.CoreV1Api(cluster.api())
    out = stream(
        api.connect_get_namespaced_pod_exec,
        "box",
        ns,
        command=["echo", "from", "python"],
        container="other",
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
    )
    assert out == "from python\n"
    assert kubelet.requests[-1][0] == f"/exec/{ns}/box/other"


def test_without_a_reachable_kubelet(cluster: Cluster, ns: str) -> None:
    api = client.CoreV1Api(cluster.api())
    _create_pod(cluster, ns, _pod("pending", None))
    # Unscheduled: exec has nowhere to go, logs are empty (as upstream).
    code, _, body, _ = request(
        cluster, "GET", f"/api/v1/namespaces/{ns}/pods/pending/exec?command=ls&stdout=1"
    )
    assert code == 400 and body["message"] == "pod pending does not have a host assigned"
    assert cluster.kubectl("logs", "-n", ns, "pending").stdout == ""

    silent = f"silent-{uuid.uuid4().hex[:6]}"
    api.create_node(_node(silent, None))
    _create_pod(cluster, ns, _pod("stuck", silent))
    result = cluster.kubectl("logs", "-n", ns, "stuck", check=False)
    assert result.returncode != 0
    assert "Error from server (ServiceUnavailable)" in result.stderr
    assert f'no kubelet endpoint for node "{silent}"' in result.stderr

    with socket.create_server(("127.0.0.1", 0)) as probe:
        closed_port = probe.getsockname()[1]  # nothing listens here once closed
    dead = f"dead-{uuid.uuid4().hex[:6]}"
    api.create_node(_node(dead, closed_port))
    _create_pod(cluster, ns, _pod("orphan", dead))
    code, _, body, _ = request(cluster, "GET", f"/api/v1/namespaces/{ns}/pods/orphan/log")
    assert code == 503 and body["reason"] == "ServiceUnavailable"
    assert body["message"].startswith("error dialing backend")

    _create_pod(cluster, ns, _pod("lost", "no-such-node"))
    code, _, body, _ = request(cluster, "GET", f"/api/v1/namespaces/{ns}/pods/lost/log")
    assert code == 503 and 'no kubelet endpoint for node "no-such-node"' in body["message"]
    code, _, body, _ = request(cluster, "GET", f"/api/v1/namespaces/{ns}/pods/absent/log")
    assert code == 404 and body["reason"] == "NotFound"


def test_node_proxy_reaches_the_kubelet(cluster: Cluster, kubelet: FakeKubelet, node: str) -> None:
    assert cluster.kubectl("get", "--raw", f"/api/v1/nodes/{node}/proxy/healthz").stdout == "ok"
    assert kubelet.requests[-1][0] == "/healthz"
    code, _, body, _ = request(cluster, "GET", "/api/v1/nodes/absent/proxy/healthz")
    assert code == 404 and body["reason"] == "NotFound"


@pytest.mark.skipif(not IMAGE_KUBECTL.exists(), reason="no /usr/bin/kubectl in this image")
def test_image_kubectl_logs_and_exec(
    cluster: Cluster, ns: str, kubelet: FakeKubelet, node: str
) -> None:
    """The image's kubectl (1.33 against our 1.33 server) takes the same WebSocket path."""
    _create_pod(cluster, ns, _pod("old", node))
    kubelet.logs[(ns, "old", "app")] = ["hello"]
    k = cluster.kubectl
    assert k("logs", "-n", ns, "old", binary=IMAGE_KUBECTL).stdout == "hello\n"
    assert k("exec", "-n", ns, "old", "--", "echo", "hi", binary=IMAGE_KUBECTL).stdout == "hi\n"


def test_port_forward_with_the_python_client(
    cluster: Cluster, ns: str, kubelet: FakeKubelet, node: str
) -> None:
    _create_pod(cluster, ns, _pod("fwd", node))
    api = client.CoreV1Api(cluster.api())
    forward = portforward(api.connect_get_namespaced_pod_portforward, "fwd", ns, ports="8080")
    try:
        sock = forward.socket(8080)
        sock.setblocking(True)
        sock.sendall(b"hello")
        assert sock.recv(1024) == b"HELLO"
    finally:
        forward.close()
    path, query = kubelet.requests[-1]
    assert path == f"/portForward/{ns}/fwd" and query == [("port", "8080")]


def test_pod_and_service_proxy(cluster: Cluster, ns: str, kubelet: FakeKubelet) -> None:
    """The fake kubelet's /healthz stands in for an application in a pod here."""
    api = client.CoreV1Api(cluster.api())
    pod = _pod("app", None)
    pod["spec"]["containers"][0]["ports"] = [{"containerPort": kubelet.port}]
    _create_pod(cluster, ns, pod)
    code, _, body, _ = request(cluster, "GET", f"/api/v1/namespaces/{ns}/pods/app/proxy/healthz")
    assert code == 503 and "has no IP address" in body["message"]
    api.patch_namespaced_pod_status("app", ns, {"status": {"podIP": "127.0.0.1"}})
    assert (
        cluster.kubectl("get", "--raw", f"/api/v1/namespaces/{ns}/pods/app/proxy/healthz").stdout
        == "ok"
    )
    named = f"/api/v1/namespaces/{ns}/pods/http:app:{kubelet.port}/proxy/healthz?x=1"
    assert request(cluster, "GET", named)[2] == "ok"
    assert kubelet.requests[-1] == ("/healthz", [("x", "1")])

    api.create_namespaced_service(
        ns, {"metadata": {"name": "svc"}, "spec": {"ports": [{"name": "web", "port": 80}]}}
    )
    code, _, body, _ = request(cluster, "GET", f"/api/v1/namespaces/{ns}/services/svc/proxy/")
    assert code == 503 and body["message"] == 'no endpoints available for service "svc"'
    subset = {
        "addresses": [{"ip": "127.0.0.1"}],
        "ports": [{"name": "web", "port": kubelet.port}],
    }
    api.create_namespaced_endpoints(ns, {"metadata": {"name": "svc"}, "subsets": [subset]})
    for name in ("svc:80", "svc:web"):
        path = f"/api/v1/namespaces/{ns}/services/{name}/proxy/healthz"
        assert cluster.kubectl("get", "--raw", path).stdout == "ok"
    code, _, body, _ = request(cluster, "GET", f"/api/v1/namespaces/{ns}/services/svc:81/proxy/")
    assert code == 503 and body["message"] == 'no service port 81 found for service "svc"'
