"""Server-side apply and managedFields through real clients: kubectl (``apply --server-side``,
client-side apply, scale, label, ``--show-managed-fields``), the official Python client, and
raw HTTP for what neither sends (YAML bodies, ``/status``, malformed configurations)."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
import requests
import yaml
from kubernetes import client
from tests.integration.apiserver.conftest import VENV_KUBECTL, Cluster

IMAGE_KUBECTL = pathlib.Path("/usr/bin/kubectl")
#: The key scenarios also run with the image's kubectl (it picks its bundled 1.33).
KUBECTLS = [
    pytest.param(VENV_KUBECTL, id="pypi-kubectl"),
    pytest.param(
        IMAGE_KUBECTL,
        id="image-kubectl",
        marks=pytest.mark.skipif(not IMAGE_KUBECTL.exists(), reason="no /usr/bin/kubectl"),
    ),
]

APPLY = "application/apply-patch+yaml"

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
"""

CONFIGMAP = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels: {{tier: a}}
data:
{data}
"""


def _get(cluster: Cluster, ns: str, *what: str, binary: pathlib.Path = VENV_KUBECTL) -> Any:
    args = ("get", "-n", ns, *what, "-o", "json", "--show-managed-fields")
    out = cluster.kubectl(*args, binary=binary).stdout
    return json.loads(out)


def _managers(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["manager"]: e for e in obj["metadata"].get("managedFields", [])}


@pytest.mark.parametrize("kubectl", KUBECTLS)
def test_apply_twice_is_unchanged_and_managed_by_kubectl(
    cluster: Cluster, ns: str, kubectl: pathlib.Path
) -> None:
    def k(*args: str, input: str | None = None) -> str:
        return cluster.kubectl("-n", ns, *args, input=input, binary=kubectl).stdout

    manifest = DEPLOYMENT.format(replicas=2)
    assert "serverside-applied" in k("apply", "--server-side", "-f", "-", input=manifest)
    first = _get(cluster, ns, "deploy", "web")
    k("apply", "--server-side", "-f", "-", input=manifest)
    second = _get(cluster, ns, "deploy", "web")
    # Nothing changed: nothing written (same resourceVersion, same managedFields times).
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert second["metadata"]["managedFields"] == first["metadata"]["managedFields"]

    entry = _managers(second)["kubectl"]
    assert entry["operation"] == "Apply" and entry["apiVersion"] == "apps/v1"
    assert entry["time"]
    owned = entry["fieldsV1"]["f:spec"]
    assert set(owned) == {"f:replicas", "f:selector", "f:template"}
    container = owned["f:template"]["f:spec"]["f:containers"]['k:{"name":"app"}']
    assert set(container) == {".", "f:image", "f:name"}
    # Defaults are the server's, not the applier's.
    assert second["spec"]["template"]["spec"]["restartPolicy"] == "Always"
    assert "f:restartPolicy" not in json.dumps(entry["fieldsV1"])

    shown = yaml.safe_load(k("get", "deploy", "web", "-o", "yaml", "--show-managed-fields"))
    assert [e["manager"] for e in shown["metadata"]["managedFields"]] == ["kubectl"]
    hidden = yaml.safe_load(k("get", "deploy", "web", "-o", "yaml"))
    assert "managedFields" not in hidden["metadata"]


@pytest.mark.parametrize("kubectl", KUBECTLS)
def test_apply_after_scale_conflicts_until_forced(
    cluster: Cluster, ns: str, kubectl: pathlib.Path
) -> None:
    def k(*args: str, input: str | None = None, check: bool = True) -> Any:
        return cluster.kubectl("-n", ns, *args, input=input, binary=kubectl, check=check)

    k("apply", "--server-side", "-f", "-", input=DEPLOYMENT.format(replicas=2))
    k("scale", "deployment/web", "--replicas=5")
    scaled = _get(cluster, ns, "deploy", "web")
    # kubectl scale sends no fieldManager: its User-Agent names it, on the scale subresource.
    scaler = [e for e in scaled["metadata"]["managedFields"] if e.get("subresource") == "scale"]
    assert [(e["manager"], e["operation"]) for e in scaler] == [("kubectl", "Update")]
    assert scaler[0]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}

    refused = k(
        "apply", "--server-side", "-f", "-", input=DEPLOYMENT.format(replicas=3), check=False
    )
    assert refused.returncode != 0
    assert (
        'error: Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" '
        "using apps/v1: .spec.replicas"
    ) in refused.stderr
    assert "--force-conflicts" in refused.stderr
    assert _get(cluster, ns, "deploy", "web")["spec"]["replicas"] == 5

    # Agreeing with the current value is co-ownership, never a conflict.
    k("apply", "--server-side", "-f", "-", input=DEPLOYMENT.format(replicas=5))

    k("apply", "--server-side", "--force-conflicts", "-f", "-", input=DEPLOYMENT.format(replicas=3))
    forced = _get(cluster, ns, "deploy", "web")
    assert forced["spec"]["replicas"] == 3
    assert not any(e.get("subresource") for e in forced["metadata"]["managedFields"])
    assert "f:replicas" in _managers(forced)["kubectl"]["fieldsV1"]["f:spec"]


def test_each_kubectl_command_is_a_manager(cluster: Cluster, ns: str) -> None:
    k = cluster.kubectl
    k("create", "-n", ns, "-f", "-", input=CONFIGMAP.format(data="  mode: a"))
    k("label", "-n", ns, "cm", "settings", "owner=me")
    k("annotate", "-n", ns, "cm", "settings", "note=x")
    k("patch", "-n", ns, "cm", "settings", "--type=merge", "-p", '{"data":{"extra":"1"}}')
    shown = yaml.safe_load(
        k("get", "-n", ns, "cm", "settings", "-o", "yaml", "--show-managed-fields").stdout
    )
    managers = _managers(shown)
    assert set(managers) == {"kubectl-create", "kubectl-label", "kubectl-annotate", "kubectl-patch"}
    assert all(e["operation"] == "Update" and e["apiVersion"] == "v1" for e in managers.values())
    assert managers["kubectl-create"]["fieldsV1"] == {
        "f:data": {".": {}, "f:mode": {}},
        "f:metadata": {"f:labels": {".": {}, "f:tier": {}}},
    }
    assert managers["kubectl-label"]["fieldsV1"] == {"f:metadata": {"f:labels": {"f:owner": {}}}}
    assert managers["kubectl-patch"]["fieldsV1"] == {"f:data": {"f:extra": {}}}

    # A write that changes nothing is no write, whoever makes it.
    before = shown["metadata"]["resourceVersion"]
    k("label", "-n", ns, "cm", "settings", "owner=me", "--overwrite")
    assert _get(cluster, ns, "cm", "settings")["metadata"]["resourceVersion"] == before


def test_server_side_apply_takes_over_from_client_side_apply(cluster: Cluster, ns: str) -> None:
    k = cluster.kubectl
    original = CONFIGMAP.format(data="  mode: a\n  extra: x")
    assert "created" in k("apply", "-n", ns, "-f", "-", input=original).stdout
    csa = _get(cluster, ns, "cm", "settings")
    assert set(_managers(csa)) == {"kubectl-client-side-apply"}

    # kubectl moves the client-side owner's fields to its apply entry: no conflict.
    k("apply", "-n", ns, "--server-side", "-f", "-", input=original)
    ssa = _get(cluster, ns, "cm", "settings")
    managers = _managers(ssa)
    assert "kubectl-client-side-apply" not in managers
    assert managers["kubectl"]["operation"] == "Apply"
    assert {"f:mode", "f:extra"} <= set(managers["kubectl"]["fieldsV1"]["f:data"])
    assert ssa["data"] == {"mode": "a", "extra": "x"}

    # From now on apply owns them: dropping a field from the configuration removes it.
    k("apply", "-n", ns, "--server-side", "-f", "-", input=CONFIGMAP.format(data="  mode: b"))
    assert _get(cluster, ns, "cm", "settings")["data"] == {"mode": "b"}


def test_client_side_apply_still_works_on_a_server_side_applied_object(
    cluster: Cluster, ns: str
) -> None:
    k = cluster.kubectl
    k("apply", "-n", ns, "--server-side", "-f", "-", input=CONFIGMAP.format(data="  mode: a"))
    out = k("apply", "-n", ns, "-f", "-", input=CONFIGMAP.format(data="  mode: c")).stdout
    assert "configured" in out
    obj = _get(cluster, ns, "cm", "settings")
    assert obj["data"] == {"mode": "c"}
    managers = _managers(obj)
    assert managers["kubectl-client-side-apply"]["operation"] == "Update"
    assert "f:mode" in managers["kubectl-client-side-apply"]["fieldsV1"]["f:data"]
    assert "f:mode" not in managers["kubectl"]["fieldsV1"].get("f:data", {})
    again = k("apply", "-n", ns, "-f", "-", input=CONFIGMAP.format(data="  mode: c")).stdout
    assert "unchanged" in again


def test_python_client_applies_creates_and_updates(cluster: Cluster, ns: str) -> None:
    apps = client.AppsV1Api(cluster.api())
    body: dict[str, Any] = yaml.safe_load(DEPLOYMENT.format(replicas=1))

    def apply(manager: str | None, **kwargs: Any) -> tuple[Any, int]:
        extra = {"field_manager": manager} if manager else {}
        data, status, _ = apps.patch_namespaced_deployment_with_http_info(
            "web", ns, body, _content_type=APPLY, **extra, **kwargs
        )
        return data, status

    created, status = apply("deployer")
    assert status == 201 and created.spec.replicas == 1
    assert [(m.manager, m.operation) for m in created.metadata.managed_fields] == [
        ("deployer", "Apply")
    ]
    body["spec"]["replicas"] = 3
    updated, status = apply("deployer")
    assert status == 200 and updated.spec.replicas == 3
    assert updated.metadata.uid == created.metadata.uid

    with pytest.raises(client.ApiException) as missing:
        apply(None)
    assert missing.value.status == 422
    assert json.loads(missing.value.body)["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
        "is required for apply patch"
    )

    body["spec"]["replicas"] = 4
    with pytest.raises(client.ApiException) as conflict:
        apply("autoscaler")
    status_doc = json.loads(conflict.value.body)
    assert (conflict.value.status, status_doc["reason"]) == (409, "Conflict")
    assert status_doc["details"]["causes"] == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "deployer"',
            "field": ".spec.replicas",
        }
    ]
    forced, _ = apply("autoscaler", force=True)
    assert forced.spec.replicas == 4
    managers = {m.manager: m for m in forced.metadata.managed_fields}
    assert "f:replicas" not in managers["deployer"].fields_v1["f:spec"]

    # The client's plain patch is an Update by "OpenAPI-Generator" (its User-Agent).
    labelled = apps.patch_namespaced_deployment("web", ns, {"metadata": {"labels": {"x": "y"}}})
    entry = {m.manager: m for m in labelled.metadata.managed_fields}["OpenAPI-Generator"]
    assert entry.operation == "Update"
    assert entry.fields_v1 == {"f:metadata": {"f:labels": {".": {}, "f:x": {}}}}


# -- raw HTTP: what the clients above never send -------------------------------------------


def _apply_http(
    cluster: Cluster, path: str, body: str | bytes, manager: str = "tester", **params: str
) -> requests.Response:
    return requests.patch(
        cluster.url + path,
        params={"fieldManager": manager, **params},
        data=body,
        headers={"Content-Type": APPLY},
        timeout=30,
    )


def test_status_apply_owns_status_only(cluster: Cluster, ns: str) -> None:
    base = f"/apis/apps/v1/namespaces/{ns}/deployments/web"
    assert _apply_http(cluster, base + "/status", DEPLOYMENT.format(replicas=1)).status_code == 404
    assert _apply_http(cluster, base, DEPLOYMENT.format(replicas=1)).status_code == 201
    status_config = DEPLOYMENT.format(replicas=9) + "status:\n  observedGeneration: 1\n"
    answer = _apply_http(cluster, base + "/status", status_config, manager="controller")
    assert answer.status_code == 200, answer.text
    obj = answer.json()
    assert obj["status"]["observedGeneration"] == 1
    assert obj["spec"]["replicas"] == 1  # spec is not written through /status
    entry = _managers(obj)["controller"]
    assert (entry["operation"], entry["subresource"]) == ("Apply", "status")
    assert entry["fieldsV1"] == {"f:status": {"f:observedGeneration": {}}}
    # ...and status is not written through the main resource.
    again = _apply_http(cluster, base, DEPLOYMENT.format(replicas=1) + "status:\n  replicas: 7\n")
    assert again.status_code == 200 and "replicas" not in again.json()["status"]


def test_yaml_configuration_duplicates_and_validation(cluster: Cluster, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps/dup"
    dup = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\ndata:\n  a: '1'\n  a: '2'\n"
    strict = _apply_http(cluster, path, dup, fieldValidation="Strict")
    assert strict.status_code == 400
    assert strict.json()["message"] == (
        "error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n"
        '  line 7: key "a" already set in map'
    )
    assert requests.get(cluster.url + path, timeout=30).status_code == 404
    warned = _apply_http(cluster, path, dup)  # Warn is the default
    assert warned.status_code == 201
    assert warned.headers["Warning"] == '299 - "line 7: key \\"a\\" already set in map"'
    assert warned.json()["data"] == {"a": "2"}

    stamped = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\ndata:\n  a: 2024-01-01\n"
    assert _apply_http(cluster, path, stamped).json()["data"] == {"a": "2024-01-01"}

    unknown = _apply_http(cluster, path, stamped + "spec:\n  x: 1\n", fieldValidation="Ignore")
    assert unknown.status_code == 400
    assert unknown.json()["message"] == (
        f"failed to create typed patch object ({ns}/dup; /v1, Kind=ConfigMap): "
        ".spec: field not declared in schema"
    )
    wrong_kind = _apply_http(cluster, path, stamped.replace("ConfigMap", "Secret"))
    assert wrong_kind.status_code == 400
    assert wrong_kind.json()["message"] == "invalid object type: /v1, Kind=Secret"
    other_name = _apply_http(cluster, path, stamped.replace("name: dup", "name: other"))
    assert other_name.status_code == 400
    assert "does not match the name on the URL" in other_name.json()["message"]
    assert _apply_http(cluster, path, b"data: [unclosed").status_code == 400
    cbor = requests.patch(
        cluster.url + path,
        params={"fieldManager": "tester"},
        data=b"\xa0",
        headers={"Content-Type": "application/apply-patch+cbor"},
        timeout=30,
    )
    assert cbor.status_code == 415


def test_dry_run_apply_and_missing_namespace(cluster: Cluster, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps/dry"
    body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dry\ndata:\n  a: b\n"
    dry = _apply_http(cluster, path, body, dryRun="All")
    assert dry.status_code == 201 and dry.json()["data"] == {"a": "b"}
    assert requests.get(cluster.url + path, timeout=30).status_code == 404
    gone = _apply_http(cluster, "/api/v1/namespaces/no-such-ns/configmaps/dry", body)
    assert gone.status_code == 404
    assert gone.json()["message"] == 'namespaces "no-such-ns" not found'
    # Cluster-scoped: a namespace in the configuration is dropped, as upstream does.
    name = f"{ns}-applied"
    config = f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n  namespace: x\n"
    created = _apply_http(cluster, f"/api/v1/namespaces/{name}", config)
    assert created.status_code == 201, created.text
    assert "namespace" not in created.json()["metadata"]
    assert created.json()["status"]["phase"] == "Active"


def test_force_is_only_for_apply(cluster: Cluster, ns: str) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "f"}}
    client.CoreV1Api(cluster.api()).create_namespaced_config_map(ns, cm)
    answer = requests.patch(
        f"{cluster.url}/api/v1/namespaces/{ns}/configmaps/f",
        params={"force": "true"},
        data='{"data":{"a":"b"}}',
        headers={"Content-Type": "application/merge-patch+json"},
        timeout=30,
    )
    assert answer.status_code == 422
    assert answer.json()["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for '
        "non-apply patch"
    )


def test_scale_apply_moves_replicas_ownership_on_the_workload(cluster: Cluster, ns: str) -> None:
    base = f"/apis/apps/v1/namespaces/{ns}/deployments/web"
    assert _apply_http(cluster, base, DEPLOYMENT.format(replicas=2), manager="deployer").ok
    scale = (
        "apiVersion: autoscaling/v1\nkind: Scale\nmetadata:\n  name: web\nspec:\n  replicas: 6\n"
    )
    refused = _apply_http(cluster, base + "/scale", scale, manager="hpa")
    assert refused.status_code == 409
    assert refused.json()["details"]["causes"] == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "deployer"',
            "field": ".spec.replicas",
        }
    ]
    forced = _apply_http(cluster, base + "/scale", scale, manager="hpa", force="true")
    assert forced.status_code == 200, forced.text
    assert forced.json()["kind"] == "Scale" and forced.json()["spec"]["replicas"] == 6
    workload = _get(cluster, ns, "deploy", "web")
    assert workload["spec"]["replicas"] == 6
    managers = _managers(workload)
    hpa = managers["hpa"]
    assert (hpa["operation"], hpa["apiVersion"], hpa["subresource"]) == (
        "Apply",
        "apps/v1",
        "scale",
    )
    assert hpa["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in managers["deployer"]["fieldsV1"]["f:spec"]
    assert "f:template" in managers["deployer"]["fieldsV1"]["f:spec"]
    # The same Scale again changes nothing: not written.
    again = _apply_http(cluster, base + "/scale", scale, manager="hpa")
    assert again.json()["metadata"]["resourceVersion"] == workload["metadata"]["resourceVersion"]
    wrong = _apply_http(cluster, base + "/scale", DEPLOYMENT.format(replicas=1), manager="hpa")
    assert wrong.status_code == 400
    assert wrong.json()["message"] == "invalid object type: apps/v1, Kind=Deployment"
