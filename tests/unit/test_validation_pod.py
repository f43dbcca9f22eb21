"""Pod validation: field paths and messages as upstream prints them (kubectl shows these
after ``The Pod "x" is invalid:``)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.strategy import create_errors, pod, stored, update

from kybernetes.api._jsonvalue import deep_copy

DNS_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


def _c(**fields: Any) -> dict[str, Any]:
    return {"name": "c", "image": "nginx:1.27", **fields}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, []),
        ({"containers": []}, ["spec.containers: Required value"]),
        ({"containers": [{"name": "c"}]}, ["spec.containers[0].image: Required value"]),
        (
            {"containers": [{"image": "i"}]},
            ["spec.containers[0].name: Required value"],
        ),
        (
            {"containers": [_c(name="Web")]},
            [f'spec.containers[0].name: Invalid value: "Web": {DNS_LABEL_MSG}'],
        ),
        ({"containers": [_c(), _c()]}, ['spec.containers[1].name: Duplicate value: "c"']),
        (
            {"initContainers": [_c()]},
            ['spec.initContainers[0].name: Duplicate value: "c"'],
        ),
        (
            {"containers": [_c(ports=[{"containerPort": 80, "protocol": "XTP"}])]},
            [
                'spec.containers[0].ports[0].protocol: Unsupported value: "XTP": '
                'supported values: "SCTP", "TCP", "UDP"'
            ],
        ),
        (
            {"containers": [_c(ports=[{"containerPort": 70000}])]},
            [
                "spec.containers[0].ports[0].containerPort: Invalid value: 70000: "
                "must be between 1 and 65535, inclusive"
            ],
        ),
        (
            {"containers": [_c(ports=[{"containerPort": 0}])]},
            ["spec.containers[0].ports[0].containerPort: Required value"],
        ),
        (
            {"containers": [_c(ports=[{"containerPort": 80, "name": "HTTP"}])]},
            [
                'spec.containers[0].ports[0].name: Invalid value: "HTTP": must contain only '
                "alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                'spec.containers[0].ports[0].name: Invalid value: "HTTP": must contain at '
                "least one letter (a-z)",
            ],
        ),
        (
            {
                "containers": [
                    _c(ports=[{"containerPort": 80, "hostPort": 80}]),
                    _c(name="d", ports=[{"containerPort": 81, "hostPort": 80}]),
                ]
            },
            ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//80"'],
        ),
        (
            {"restartPolicy": "Sometimes"},
            [
                'spec.restartPolicy: Unsupported value: "Sometimes": '
                'supported values: "Always", "OnFailure", "Never"'
            ],
        ),
        (
            {"dnsPolicy": "Fast"},
            [
                'spec.dnsPolicy: Unsupported value: "Fast": supported values: '
                '"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"'
            ],
        ),
        (
            {"dnsPolicy": "None"},
            ["spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"],
        ),
        (
            {"activeDeadlineSeconds": 0},
            [
                "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and "
                "2147483647, inclusive"
            ],
        ),
        (
            {"containers": [_c(imagePullPolicy="Sometimes")]},
            [
                'spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": '
                'supported values: "Always", "IfNotPresent", "Never"'
            ],
        ),
        (
            {"containers": [_c(image=" nginx")]},
            [
                'spec.containers[0].image: Invalid value: " nginx": '
                "must not have leading or trailing whitespace"
            ],
        ),
    ],
)
def test_pod_spec_errors(spec: dict[str, Any], expected: list[str]) -> None:
    assert create_errors("pods", pod(**spec)) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"volumes": [{"name": "v", "emptyDir": {}}, {"name": "v", "emptyDir": {}}]},
            ['spec.volumes[1].name: Duplicate value: "v"'],
        ),
        (
            {"volumes": [{"name": "v", "emptyDir": {}, "hostPath": {"path": "/x"}}]},
            ["spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type"],
        ),
        (
            {"volumes": [{"name": "v", "configMap": {}}]},
            ["spec.volumes[0].configMap.name: Required value"],
        ),
        (
            {"volumes": [{"name": "v", "secret": {"secretName": "s", "defaultMode": 1000}}]},
            [
                "spec.volumes[0].secret.defaultMode: Invalid value: 1000: "
                "must be a number between 0 and 0777 (octal), both inclusive"
            ],
        ),
        (
            {"volumes": [{"name": "v", "persistentVolumeClaim": {}}]},
            ["spec.volumes[0].persistentVolumeClaim.claimName: Required value"],
        ),
        (
            {"containers": [_c(volumeMounts=[{"name": "data", "mountPath": "/d"}])]},
            ['spec.containers[0].volumeMounts[0].name: Not found: "data"'],
        ),
        (
            {
                "volumes": [{"name": "data", "emptyDir": {}}],
                "containers": [
                    _c(
                        volumeMounts=[
                            {"name": "data", "mountPath": "/d"},
                            {"name": "data", "mountPath": "/d"},
                            {"name": "data"},
                        ]
                    )
                ],
            },
            [
                'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/d": must be unique',
                "spec.containers[0].volumeMounts[2].mountPath: Required value",
            ],
        ),
    ],
)
def test_volume_errors(spec: dict[str, Any], expected: list[str]) -> None:
    assert create_errors("pods", pod(**spec)) == expected


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        ({"requests": {"cpu": "500m"}, "limits": {"cpu": "1", "memory": "1Gi"}}, []),
        (
            {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}},
            [
                'spec.containers[0].resources.requests: Invalid value: "2": '
                "must be less than or equal to cpu limit of 1"
            ],
        ),
        (
            {"limits": {"memory": "-1"}},
            [
                'spec.containers[0].resources.limits[memory]: Invalid value: "-1": '
                "must be greater than or equal to 0",
                'spec.containers[0].resources.requests[memory]: Invalid value: "-1": '
                "must be greater than or equal to 0",
            ],
        ),
        (
            {"limits": {"cpu": "lots"}},
            [
                'spec.containers[0].resources.limits[cpu]: Invalid value: "lots": quantities '
                "must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                'spec.containers[0].resources.requests[cpu]: Invalid value: "lots": quantities '
                "must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            ],
        ),
        (
            {"requests": {"example.com/gpu": "1"}},
            [
                "spec.containers[0].resources.limits: Required value: "
                "Limit must be set for non overcommitable resources"
            ],
        ),
        (
            {"requests": {"example.com/gpu": "1"}, "limits": {"example.com/gpu": "2"}},
            [
                'spec.containers[0].resources.requests: Invalid value: "1": '
                "must be equal to example.com/gpu limit of 2"
            ],
        ),
        (
            {"limits": {"disk": "1"}},
            [
                'spec.containers[0].resources.limits[disk]: Invalid value: "disk": '
                "must be a standard resource for containers",
                'spec.containers[0].resources.requests[disk]: Invalid value: "disk": '
                "must be a standard resource for containers",
            ],
        ),
    ],
)
def test_resource_errors(resources: dict[str, Any], expected: list[str]) -> None:
    assert create_errors("pods", pod(containers=[_c(resources=resources)])) == expected


@pytest.mark.parametrize(
    ("container", "expected"),
    [
        (
            _c(livenessProbe={}),
            ["spec.containers[0].livenessProbe: Required value: must specify a handler type"],
        ),
        (
            _c(livenessProbe={"exec": {"command": ["true"]}, "tcpSocket": {"port": 80}}),
            [
                "spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more "
                "than 1 handler type"
            ],
        ),
        (
            _c(livenessProbe={"exec": {"command": ["true"]}, "successThreshold": 2}),
            ["spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"],
        ),
        (
            _c(readinessProbe={"httpGet": {"port": 0, "scheme": "FTP"}}),
            [
                "spec.containers[0].readinessProbe.httpGet.port: Invalid value: 0: "
                "must be between 1 and 65535, inclusive",
                'spec.containers[0].readinessProbe.httpGet.scheme: Unsupported value: "FTP": '
                'supported values: "HTTP", "HTTPS"',
            ],
        ),
        (
            _c(readinessProbe={"exec": {}, "initialDelaySeconds": -1}),
            [
                "spec.containers[0].readinessProbe.exec.command: Required value",
                "spec.containers[0].readinessProbe.initialDelaySeconds: Invalid value: -1: "
                "must be greater than or equal to 0",
            ],
        ),
        (
            _c(env=[{"name": "A=B"}]),
            [
                'spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment '
                "variable name must consist only of printable ASCII characters other than '='"
            ],
        ),
        (
            _c(
                env=[
                    {
                        "name": "A",
                        "value": "x",
                        "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                    }
                ]
            ),
            [
                'spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified '
                "when `value` is not empty"
            ],
        ),
        (
            _c(env=[{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "spec.foo"}}}]),
            [
                "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "
                '"spec.foo": '
                'supported values: "metadata.annotations", "metadata.labels", "metadata.name", '
                '"metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", '
                '"status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"'
            ],
        ),
        (
            _c(env=[{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "a/b"}}}]),
            [
                'spec.containers[0].env[0].valueFrom.configMapKeyRef.key: Invalid value: "a/b": '
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
                "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
                "'[-._a-zA-Z0-9]+')"
            ],
        ),
        (
            _c(envFrom=[{}]),
            [
                'spec.containers[0].envFrom: Invalid value: "": must specify one of: '
                "`configMapRef` or `secretRef`"
            ],
        ),
    ],
)
def test_container_errors(container: dict[str, Any], expected: list[str]) -> None:
    assert create_errors("pods", pod(containers=[container])) == expected


@pytest.mark.parametrize(
    ("toleration", "expected"),
    [
        ({"key": "k", "operator": "Exists", "effect": "NoSchedule"}, []),
        (
            {"operator": "Equal", "value": "v"},
            [
                'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists '
                'when `key` is empty, which means "match all values and all keys"'
            ],
        ),
        (
            {"key": "k", "operator": "Exists", "value": "v"},
            [
                'spec.tolerations[0].operator: Invalid value: {"key":"k","operator":"Exists",'
                '"value":"v"}: value must be empty when `operator` is \'Exists\''
            ],
        ),
        (
            {"key": "k", "effect": "NoSchedule", "tolerationSeconds": 5},
            [
                'spec.tolerations[0].effect: Invalid value: "NoSchedule": '
                "effect must be 'NoExecute' when `tolerationSeconds` is set"
            ],
        ),
        (
            {"key": "k", "operator": "Like"},
            [
                'spec.tolerations[0].operator: Unsupported value: "Like": supported values: '
                '"Equal", "Exists"'
            ],
        ),
        (
            {"key": "k", "effect": "Never"},
            [
                'spec.tolerations[0].effect: Unsupported value: "Never": supported values: '
                '"NoSchedule", "PreferNoSchedule", "NoExecute"'
            ],
        ),
    ],
)
def test_toleration_errors(toleration: dict[str, Any], expected: list[str]) -> None:
    assert create_errors("pods", pod(tolerations=[toleration])) == expected


def test_pod_metadata_errors() -> None:
    bad = pod()
    bad["metadata"] = {"name": "Bad_Name", "labels": {"app": "x y"}}
    errors = create_errors("pods", bad)
    assert errors[0].startswith(
        'metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain'
    )
    assert errors[1].startswith('metadata.labels: Invalid value: "x y": a valid label must be')
    assert create_errors("pods", {**pod(), "metadata": {}})[0] == (
        "metadata.name: Required value: name or generateName is required"
    )


def test_ephemeral_containers_cannot_be_set_on_create() -> None:
    spec = {"ephemeralContainers": [{"name": "debug", "image": "busybox:1"}]}
    assert create_errors("pods", pod(**spec)) == [
        "spec.ephemeralContainers: Forbidden: cannot be set on create"
    ]


# -- updates ---------------------------------------------------------------------------------


def _updated(change: Any) -> list[str]:
    old = stored(
        "pods",
        pod(
            tolerations=[
                {"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 10}
            ]
        ),
    )
    new = deep_copy(old)
    change(new["spec"])
    return update("pods", old, new)[1]


def test_pod_update_allows_images_tolerations_and_deadline() -> None:
    def allowed(spec: dict[str, Any]) -> None:
        spec["containers"][0]["image"] = "nginx:1.28"
        spec["tolerations"][0]["tolerationSeconds"] = 20
        spec["tolerations"].append({"key": "other", "operator": "Exists"})
        spec["activeDeadlineSeconds"] = 60

    assert _updated(allowed) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda s: s["containers"].append({"name": "d", "image": "x:1"}),
            "spec.containers: Forbidden: pod updates may not add or remove containers",
        ),
        (
            lambda s: s.__setitem__("tolerations", []),
            "spec.tolerations: Forbidden: existing toleration can not be modified except its "
            "tolerationSeconds",
        ),
        (
            lambda s: s["containers"][0].__setitem__("image", ""),
            "spec.containers[0].image: Required value",
        ),
    ],
)
def test_pod_update_errors(change: Any, expected: str) -> None:
    assert expected in _updated(change)


def test_pod_update_forbids_other_spec_changes() -> None:
    errors = _updated(lambda s: s["containers"][0].__setitem__("ports", [{"containerPort": 80}]))
    assert len(errors) == 1
    head, _, diff = errors[0].partition("\n")
    assert head == (
        "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`, "
        "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` "
        "(only additions to existing tolerations) or `spec.terminationGracePeriodSeconds` "
        "(allow it to be set to 1 if it was previously negative)"
    )
    assert "spec.containers[0].ports" in diff


def test_pod_update_deadline_rules() -> None:
    def set_deadline(value: Any) -> Any:
        return lambda s: s.__setitem__("activeDeadlineSeconds", value)

    old = stored("pods", pod(activeDeadlineSeconds=30))
    new = deep_copy(old)
    new["spec"]["activeDeadlineSeconds"] = 60
    assert update("pods", old, new)[1] == [
        "spec.activeDeadlineSeconds: Invalid value: 60: must be less than or equal to previous "
        "value"
    ]
    del new["spec"]["activeDeadlineSeconds"]
    assert update("pods", old, new)[1] == [
        "spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive "
        "integer to nil value"
    ]


def test_pod_update_metadata_immutability() -> None:
    old = stored("pods", pod())
    new = deep_copy(old)
    new["metadata"]["name"] = "y"
    assert update("pods", old, new)[1] == ['metadata.name: Invalid value: "y": field is immutable']
