"""Defaulting of pods and of everything a pod spec contains, as upstream's core/v1 does.

Every function here fills unset fields of a dict the caller owns, in place (the dispatch in
``_strategy`` copies the input first). "Unset" follows the Go type behind the field: for
pointer fields only an absent key or ``null`` counts; for plain strings and numbers the zero
value (``""``, ``0``) counts too, because upstream cannot tell it apart from absent.

Two layers, as upstream keeps them apart:

* :func:`default_pod_spec` runs for every pod spec, including pod templates inside
  workloads (restart policy, DNS policy, containers, probes, volumes, ...).
* :func:`default_pod` runs for Pod objects only: requests copied from limits, service links,
  host-network host ports, and the priority the Priority admission plugin would set.

:func:`default_tolerations` is the DefaultTolerationSeconds admission plugin; the API server
calls it on pod create only.
"""

from __future__ import annotations

import re
from typing import Any

from kybernetes.api._qos import canonical_resource_list

Obj = dict[str, Any]

DEFAULT_SCHEDULER_NAME = "default-scheduler"
DEFAULT_TERMINATION_GRACE_PERIOD = 30
DEFAULT_VOLUME_MODE = 0o644  # 420: configMap, secret, downwardAPI and projected volumes
DEFAULT_TOLERATION_SECONDS = 300
#: The built-in priority classes every cluster has, by name.
SYSTEM_PRIORITY_CLASSES = {
    "system-node-critical": 2000001000,
    "system-cluster-critical": 2000000000,
}


# -- helpers shared by the defaulting modules --------------------------------------------------


def child(obj: Obj, key: str) -> Obj:
    """``obj[key]`` as a dict, created empty when absent or null."""
    value = obj.get(key)
    if not isinstance(value, dict):
        value = {}
        obj[key] = value
    return value


def set_if_none(obj: Obj, key: str, value: Any) -> None:
    """Default a pointer-typed field: only absent or null counts as unset."""
    if obj.get(key) is None:
        obj[key] = value


def set_if_empty(obj: Obj, key: str, value: Any) -> None:
    """Default a plain string or number: its zero value counts as unset too."""
    if not obj.get(key):
        obj[key] = value


def dicts(value: Any) -> list[Obj]:
    """The dict items of a list field (anything else is left to validation)."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


# -- images ------------------------------------------------------------------------------------

_DOMAIN_PART = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN = rf"{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?"
_PATH = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_RE = re.compile(
    rf"^(?:{_DOMAIN}/)?{_PATH}(?:/{_PATH})*"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}))?$"
)


def image_tag(image: str) -> str:
    """The tag an image reference names: ``latest`` when it names neither tag nor digest,
    ``""`` for a digest-only or unparsable reference (upstream's ParseImageName)."""
    m = _IMAGE_RE.match(image)
    if m is None:
        return ""
    if m.group("tag"):
        return m.group("tag")
    return "" if m.group("digest") else "latest"


def default_pull_policy(image: str) -> str:
    return "Always" if image_tag(image) == "latest" else "IfNotPresent"


# -- containers --------------------------------------------------------------------------------


def _default_http_get(action: Obj) -> None:
    set_if_empty(action, "path", "/")
    set_if_empty(action, "scheme", "HTTP")


def _default_handler(handler: Any) -> None:
    """Probe and lifecycle handlers share the action types."""
    if not isinstance(handler, dict):
        return
    if isinstance(handler.get("httpGet"), dict):
        _default_http_get(handler["httpGet"])
    if isinstance(handler.get("grpc"), dict):
        set_if_none(handler["grpc"], "service", "")


def default_probe(probe: Obj) -> None:
    _default_handler(probe)
    set_if_empty(probe, "timeoutSeconds", 1)
    set_if_empty(probe, "periodSeconds", 10)
    set_if_empty(probe, "successThreshold", 1)
    set_if_empty(probe, "failureThreshold", 3)


def default_container(container: Obj) -> None:
    if not container.get("imagePullPolicy"):
        container["imagePullPolicy"] = default_pull_policy(str(container.get("image") or ""))
    set_if_empty(container, "terminationMessagePath", "/dev/termination-log")
    set_if_empty(container, "terminationMessagePolicy", "File")
    # Upstream always serialises the (non-pointer) resources struct, as {} when empty.
    set_if_none(container, "resources", {})
    resources = container["resources"]
    if isinstance(resources, dict):
        canonical_resource_list(resources.get("requests"))
        canonical_resource_list(resources.get("limits"))
    for port in dicts(container.get("ports")):
        set_if_empty(port, "protocol", "TCP")
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        if isinstance(container.get(key), dict):
            default_probe(container[key])
    lifecycle = container.get("lifecycle")
    if isinstance(lifecycle, dict):
        _default_handler(lifecycle.get("postStart"))
        _default_handler(lifecycle.get("preStop"))
    for env in dicts(container.get("env")):
        source = env.get("valueFrom")
        if isinstance(source, dict):
            _default_value_source(source)


def _default_value_source(source: Obj) -> None:
    if isinstance(source.get("fieldRef"), dict):
        set_if_empty(source["fieldRef"], "apiVersion", "v1")
    if isinstance(source.get("resourceFieldRef"), dict):
        # A zero Quantity is serialised as "0" by upstream, so the field always shows.
        set_if_none(source["resourceFieldRef"], "divisor", "0")


# -- volumes -----------------------------------------------------------------------------------


def default_volume_source(source: Obj) -> None:
    """Defaults of the volume source types pods and persistent volumes share."""
    for key in ("secret", "configMap", "downwardAPI", "projected"):
        if isinstance(source.get(key), dict):
            set_if_none(source[key], "defaultMode", DEFAULT_VOLUME_MODE)
    if isinstance(source.get("downwardAPI"), dict):
        for item in dicts(source["downwardAPI"].get("items")):
            if isinstance(item.get("fieldRef"), dict):
                set_if_empty(item["fieldRef"], "apiVersion", "v1")
            _default_value_source(item)
    if isinstance(source.get("projected"), dict):
        for projection in dicts(source["projected"].get("sources")):
            token = projection.get("serviceAccountToken")
            if isinstance(token, dict):
                set_if_none(token, "expirationSeconds", 3600)
            downward = projection.get("downwardAPI")
            if isinstance(downward, dict):
                for item in dicts(downward.get("items")):
                    _default_value_source(item)
    if isinstance(source.get("hostPath"), dict):
        set_if_none(source["hostPath"], "type", "")
    if isinstance(source.get("iscsi"), dict):
        set_if_empty(source["iscsi"], "iscsiInterface", "default")
    if isinstance(source.get("rbd"), dict):
        rbd = source["rbd"]
        set_if_empty(rbd, "pool", "rbd")
        set_if_empty(rbd, "user", "admin")
        set_if_empty(rbd, "keyring", "/etc/ceph/keyring")
    if isinstance(source.get("azureDisk"), dict):
        disk = source["azureDisk"]
        set_if_none(disk, "cachingMode", "ReadWrite")
        set_if_none(disk, "fsType", "ext4")
        set_if_none(disk, "readOnly", False)
        set_if_none(disk, "kind", "Shared")
    if isinstance(source.get("scaleIO"), dict):
        set_if_empty(source["scaleIO"], "storageMode", "ThinProvisioned")
        set_if_empty(source["scaleIO"], "fsType", "xfs")


def default_volume(volume: Obj) -> None:
    if all(key == "name" or value is None for key, value in volume.items()):
        volume["emptyDir"] = {}
    default_volume_source(volume)
    ephemeral = volume.get("ephemeral")
    if isinstance(ephemeral, dict) and isinstance(ephemeral.get("volumeClaimTemplate"), dict):
        template = ephemeral["volumeClaimTemplate"]
        if isinstance(template.get("spec"), dict):
            default_pvc_spec(template["spec"])


def default_pvc_spec(spec: Obj) -> None:
    set_if_none(spec, "volumeMode", "Filesystem")
    resources = spec.get("resources")
    if isinstance(resources, dict):
        canonical_resource_list(resources.get("requests"))
        canonical_resource_list(resources.get("limits"))


# -- pod specs and pods ------------------------------------------------------------------------


def default_pod_spec(spec: Obj) -> None:
    set_if_empty(spec, "dnsPolicy", "ClusterFirst")
    set_if_empty(spec, "restartPolicy", "Always")
    set_if_none(spec, "securityContext", {})
    set_if_none(spec, "terminationGracePeriodSeconds", DEFAULT_TERMINATION_GRACE_PERIOD)
    set_if_empty(spec, "schedulerName", DEFAULT_SCHEDULER_NAME)
    canonical_resource_list(spec.get("overhead"))
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for container in dicts(spec.get(key)):
            default_container(container)
    for volume in dicts(spec.get("volumes")):
        default_volume(volume)


def default_pod_template(template: Any) -> None:
    """Defaults of a PodTemplateSpec inside a workload (the pod-only layer is not applied)."""
    if isinstance(template, dict):
        default_pod_spec(child(template, "spec"))


def default_pod(pod: Obj) -> None:
    spec = child(pod, "spec")
    default_pod_spec(spec)
    for key in ("containers", "initContainers"):
        for container in dicts(spec.get(key)):
            _requests_from_limits(container)
    set_if_none(spec, "enableServiceLinks", True)
    if spec.get("hostNetwork") is True:
        for key in ("containers", "initContainers"):
            for container in dicts(spec.get(key)):
                for port in dicts(container.get("ports")):
                    if not port.get("hostPort"):
                        port["hostPort"] = port.get("containerPort")
    _default_priority(spec)


def _requests_from_limits(container: Obj) -> None:
    resources = container.get("resources")
    if not isinstance(resources, dict) or not isinstance(resources.get("limits"), dict):
        return
    requests = child(resources, "requests")
    for name, value in resources["limits"].items():
        requests.setdefault(name, value)


def _default_priority(spec: Obj) -> None:
    """What the Priority admission plugin sets when it needs no PriorityClass lookup: 0 for
    pods naming no class, the fixed values of the two system classes. A pod naming any other
    class is left for the API server, which must look the class up (:func:`apply_priority_class`).
    """
    name = spec.get("priorityClassName") or ""
    if not name:
        set_if_none(spec, "priority", 0)
    elif name in SYSTEM_PRIORITY_CLASSES:
        set_if_none(spec, "priority", SYSTEM_PRIORITY_CLASSES[name])
    else:
        return
    set_if_none(spec, "preemptionPolicy", "PreemptLowerPriority")


def apply_priority_class(pod: Obj, priority_class: Obj) -> Obj:
    """A copy of ``pod`` with the priority and preemption policy of ``priority_class``
    (the PriorityClass object its ``spec.priorityClassName`` names)."""
    out = dict(pod)
    spec = dict(out.get("spec") or {})
    out["spec"] = spec
    spec["priority"] = priority_class.get("value", 0)
    spec["preemptionPolicy"] = priority_class.get("preemptionPolicy") or "PreemptLowerPriority"
    return out


def default_tolerations(pod: Obj) -> Obj:
    """A copy of ``pod`` with the not-ready and unreachable NoExecute tolerations (300 s)
    added unless it already tolerates those taints (DefaultTolerationSeconds admission).
    ``pod`` itself comes back when nothing needs adding."""
    spec = pod.get("spec") or {}
    tolerations = list(dicts(spec.get("tolerations")))
    added = False
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if any(
            (t.get("key") or "") in ("", key) and (t.get("effect") or "") in ("", "NoExecute")
            for t in tolerations
        ):
            continue
        tolerations.append(
            {
                "key": key,
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
            }
        )
        added = True
    if not added:
        return pod
    return {**pod, "spec": {**spec, "tolerations": tolerations}}
