"""Which field labels each resource can be selected by, and how to read them from an object.

Promises: :func:`field_labels_for` gives, for a built-in ``(group, resource)``, the labels
upstream's per-kind field label conversion accepts, the aliases it rewrites (``spec.host``
to ``spec.nodeName`` on pods), the exact error it returns for any other label, and a reader
per label that renders the value the way upstream's ``ToSelectableFields`` does: strings
as-is, booleans ``true``/``false`` (``spec.hostNetwork`` and ``spec.unschedulable`` default
to ``false``), counters as decimal (``status.replicas`` defaults to ``0``), absent as ``""``.
Readers take the object in the shape of the resource's own API version and never raise.

Resources without their own rules get upstream's default: ``metadata.name`` and
``metadata.namespace`` only. :func:`custom_field_labels` gives the rules for a custom
resource (``metadata.namespace`` only when namespaced, plus the CRD's selectable fields).

One deliberate difference from upstream 1.33: ``replicasets.apps`` accepts
``status.replicas``, as Kubernetes' documentation promises; upstream forgot to register it
for ``apps/v1`` (kubernetes/kubernetes#135136) and answers ``is not a known field selector``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kybernetes.api._errors import go_quote
from kybernetes.api._labels import SelectorError

FieldGetter = Callable[[Mapping[str, Any]], str]


def _lookup(obj: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    cur: Any = obj
    for part in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(part)
    return cur


def render_field_value(value: Any) -> str:
    """A JSON scalar as a field selector compares it; absent and non-scalars read ``""``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return ""


def field_value(obj: Mapping[str, Any], dotted_path: str) -> str:
    """The value at ``dotted_path`` (``spec.nodeName``) of a JSON-shaped object, as text."""
    return render_field_value(_lookup(obj, tuple(dotted_path.split("."))))


def _path(dotted: str) -> FieldGetter:
    parts = tuple(dotted.split("."))
    return lambda obj: render_field_value(_lookup(obj, parts))


def _bool_default_false(dotted: str) -> FieldGetter:
    parts = tuple(dotted.split("."))
    return lambda obj: "true" if _lookup(obj, parts) is True else "false"


def _count(dotted: str) -> FieldGetter:
    parts = tuple(dotted.split("."))

    def get(obj: Mapping[str, Any]) -> str:
        value = _lookup(obj, parts)
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else "0"

    return get


def _first_of(*getters: FieldGetter) -> FieldGetter:
    def get(obj: Mapping[str, Any]) -> str:
        for g in getters:
            value = g(obj)
            if value:
                return value
        return ""

    return get


def _pod_ip(obj: Mapping[str, Any]) -> str:
    # Upstream reads podIPs[0]; v1 objects written by old clients may carry only podIP.
    ips = _lookup(obj, ("status", "podIPs"))
    if isinstance(ips, list) and ips and isinstance(ips[0], Mapping):
        return render_field_value(ips[0].get("ip"))
    return render_field_value(_lookup(obj, ("status", "podIP")))


def _never(_obj: Mapping[str, Any]) -> str:
    return ""


def _not_supported(label: str) -> str:
    return f"field label not supported: {label}"


def _not_known(label: str) -> str:
    only = '"metadata.name", "metadata.namespace"'
    return f"{go_quote(label)} is not a known field selector: only {only}"


def _not_supported_for_job(label: str) -> str:
    return f"field label {go_quote(label)} not supported for Job"


@dataclass(frozen=True, slots=True, eq=False)
class FieldLabels:
    """The field labels of one resource: readers, aliases, and the rejection message."""

    getters: Mapping[str, FieldGetter]
    reject: Callable[[str], str] = _not_supported
    aliases: Mapping[str, str] = field(default_factory=dict)

    @property
    def supported(self) -> frozenset[str]:
        """Every label a selector may name (aliases included)."""
        return frozenset(self.getters) | frozenset(self.aliases)

    def convert(self, label: str) -> str:
        """The canonical label for ``label``; raise :class:`SelectorError` if unsupported."""
        if label in self.getters:
            return label
        if label in self.aliases:
            return self.aliases[label]
        raise SelectorError(self.reject(label))

    def value(self, obj: Mapping[str, Any], label: str) -> str:
        getter = self.getters.get(label)
        return getter(obj) if getter is not None else ""

    def fields(self, obj: Mapping[str, Any]) -> dict[str, str]:
        """Every selectable field of ``obj`` (upstream's ``fields.Set`` for it)."""
        return {label: get(obj) for label, get in self.getters.items()}


_NAME = {"metadata.name": _path("metadata.name")}
_NAME_NS = {**_NAME, "metadata.namespace": _path("metadata.namespace")}
_DEFAULT = FieldLabels(_NAME_NS, reject=_not_known)

_CORE_EVENT_SOURCE = _first_of(_path("source.component"), _path("reportingComponent"))
_NEW_EVENT_SOURCE = _first_of(_path("deprecatedSource.component"), _path("reportingController"))
_REF_FIELDS = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")

_BUILTIN: dict[tuple[str, str], FieldLabels] = {
    ("", "pods"): FieldLabels(
        {
            **_NAME_NS,
            "spec.nodeName": _path("spec.nodeName"),
            "spec.restartPolicy": _path("spec.restartPolicy"),
            "spec.schedulerName": _path("spec.schedulerName"),
            "spec.serviceAccountName": _path("spec.serviceAccountName"),
            "spec.hostNetwork": _bool_default_false("spec.hostNetwork"),
            "status.phase": _path("status.phase"),
            "status.podIP": _pod_ip,
            # Accepted by upstream's conversion but absent from its field set: always "".
            "status.podIPs": _never,
            "status.nominatedNodeName": _path("status.nominatedNodeName"),
        },
        # Old v1 clients still send spec.host.
        aliases={"spec.host": "spec.nodeName"},
    ),
    ("", "nodes"): FieldLabels(
        {**_NAME, "spec.unschedulable": _bool_default_false("spec.unschedulable")}
    ),
    ("", "replicationcontrollers"): FieldLabels(
        {**_NAME_NS, "status.replicas": _count("status.replicas")}
    ),
    ("", "events"): FieldLabels(
        {
            **_NAME_NS,
            **{f"involvedObject.{f}": _path(f"involvedObject.{f}") for f in _REF_FIELDS},
            "reason": _path("reason"),
            "reportingComponent": _path("reportingComponent"),
            "source": _CORE_EVENT_SOURCE,
            "type": _path("type"),
        }
    ),
    ("", "namespaces"): FieldLabels({**_NAME, "status.phase": _path("status.phase")}),
    ("", "secrets"): FieldLabels({**_NAME_NS, "type": _path("type")}),
    ("", "services"): FieldLabels(
        {**_NAME_NS, "spec.clusterIP": _path("spec.clusterIP"), "spec.type": _path("spec.type")}
    ),
    ("apps", "replicasets"): FieldLabels(
        {**_NAME_NS, "status.replicas": _count("status.replicas")}
    ),
    ("batch", "jobs"): FieldLabels(
        {**_NAME_NS, "status.successful": _count("status.succeeded")},
        reject=_not_supported_for_job,
    ),
    ("events.k8s.io", "events"): FieldLabels(
        {
            **_NAME_NS,
            **{f"regarding.{f}": _path(f"regarding.{f}") for f in _REF_FIELDS},
            "reason": _path("reason"),
            "reportingController": _path("reportingController"),
            "source": _NEW_EVENT_SOURCE,
            "type": _path("type"),
        }
    ),
    ("certificates.k8s.io", "certificatesigningrequests"): FieldLabels(
        {**_NAME, "spec.signerName": _path("spec.signerName")}
    ),
    ("certificates.k8s.io", "clustertrustbundles"): FieldLabels(
        {**_NAME, "spec.signerName": _path("spec.signerName")}
    ),
}


def field_labels_for(group: str, resource: str) -> FieldLabels:
    """The field label rules of a built-in resource (``""``/``"pods"``, ``"batch"``/``"jobs"``)."""
    return _BUILTIN.get((group, resource), _DEFAULT)


def custom_field_labels(namespaced: bool, selectable_fields: Iterable[str] = ()) -> FieldLabels:
    """The rules for a custom resource; ``selectable_fields`` are the CRD's JSON paths.

    Paths may be given as the CRD writes them (``.spec.color``) or as labels (``spec.color``).
    """
    getters: dict[str, FieldGetter] = dict(_NAME_NS if namespaced else _NAME)
    for path in selectable_fields:
        label = path.removeprefix(".")
        getters[label] = _path(label)
    return FieldLabels(getters)
