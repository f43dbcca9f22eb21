"""Real kubectl against the real API server: the everyday commands and their output."""

from __future__ import annotations

import json
import pathlib
import subprocess

import pytest
import yaml
from tests.integration.apiserver.conftest import VENV_KUBECTL, Cluster

IMAGE_KUBECTL = pathlib.Path("/usr/bin/kubectl")

CONFIGMAP = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: {mode}
"""

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: nginx:1.27
"""


def test_system_namespaces_exist(cluster: Cluster) -> None:
    out = cluster.kubectl("get", "namespaces", "-o", "name").stdout.split()
    assert {
        "namespace/default",
        "namespace/kube-system",
        "namespace/kube-public",
        "namespace/kube-node-lease",
    } <= set(out)


def test_apply_get_label_annotate_delete(cluster: Cluster, ns: str) -> None:
    k = cluster.kubectl
    assert "created" in k("apply", "-n", ns, "-f", "-", input=CONFIGMAP.format(mode="a")).stdout
    assert "unchanged" in k("apply", "-n", ns, "-f", "-", input=CONFIGMAP.format(mode="a")).stdout
    assert "configured" in k("apply", "-n", ns, "-f", "-", input=CONFIGMAP.format(mode="b")).stdout

    as_json = json.loads(k("get", "-n", ns, "configmap", "settings", "-o", "json").stdout)
    assert as_json["data"] == {"mode": "b"}
    assert as_json["metadata"]["resourceVersion"]
    last_applied = as_json["metadata"]["annotations"][
        "kubectl.kubernetes.io/last-applied-configuration"
    ]
    assert json.loads(last_applied)["data"] == {"mode": "b"}
    as_yaml = yaml.safe_load(k("get", "-n", ns, "cm", "settings", "-o", "yaml").stdout)
    assert as_yaml["metadata"]["uid"] == as_json["metadata"]["uid"]
    assert k("get", "-n", ns, "cm", "-o", "name").stdout.split() == ["configmap/settings"]

    k("label", "-n", ns, "cm", "settings", "tier=backend")
    k("annotate", "-n", ns, "cm", "settings", "owner=me")
    got = k(
        "get",
        "-n",
        ns,
        "cm",
        "settings",
        "-o",
        "jsonpath={.metadata.labels.tier} {.metadata.annotations.owner}",
    ).stdout
    assert got == "backend me"
    assert k("get", "-n", ns, "cm", "-l", "tier=backend", "-o", "name").stdout.strip() == (
        "configmap/settings"
    )
    assert k("get", "-n", ns, "cm", "-l", "tier!=backend", "-o", "name").stdout.strip() == ""

    table = k("get", "-n", ns, "cm").stdout.splitlines()
    assert table[0].split() == ["NAME", "DATA", "AGE"]
    assert table[1].split()[:2] == ["settings", "1"]

    k("delete", "-n", ns, "cm", "settings")
    missing = k("get", "-n", ns, "cm", "settings", check=False)
    assert missing.returncode != 0
    assert 'configmaps "settings" not found' in missing.stderr


def test_deployment_scale_patch_and_restart(cluster: Cluster, ns: str) -> None:
    k = cluster.kubectl
    k("apply", "-n", ns, "-f", "-", input=DEPLOYMENT)
    k("scale", "-n", ns, "deployment/web", "--replicas=4")
    assert k("get", "-n", ns, "deploy", "web", "-o", "jsonpath={.spec.replicas}").stdout == "4"
    k("patch", "-n", ns, "deploy", "web", "--type=merge", "-p", '{"spec":{"minReadySeconds":5}}')
    k(
        "patch",
        "-n",
        ns,
        "deploy",
        "web",
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/spec/revisionHistoryLimit","value":3}]',
    )
    k(
        "patch",
        "-n",
        ns,
        "deploy",
        "web",
        "-p",
        '{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.28"}]}}}}',
    )
    k("rollout", "restart", "-n", ns, "deployment/web")
    deploy = json.loads(k("get", "-n", ns, "deploy", "web", "-o", "json").stdout)
    spec = deploy["spec"]
    assert spec["minReadySeconds"] == 5 and spec["revisionHistoryLimit"] == 3
    assert [c["image"] for c in spec["template"]["spec"]["containers"]] == ["nginx:1.28"]
    assert "kubectl.kubernetes.io/restartedAt" in spec["template"]["metadata"]["annotations"]
    # created (1), scaled, three spec patches, restart: every spec change bumps generation
    assert deploy["metadata"]["generation"] == 6
    header = k("get", "-n", ns, "deploy", "-o", "wide").stdout.splitlines()[0].split()
    assert header[:5] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert "SELECTOR" in header


def test_wait_for_delete_with_a_finalizer(cluster: Cluster, ns: str) -> None:
    k = cluster.kubectl
    k(
        "apply",
        "-n",
        ns,
        "-f",
        "-",
        input=(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n"
            "  finalizers: [example.com/hold]\n"
        ),
    )
    k("delete", "-n", ns, "cm", "held", "--wait=false")
    marked = json.loads(k("get", "-n", ns, "cm", "held", "-o", "json").stdout)
    assert marked["metadata"]["deletionTimestamp"]
    waiter = subprocess.Popen(
        [
            str(VENV_KUBECTL),
            f"--kubeconfig={cluster.kubeconfig}",
            "wait",
            "-n",
            ns,
            "--for=delete",
            "cm/held",
            "--timeout=60s",
            "-v=6",
        ],
        env=cluster.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Release the finalizer only once kubectl is watching (its -v=6 log names the watch
        # request), so the test sees wait observe the deletion rather than a missing object.
        assert waiter.stderr is not None
        log = []
        for line in waiter.stderr:
            log.append(line)
            if "watch=true" in line:
                break
        else:
            pytest.fail("kubectl wait never watched:\n" + "".join(log))
        k("patch", "-n", ns, "cm", "held", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
        out, err = waiter.communicate(timeout=60)
    finally:
        if waiter.poll() is None:
            waiter.kill()
            waiter.wait()
    assert waiter.returncode == 0, "".join(log) + err
    assert "condition met" in out or "deleted" in out


def test_get_watch_streams_table_events(cluster: Cluster, ns: str) -> None:
    # kubectl lists, then watches from the list's revision: once it printed the
    # sentinel from its list, every later change is guaranteed to arrive as an event.
    cluster.kubectl(
        "apply",
        "-n",
        ns,
        "-f",
        "-",
        input="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sentinel\n",
    )
    watcher = subprocess.Popen(
        [
            str(VENV_KUBECTL),
            f"--kubeconfig={cluster.kubeconfig}",
            "get",
            "cm",
            "-n",
            ns,
            "-w",
            "--output-watch-events",
        ],
        env=cluster.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout is not None
        assert watcher.stdout.readline().split() == ["EVENT", "NAME", "DATA", "AGE"]
        assert watcher.stdout.readline().split()[:2] == ["ADDED", "sentinel"]
        cluster.kubectl("apply", "-n", ns, "-f", "-", input=CONFIGMAP.format(mode="x"))
        assert watcher.stdout.readline().split()[:3] == ["ADDED", "settings", "1"]
        cluster.kubectl("delete", "-n", ns, "cm", "settings")
        assert watcher.stdout.readline().split()[:2] == ["DELETED", "settings"]
    finally:
        watcher.kill()
        watcher.wait()


def test_errors_are_printed_as_upstream(cluster: Cluster, ns: str) -> None:
    k = cluster.kubectl
    bad = k(
        "apply",
        "-n",
        ns,
        "-f",
        "-",
        check=False,
        input="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n",
    )
    assert bad.returncode != 0
    assert 'The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"' in (
        bad.stderr
    )
    no_image = k(
        "apply",
        "-n",
        ns,
        "-f",
        "-",
        check=False,
        input="apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n"
        "  containers:\n  - name: c\n",
    )
    assert 'The Pod "p" is invalid: spec.containers[0].image: Required value' in no_image.stderr
    unknown = k("get", "foos", check=False)
    assert 'the server doesn\'t have a resource type "foos"' in unknown.stderr
    nowhere = k(
        "apply", "-n", "no-such-ns", "-f", "-", input=CONFIGMAP.format(mode="a"), check=False
    )
    assert 'namespaces "no-such-ns" not found' in nowhere.stderr
    forbidden = k("delete", "namespace", "default", check=False)
    assert 'namespaces "default" is forbidden: this namespace may not be deleted' in (
        forbidden.stderr
    )


def test_explain_and_api_resources(cluster: Cluster) -> None:
    explained = cluster.kubectl("explain", "deployment.spec.replicas").stdout
    assert "FIELD: replicas <integer>" in explained
    resources = cluster.kubectl("api-resources", "-o", "name").stdout.split()
    assert {"pods", "deployments.apps", "namespaces"} <= set(resources)


@pytest.mark.skipif(not IMAGE_KUBECTL.exists(), reason="no /usr/bin/kubectl in this image")
def test_image_kubectl(cluster: Cluster, ns: str) -> None:
    def k(*args: str, input: str | None = None) -> str:
        return cluster.kubectl(*args, input=input, binary=IMAGE_KUBECTL).stdout

    k("apply", "-n", ns, "-f", "-", input=CONFIGMAP.format(mode="a"))
    k("apply", "-n", ns, "-f", "-", input=DEPLOYMENT)
    k("scale", "-n", ns, "deploy/web", "--replicas=3")
    assert k("get", "-n", ns, "deploy", "web", "-o", "jsonpath={.spec.replicas}") == "3"
    assert "settings" in k("get", "-n", ns, "cm")
    k("delete", "-n", ns, "cm", "settings")
    assert k("get", "-n", ns, "cm", "-o", "name").strip() == ""
