"""Validation of containers (ports, env, probes, mounts, policies), as upstream's
``validateContainerCommon`` and the helpers it calls. Pod-level rules are in
``_validation_pod``.
"""

from __future__ import annotations

import re
from typing import Any, Final

from kybernetes.api._errors import duplicate, forbidden, invalid, not_found, not_supported, required
from kybernetes.api._names import is_dns1123_subdomain, name_is_dns_subdomain, regex_error
from kybernetes.api._validation_common import (
    Errs,
    Obj,
    as_dict,
    as_list,
    as_str,
    is_int,
    nonnegative,
    one_of,
    port_name_errors,
    port_num_errors,
    port_num_or_name,
)
from kybernetes.api._validation_resources import validate_resource_requirements

PROTOCOLS: Final = ("SCTP", "TCP", "UDP")
PULL_POLICIES: Final = ("Always", "IfNotPresent", "Never")
_TERMINATION_MESSAGE_MSG: Final = "must be 'File' or 'FallbackToLogsOnError'"
_RELAXED_ENV_MSG: Final = (
    "a valid environment variable name must consist only of printable ASCII characters "
    "other than '='"
)
_CONFIG_KEY_RE: Final = re.compile(r"[-._a-zA-Z0-9]+")
_ENV_FIELD_PATHS: Final = (
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
)
_HANDLERS: Final = ("exec", "httpGet", "tcpSocket", "grpc")
_LIFECYCLE_HANDLERS: Final = ("exec", "httpGet", "tcpSocket", "sleep")


def config_map_key_errors(key: str) -> list[str]:
    """Upstream's ``IsConfigMapKey`` (also used for secret keys)."""
    errs: list[str] = []
    if len(key) > 253:
        errs.append("must be no more than 253 characters")
    if not _CONFIG_KEY_RE.fullmatch(key):
        errs.append(
            regex_error(
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                "[-._a-zA-Z0-9]+",
                "key.name",
                "KEY_NAME",
                "key-name",
            )
        )
    if key == ".":
        errs.append("must not be '.'")
    elif key == "..":
        errs.append("must not be '..'")
    elif key.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def _env_name_errors(name: str) -> list[str]:
    errs = []
    if not name:
        errs.append("environment variable name must be non-empty")
    if any(ord(ch) > 127 or not ch.isprintable() or ch == "=" for ch in name):
        errs.append(_RELAXED_ENV_MSG)
    return errs


def validate_container(
    container: Obj, field: str, volumes: set[str], *, init: bool = False
) -> Errs:
    """Everything upstream checks on one container except its name (checked pod-wide)."""
    errs: Errs = []
    image = as_str(container.get("image"))
    if not image:
        errs.append(required(f"{field}.image"))
    restart = container.get("restartPolicy")
    sidecar = init and restart == "Always"
    if restart is not None:
        if not init:
            errs.append(
                forbidden(f"{field}.restartPolicy", "may not be set for non-init containers")
            )
        elif restart != "Always":
            errs.append(not_supported(f"{field}.restartPolicy", restart, ["Always"]))
    errs.extend(_lifecycle(container.get("lifecycle"), f"{field}.lifecycle", init and not sidecar))
    errs.extend(_probes(container, field, init=init, sidecar=sidecar))
    errs.extend(_ports(container.get("ports"), f"{field}.ports"))
    errs.extend(_env(container.get("env"), f"{field}.env"))
    errs.extend(_env_from(container.get("envFrom"), f"{field}.envFrom"))
    errs.extend(_volume_mounts(container.get("volumeMounts"), f"{field}.volumeMounts", volumes))
    errs.extend(one_of(container.get("imagePullPolicy"), f"{field}.imagePullPolicy", PULL_POLICIES))
    errs.extend(validate_resource_requirements(container.get("resources"), f"{field}.resources"))
    policy = container.get("terminationMessagePolicy")
    if not policy:
        errs.append(required(f"{field}.terminationMessagePolicy", _TERMINATION_MESSAGE_MSG))
    elif policy not in ("File", "FallbackToLogsOnError"):
        errs.append(invalid(f"{field}.terminationMessagePolicy", policy, _TERMINATION_MESSAGE_MSG))
    return errs


# -- probes and lifecycle handlers -------------------------------------------------------------


def _handler(handler: Obj, field: str, kinds: tuple[str, ...]) -> Errs:
    errs: Errs = []
    count = 0
    for kind in kinds:
        action = handler.get(kind)
        if action is None:
            continue
        if count:
            errs.append(forbidden(f"{field}.{kind}", "may not specify more than 1 handler type"))
            continue
        count += 1
        action = as_dict(action)
        path = f"{field}.{kind}"
        if kind == "exec" and not as_list(action.get("command")):
            errs.append(required(f"{path}.command"))
        elif kind == "httpGet":
            if not action.get("path"):
                errs.append(required(f"{path}.path"))
            errs.extend(port_num_or_name(action.get("port"), f"{path}.port"))
            scheme = action.get("scheme")
            if scheme not in ("HTTP", "HTTPS"):
                errs.append(not_supported(f"{path}.scheme", scheme or "", ["HTTP", "HTTPS"]))
        elif kind == "tcpSocket":
            errs.extend(port_num_or_name(action.get("port"), f"{path}.port"))
        elif kind == "grpc":
            port = action.get("port")
            if is_int(port):
                errs.extend(invalid(f"{path}.port", port, m) for m in port_num_errors(port))
        elif kind == "sleep":
            errs.extend(nonnegative(action.get("seconds"), f"{path}.seconds"))
    if count == 0:
        errs.append(required(field, "must specify a handler type"))
    return errs


def _probe(probe: Obj, field: str) -> Errs:
    errs = _handler(probe, field, _HANDLERS)
    for key in (
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ):
        errs.extend(nonnegative(probe.get(key), f"{field}.{key}"))
    grace = probe.get("terminationGracePeriodSeconds")
    if is_int(grace) and grace <= 0:
        errs.append(
            invalid(f"{field}.terminationGracePeriodSeconds", grace, "must be greater than 0")
        )
    return errs


def _probes(container: Obj, field: str, *, init: bool, sidecar: bool) -> Errs:
    errs: Errs = []
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(key)
        if probe is None:
            continue
        path = f"{field}.{key}"
        if init and not sidecar:
            errs.append(
                forbidden(path, "may not be set for init containers without restartPolicy=Always")
            )
            continue
        errs.extend(_probe(as_dict(probe), path))
        threshold = as_dict(probe).get("successThreshold")
        if key != "readinessProbe" and is_int(threshold) and threshold != 1:
            errs.append(invalid(f"{path}.successThreshold", threshold, "must be 1"))
    return errs


def _lifecycle(lifecycle: Any, field: str, plain_init: bool) -> Errs:
    if lifecycle is None:
        return []
    if plain_init:
        return [forbidden(field, "may not be set for init containers without restartPolicy=Always")]
    errs: Errs = []
    for key in ("postStart", "preStop"):
        handler = as_dict(lifecycle).get(key)
        if handler is not None:
            errs.extend(_handler(as_dict(handler), f"{field}.{key}", _LIFECYCLE_HANDLERS))
    return errs


# -- ports, env, mounts ------------------------------------------------------------------------


def _ports(ports: Any, field: str) -> Errs:
    errs: Errs = []
    names: set[str] = set()
    for i, port in enumerate(as_list(ports)):
        port = as_dict(port)
        path = f"{field}[{i}]"
        name = port.get("name")
        if isinstance(name, str) and name:
            name_errs = port_name_errors(name)
            if name_errs:
                errs.extend(invalid(f"{path}.name", name, m) for m in name_errs)
            elif name in names:
                errs.append(duplicate(f"{path}.name", name))
            else:
                names.add(name)
        number = port.get("containerPort")
        if not number:
            errs.append(required(f"{path}.containerPort"))
        elif is_int(number):
            errs.extend(
                invalid(f"{path}.containerPort", number, m) for m in port_num_errors(number)
            )
        host = port.get("hostPort")
        if is_int(host) and host != 0:
            errs.extend(invalid(f"{path}.hostPort", host, m) for m in port_num_errors(host))
        errs.extend(one_of(port.get("protocol"), f"{path}.protocol", PROTOCOLS))
    return errs


def _env(env: Any, field: str) -> Errs:
    errs: Errs = []
    for i, var in enumerate(as_list(env)):
        var = as_dict(var)
        path = f"{field}[{i}]"
        name = as_str(var.get("name"))
        if not name:
            errs.append(required(f"{path}.name"))
        errs.extend(invalid(f"{path}.name", name, m) for m in _env_name_errors(name))
        source = var.get("valueFrom")
        if source is not None:
            errs.extend(_value_from(as_dict(source), f"{path}.valueFrom", bool(var.get("value"))))
    return errs


def _value_from(source: Obj, field: str, has_value: bool) -> Errs:
    errs: Errs = []
    count = 0
    for key in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"):
        ref = source.get(key)
        if ref is None:
            continue
        count += 1
        ref = as_dict(ref)
        path = f"{field}.{key}"
        if key == "fieldRef":
            errs.extend(_field_ref(ref, path))
        elif key == "resourceFieldRef":
            if not ref.get("resource"):
                errs.append(required(f"{path}.resource"))
        else:
            name = as_str(ref.get("name"))
            errs.extend(
                invalid(f"{path}.name", name, m) for m in name_is_dns_subdomain(name, False)
            )
            key_name = as_str(ref.get("key"))
            if not key_name:
                errs.append(required(f"{path}.key"))
            else:
                errs.extend(
                    invalid(f"{path}.key", key_name, m) for m in config_map_key_errors(key_name)
                )
    if count == 0:
        detail = (
            "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
            "`secretKeyRef`"
        )
        errs.append(invalid(field, "", detail))
    elif has_value:
        errs.append(invalid(field, "", "may not be specified when `value` is not empty"))
    elif count > 1:
        errs.append(invalid(field, "", "may not have more than one field specified at a time"))
    return errs


def _field_ref(ref: Obj, field: str) -> Errs:
    if not ref.get("apiVersion"):
        return [required(f"{field}.apiVersion")]
    path = as_str(ref.get("fieldPath"))
    if not path:
        return [required(f"{field}.fieldPath")]
    base = path.split("[", 1)[0] if path.endswith("']") else path
    if base not in _ENV_FIELD_PATHS:
        return [not_supported(f"{field}.fieldPath", base, _ENV_FIELD_PATHS)]
    return []


def _env_from(sources: Any, field: str) -> Errs:
    errs: Errs = []
    for i, source in enumerate(as_list(sources)):
        source = as_dict(source)
        path = f"{field}[{i}]"
        prefix = source.get("prefix")
        if isinstance(prefix, str) and prefix:
            errs.extend(invalid(f"{path}.prefix", prefix, m) for m in _env_name_errors(prefix))
        count = 0
        for key in ("configMapRef", "secretRef"):
            ref = source.get(key)
            if ref is None:
                continue
            count += 1
            name = as_dict(ref).get("name")
            name = name if isinstance(name, str) else ""
            if not name:
                errs.append(required(f"{path}.{key}.name"))
            else:
                # Upstream validates these names as prefixes (generateName rules).
                masked = name[:-2] + "a" if len(name) > 1 and name.endswith("-") else name
                errs.extend(
                    invalid(f"{path}.{key}.name", name, m) for m in is_dns1123_subdomain(masked)
                )
        if count == 0:
            errs.append(invalid(field, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif count > 1:
            errs.append(invalid(field, "", "may not have more than one field specified at a time"))
    return errs


def _volume_mounts(mounts: Any, field: str, volumes: set[str]) -> Errs:
    errs: Errs = []
    seen: set[str] = set()
    for i, mount in enumerate(as_list(mounts)):
        mount = as_dict(mount)
        path = f"{field}[{i}]"
        name = as_str(mount.get("name"))
        if not name:
            errs.append(required(f"{path}.name"))
        if name not in volumes:
            errs.append(not_found(f"{path}.name", name))
        target = as_str(mount.get("mountPath"))
        if not target:
            errs.append(required(f"{path}.mountPath"))
        if target in seen:
            errs.append(invalid(f"{path}.mountPath", target, "must be unique"))
        seen.add(target)
        sub_path = mount.get("subPath")
        if isinstance(sub_path, str) and sub_path:
            if sub_path.startswith("/"):
                errs.append(invalid(f"{field}.subPath", sub_path, "must be a relative path"))
            if ".." in sub_path.replace("\\", "/").split("/"):
                errs.append(invalid(f"{field}.subPath", sub_path, "must not contain '..'"))
    return errs
