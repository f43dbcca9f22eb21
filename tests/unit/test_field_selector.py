"""Field selectors: parsing, escaping, per-resource support and matching (as upstream)."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.api import (
    REGISTRY,
    FieldRequirement,
    FieldSelector,
    SelectorError,
    custom_field_labels,
    escape_field_value,
    field_labels_for,
    field_value,
    parse_field_selector,
    unescape_field_value,
)


@pytest.mark.parametrize(
    ("text", "canonical", "requirements"),
    [
        ("", "", []),
        (",,", "", []),
        ("metadata.name=x", "metadata.name=x", [("metadata.name", "=", "x")]),
        ("metadata.name==x", "metadata.name=x", [("metadata.name", "=", "x")]),
        ("metadata.namespace!=y", "metadata.namespace!=y", [("metadata.namespace", "!=", "y")]),
        ("spec.nodeName=", "spec.nodeName=", [("spec.nodeName", "=", "")]),
        ("b=2,a!=1", "a!=1,b=2", [("a", "!=", "1"), ("b", "=", "2")]),
        ("a=x\\,y", "a=x\\,y", [("a", "=", "x,y")]),
        ("a=x\\=y", "a=x\\=y", [("a", "=", "x=y")]),
        ("a=x\\\\", "a=x\\\\", [("a", "=", "x\\")]),
        ("a=b,,c=d", "a=b,c=d", [("a", "=", "b"), ("c", "=", "d")]),
        # Nothing is trimmed: blanks belong to the field and the value.
        ("a = b", "a = b", [("a ", "=", " b")]),
        # The first operator splits; an operator-looking field part cannot be escaped.
        ("a!==b", None, None),
        ("=x", "=x", [("", "=", "x")]),
    ],
)
def test_parse(
    text: str, canonical: str | None, requirements: list[tuple[str, str, str]] | None
) -> None:
    if canonical is None:
        with pytest.raises(SelectorError):
            parse_field_selector(text)
        return
    sel = parse_field_selector(text)
    assert str(sel) == canonical
    assert [(r.field, r.operator, r.value) for r in sel.requirements] == requirements
    assert parse_field_selector(str(sel)) == sel


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a", "invalid selector: 'a'; can't understand 'a'"),
        ("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"),
        ("a=b=c", "invalid field selector: unescaped character in value: 61"),
        ("a!==b", "invalid field selector: unescaped character in value: 61"),
        ("a=x\\y", "invalid field selector: invalid escape sequence: \\y"),
        ("a=x\\", "invalid field selector: invalid escape sequence: \\"),
        # Terms are looked at in sorted order, so "a" is reported before "b=c=d".
        ("b=c=d,a", "invalid selector: 'b=c=d,a'; can't understand 'a'"),
    ],
)
def test_parse_errors_use_upstream_wording(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        parse_field_selector(text)
    assert str(info.value) == message


def test_escaping_round_trips() -> None:
    raw = "a,b=c\\d"
    assert escape_field_value(raw) == "a\\,b\\=c\\\\d"
    assert unescape_field_value(escape_field_value(raw)) == raw
    sel = FieldSelector((FieldRequirement("metadata.name", "=", raw),))
    assert str(sel) == "metadata.name=a\\,b\\=c\\\\d"
    assert parse_field_selector(str(sel)) == sel


_POD: dict[str, Any] = {
    "metadata": {"name": "web-1", "namespace": "prod"},
    "spec": {"nodeName": "n1", "restartPolicy": "Always", "schedulerName": "default-scheduler"},
    "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.7"}], "podIP": "10.0.0.7"},
}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("", True),
        ("metadata.name=web-1", True),
        ("metadata.name=web-2", False),
        ("metadata.namespace!=prod", False),
        ("metadata.namespace!=dev", True),
        ("spec.nodeName=n1,status.phase=Running", True),
        ("spec.nodeName=n1,status.phase!=Running", False),
        ("spec.serviceAccountName=", True),  # missing reads ""
        ("spec.serviceAccountName!=", False),
        ("status.nominatedNodeName=x", False),
        ("status.podIP=10.0.0.7", True),
    ],
)
def test_matches_pods(selector: str, expected: bool) -> None:
    sel = parse_field_selector(selector)
    assert sel.matches(_POD) is expected
    assert sel.for_resource("", "pods").matches(_POD) is expected


def test_unbound_selector_reads_dotted_paths() -> None:
    obj = {"spec": {"replicas": 3, "paused": True, "tags": ["x"]}, "kind": "Thing"}
    assert field_value(obj, "spec.replicas") == "3"
    assert field_value(obj, "spec.paused") == "true"
    assert field_value(obj, "kind") == "Thing"
    assert field_value(obj, "spec.tags") == ""  # not a scalar
    assert field_value(obj, "spec.missing.deeper") == ""
    assert field_value(obj, "kind.deeper") == ""
    assert parse_field_selector("spec.replicas=3,spec.paused=true").matches(obj)
    assert parse_field_selector("spec.paused!=false").matches(obj)


def test_pod_fields_render_like_upstream() -> None:
    pods = field_labels_for("", "pods")
    bare: dict[str, Any] = {"metadata": {"name": "p"}}
    assert pods.fields(bare) == {
        "metadata.name": "p",
        "metadata.namespace": "",
        "spec.nodeName": "",
        "spec.restartPolicy": "",
        "spec.schedulerName": "",
        "spec.serviceAccountName": "",
        "spec.hostNetwork": "false",  # defaults to false, never ""
        "status.phase": "",
        "status.podIP": "",
        "status.podIPs": "",
        "status.nominatedNodeName": "",
    }
    host = {"spec": {"hostNetwork": True}, "status": {"podIP": "1.2.3.4"}}
    assert pods.value(host, "spec.hostNetwork") == "true"
    assert pods.value(host, "status.podIP") == "1.2.3.4"  # podIPs absent: falls back
    dual = {"status": {"podIPs": [{"ip": "10.1.0.2"}, {"ip": "fd00::2"}], "podIP": "x"}}
    assert pods.value(dual, "status.podIP") == "10.1.0.2"
    host_sel = parse_field_selector("spec.hostNetwork=false").for_resource("", "pods")
    assert host_sel.matches(bare) and not host_sel.matches(host)
    # Upstream accepts status.podIPs but never fills it in: only "" matches.
    assert parse_field_selector("status.podIPs=").for_resource("", "pods").matches(dual)


def test_spec_host_is_an_alias_of_spec_node_name() -> None:
    sel = parse_field_selector("spec.host=n1").for_resource("", "pods")
    assert str(sel) == "spec.nodeName=n1"
    assert sel.matches(_POD)
    assert sel.exact_matches() == {"spec.nodeName": "n1"}


def test_counters_booleans_and_renamed_fields() -> None:
    rc = field_labels_for("", "replicationcontrollers")
    assert rc.value({}, "status.replicas") == "0"
    assert rc.value({"status": {"replicas": 3}}, "status.replicas") == "3"
    rs = parse_field_selector("status.replicas=0").for_resource("apps", "replicasets")
    assert rs.matches({"status": {}}) and not rs.matches({"status": {"replicas": 2}})
    job = parse_field_selector("status.successful=1").for_resource("batch", "jobs")
    assert job.matches({"status": {"succeeded": 1}})
    assert not job.matches({"status": {}})
    node = parse_field_selector("spec.unschedulable=false").for_resource("", "nodes")
    assert node.matches({"spec": {}}) and not node.matches({"spec": {"unschedulable": True}})


def test_event_fields() -> None:
    event = {
        "metadata": {"name": "e1", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "web-1", "uid": "u1", "namespace": "default"},
        "reason": "Scheduled",
        "type": "Normal",
        "source": {"component": "default-scheduler"},
        "reportingComponent": "",
    }
    sel = parse_field_selector(
        "involvedObject.kind=Pod,involvedObject.name=web-1,involvedObject.uid=u1,"
        "reason=Scheduled,type=Normal,source=default-scheduler"
    ).for_resource("", "events")
    assert sel.matches(event)
    # "source" falls back to reportingComponent when source.component is empty.
    new_style = {"reportingComponent": "kubelet", "source": {}}
    assert parse_field_selector("source=kubelet").for_resource("", "events").matches(new_style)
    # events.k8s.io names the same things differently.
    v1 = {"regarding": {"kind": "Node"}, "reportingController": "kubelet"}
    sel2 = parse_field_selector("regarding.kind=Node,source=kubelet,reportingController=kubelet")
    assert sel2.for_resource("events.k8s.io", "events").matches(v1)


@pytest.mark.parametrize(
    ("group", "resource", "label", "message"),
    [
        ("", "pods", "spec.containers", "field label not supported: spec.containers"),
        ("", "nodes", "metadata.namespace", "field label not supported: metadata.namespace"),
        ("", "namespaces", "metadata.namespace", "field label not supported: metadata.namespace"),
        ("", "events", "regarding.kind", "field label not supported: regarding.kind"),
        (
            "events.k8s.io",
            "events",
            "involvedObject.kind",
            "field label not supported: involvedObject.kind",
        ),
        ("", "secrets", "data", "field label not supported: data"),
        ("batch", "jobs", "status.active", 'field label "status.active" not supported for Job'),
        (
            "",
            "configmaps",
            "data.x",
            '"data.x" is not a known field selector: only "metadata.name", "metadata.namespace"',
        ),
        (
            "apps",
            "deployments",
            "spec.replicas",
            '"spec.replicas" is not a known field selector: only "metadata.name", '
            '"metadata.namespace"',
        ),
    ],
)
def test_unsupported_labels_use_upstream_wording(
    group: str, resource: str, label: str, message: str
) -> None:
    sel = parse_field_selector(f"{label}=x")
    with pytest.raises(SelectorError) as info:
        sel.for_resource(group, resource)
    assert str(info.value) == message
    assert label not in field_labels_for(group, resource).supported


@pytest.mark.parametrize(
    ("group", "resource", "labels"),
    [
        (
            "",
            "pods",
            {
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "spec.hostNetwork",
                "status.phase",
                "status.podIP",
                "status.podIPs",
                "status.nominatedNodeName",
                "spec.host",
            },
        ),
        (
            "",
            "events",
            {
                "involvedObject.kind",
                "involvedObject.namespace",
                "involvedObject.name",
                "involvedObject.uid",
                "involvedObject.apiVersion",
                "involvedObject.resourceVersion",
                "involvedObject.fieldPath",
                "reason",
                "reportingComponent",
                "source",
                "type",
            },
        ),
        ("", "nodes", {"spec.unschedulable"}),
        ("", "namespaces", {"status.phase"}),
        ("", "secrets", {"type"}),
        ("", "services", {"spec.clusterIP", "spec.type"}),
        ("", "replicationcontrollers", {"status.replicas"}),
        ("apps", "replicasets", {"status.replicas"}),
        ("batch", "jobs", {"status.successful"}),
        ("certificates.k8s.io", "certificatesigningrequests", {"spec.signerName"}),
    ],
)
def test_supported_labels_per_resource(group: str, resource: str, labels: set[str]) -> None:
    rules = field_labels_for(group, resource)
    scoped = {"metadata.name"}
    if group != "certificates.k8s.io" and resource not in ("nodes", "namespaces"):
        scoped.add("metadata.namespace")
    assert rules.supported == labels | scoped


def test_every_registered_resource_supports_name_selection() -> None:
    # kubectl wait/delete and reflectors list with fieldSelector=metadata.name=X everywhere.
    for info in REGISTRY:
        sel = parse_field_selector("metadata.name=x").for_resource(info.group, info.plural)
        assert sel.matches({"metadata": {"name": "x"}})
        assert not sel.matches({"metadata": {"name": "y"}})


def test_custom_resources() -> None:
    namespaced = custom_field_labels(True, [".spec.color", "status.ready"])
    assert namespaced.supported == {
        "metadata.name",
        "metadata.namespace",
        "spec.color",
        "status.ready",
    }
    sel = parse_field_selector("spec.color=red,status.ready=true").bind(namespaced)
    assert sel.matches({"spec": {"color": "red"}, "status": {"ready": True}})
    cluster = custom_field_labels(False)
    with pytest.raises(SelectorError, match=r"^field label not supported: metadata\.namespace$"):
        parse_field_selector("metadata.namespace=a").bind(cluster)


def test_matches_fields_and_exact_matches() -> None:
    sel = parse_field_selector("metadata.name=a,spec.nodeName!=n1,metadata.name=b")
    assert sel.exact_matches() == {"metadata.name": "a"}
    assert sel.requires_exact_match("metadata.name") == "a"
    assert sel.requires_exact_match("spec.nodeName") is None
    assert not sel.matches_fields({"metadata.name": "a"})
    ok = parse_field_selector("metadata.name=a,spec.nodeName!=n1")
    assert ok.matches_fields({"metadata.name": "a"})  # missing spec.nodeName reads ""
    assert not ok.matches_fields({"metadata.name": "a", "spec.nodeName": "n1"})
    assert FieldSelector().empty and not ok.empty


def test_bound_and_unbound_selectors_compare_equal_and_are_immutable() -> None:
    sel = parse_field_selector("metadata.name=a")
    assert sel.for_resource("", "pods") == sel
    with pytest.raises(AttributeError):
        sel.requirements = ()  # type: ignore[misc]
