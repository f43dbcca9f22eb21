"""Validation of pods, pod specs and pod templates, as upstream's ``ValidatePodCreate``,
``ValidatePodUpdate`` and ``ValidatePodTemplateSpec``.

A pod's spec is immutable after creation except container images, a shrinking
``activeDeadlineSeconds``, added tolerations (and changed ``tolerationSeconds``), removed
scheduling gates, and a negative grace period raised to 1; anything else is reported as
upstream does, on ``spec`` with its "pod updates may not change fields other than" message.
"""

from __future__ import annotations

from typing import Any, Final

from kybernetes.api._errors import duplicate, forbidden, invalid, not_supported, required
from kybernetes.api._jsonvalue import deep_copy, render
from kybernetes.api._names import (
    is_dns1123_label,
    is_qualified_name,
    is_valid_label_value,
    name_is_dns_subdomain,
    validate_annotations,
    validate_labels,
    validate_object_meta,
    validate_object_meta_update,
)
from kybernetes.api._validation_common import (
    MAX_INT32,
    Errs,
    Obj,
    as_dict,
    as_list,
    as_str,
    inclusive_range_error,
    is_int,
    json_same,
    one_of,
)
from kybernetes.api._validation_containers import validate_container
from kybernetes.api._validation_volumes import validate_volumes

RESTART_POLICIES: Final = ("Always", "OnFailure", "Never")
DNS_POLICIES: Final = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
TAINT_EFFECTS: Final = ("NoSchedule", "PreferNoSchedule", "NoExecute")
POD_UPDATE_FORBIDDEN_MSG: Final = (
    "pod updates may not change fields other than `spec.containers[*].image`, "
    "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` "
    "(only additions to existing tolerations) or `spec.terminationGracePeriodSeconds` "
    "(allow it to be set to 1 if it was previously negative)"
)


def validate_pod_spec(
    spec: Any, field: str, *, is_pod: bool, extra_volumes: set[str] | None = None
) -> Errs:
    """Upstream's ``ValidatePodSpec``. ``extra_volumes`` are names mounts may also refer to
    (a StatefulSet's volume claim templates)."""
    spec = as_dict(spec)
    volumes, errs = validate_volumes(spec.get("volumes"), f"{field}.volumes")
    volumes |= extra_volumes or set()
    containers = [as_dict(c) for c in as_list(spec.get("containers"))]
    init_containers = [as_dict(c) for c in as_list(spec.get("initContainers"))]
    errs.extend(_containers(containers, f"{field}.containers", volumes, set(), init=False))
    regular_names = {c.get("name") for c in containers}
    errs.extend(
        _containers(init_containers, f"{field}.initContainers", volumes, regular_names, init=True)
    )
    if spec.get("hostNetwork") is True:
        errs.extend(_host_network_ports(containers, f"{field}.containers", is_pod))
    errs.extend(one_of(spec.get("restartPolicy"), f"{field}.restartPolicy", RESTART_POLICIES))
    errs.extend(one_of(spec.get("dnsPolicy"), f"{field}.dnsPolicy", DNS_POLICIES))
    errs.extend(validate_labels(spec.get("nodeSelector"), f"{field}.nodeSelector"))
    for key in ("serviceAccountName", "nodeName", "priorityClassName"):
        value = spec.get(key)
        if isinstance(value, str) and value:
            errs.extend(
                invalid(f"{field}.{key}", value, m) for m in name_is_dns_subdomain(value, False)
            )
    deadline = spec.get("activeDeadlineSeconds")
    if is_int(deadline) and not 1 <= deadline <= MAX_INT32:
        errs.append(
            invalid(f"{field}.activeDeadlineSeconds", deadline, inclusive_range_error(1, MAX_INT32))
        )
    for key in ("hostname", "subdomain"):
        value = spec.get(key)
        if isinstance(value, str) and value:
            errs.extend(invalid(f"{field}.{key}", value, m) for m in is_dns1123_label(value))
    errs.extend(validate_tolerations(spec.get("tolerations"), f"{field}.tolerations"))
    if spec.get("preemptionPolicy") is not None:
        errs.extend(
            one_of(
                spec.get("preemptionPolicy"),
                f"{field}.preemptionPolicy",
                ("PreemptLowerPriority", "Never"),
            )
        )
    if spec.get("dnsPolicy") == "None":
        errs.extend(_dns_config_for_none(spec.get("dnsConfig"), f"{field}.dnsConfig"))
    return errs


def _containers(
    containers: list[Obj], field: str, volumes: set[str], other_names: set[Any], *, init: bool
) -> Errs:
    errs: Errs = []
    if not containers and not init:
        return [required(field)]
    names: set[str] = set()
    host_ports: set[str] = set()
    for i, container in enumerate(containers):
        path = f"{field}[{i}]"
        name = as_str(container.get("name"))
        if not name:
            errs.append(required(f"{path}.name"))
        else:
            errs.extend(invalid(f"{path}.name", name, m) for m in is_dns1123_label(name))
        if name in names or name in other_names:
            errs.append(duplicate(f"{path}.name", name))
        names.add(name)
        errs.extend(validate_container(container, path, volumes, init=init))
        for j, port in enumerate(as_list(container.get("ports"))):
            port = as_dict(port)
            host_port = port.get("hostPort")
            if not is_int(host_port) or host_port == 0:
                continue
            key = f"{port.get('protocol') or ''}/{port.get('hostIP') or ''}/{host_port}"
            if key in host_ports:
                errs.append(duplicate(f"{path}.ports[{j}].hostPort", key))
            host_ports.add(key)
    return errs


def _host_network_ports(containers: list[Obj], field: str, is_pod: bool) -> Errs:
    errs: Errs = []
    for i, container in enumerate(containers):
        for j, port in enumerate(as_list(container.get("ports"))):
            port = as_dict(port)
            host_port = port.get("hostPort") or 0
            # Templates may leave the host port unset; pods have it defaulted by then.
            if (is_pod or host_port != 0) and host_port != port.get("containerPort"):
                errs.append(
                    invalid(
                        f"{field}[{i}].ports[{j}].hostPort",
                        host_port,
                        "must match `containerPort` when `hostNetwork` is true",
                    )
                )
    return errs


def _dns_config_for_none(config: Any, field: str) -> Errs:
    if not isinstance(config, dict):
        return [required(field, "must provide `dnsConfig` when `dnsPolicy` is None")]
    if not as_list(config.get("nameservers")):
        detail = "must provide at least one DNS nameserver when `dnsPolicy` is None"
        return [required(f"{field}.nameservers", detail)]
    return []


def validate_tolerations(tolerations: Any, field: str) -> Errs:
    errs: Errs = []
    for i, toleration in enumerate(as_list(tolerations)):
        toleration = as_dict(toleration)
        path = f"{field}[{i}]"
        key = as_str(toleration.get("key"))
        operator = toleration.get("operator") or ""
        effect = toleration.get("effect") or ""
        if key:
            errs.extend(invalid(f"{path}.key", key, m) for m in is_qualified_name(key))
        if not key and operator != "Exists":
            detail = (
                'operator must be Exists when `key` is empty, which means "match all values '
                'and all keys"'
            )
            errs.append(invalid(f"{path}.operator", operator, detail))
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            detail = "effect must be 'NoExecute' when `tolerationSeconds` is set"
            errs.append(invalid(f"{path}.effect", effect, detail))
        value = as_str(toleration.get("value"))
        if operator in ("Equal", ""):
            messages = is_valid_label_value(value)
            if messages:
                errs.append(invalid(f"{path}.operator", value, ";".join(messages)))
        elif operator == "Exists":
            if value:
                detail = "value must be empty when `operator` is 'Exists'"
                errs.append(invalid(f"{path}.operator", toleration, detail))
        else:
            errs.append(not_supported(f"{path}.operator", operator, ("Equal", "Exists")))
        if effect and effect not in TAINT_EFFECTS:
            errs.append(not_supported(f"{path}.effect", effect, TAINT_EFFECTS))
    return errs


def validate_pod_template(
    template: Any, field: str, *, extra_volumes: set[str] | None = None
) -> Errs:
    """Upstream's ``ValidatePodTemplateSpec`` (labels are reported at ``<field>.labels``)."""
    template = as_dict(template)
    meta = as_dict(template.get("metadata"))
    errs = validate_labels(meta.get("labels"), f"{field}.labels")
    errs.extend(validate_annotations(meta.get("annotations"), f"{field}.annotations"))
    spec = as_dict(template.get("spec"))
    errs.extend(validate_pod_spec(spec, f"{field}.spec", is_pod=False, extra_volumes=extra_volumes))
    if as_list(spec.get("ephemeralContainers")):
        detail = "ephemeral containers not allowed in pod template"
        errs.append(forbidden(f"{field}.spec.ephemeralContainers", detail))
    return errs


# -- pods --------------------------------------------------------------------------------------


def validate_pod(pod: Obj, *, namespaced: bool = True) -> Errs:
    errs = validate_object_meta(as_dict(pod.get("metadata")), namespaced=namespaced)
    spec = as_dict(pod.get("spec"))
    errs.extend(validate_pod_spec(spec, "spec", is_pod=True))
    errs.extend(_image_whitespace(spec))
    if as_list(spec.get("ephemeralContainers")):
        errs.append(forbidden("spec.ephemeralContainers", "cannot be set on create"))
    return errs


def _image_whitespace(spec: Obj) -> Errs:
    errs: Errs = []
    for key in ("containers", "initContainers"):
        for i, container in enumerate(as_list(spec.get(key))):
            image = as_dict(container).get("image")
            if isinstance(image, str) and image != image.strip():
                detail = "must not have leading or trailing whitespace"
                errs.append(invalid(f"spec.{key}[{i}].image", image, detail))
    return errs


def validate_pod_update(new: Obj, old: Obj) -> Errs:
    errs = validate_object_meta_update(as_dict(new.get("metadata")), as_dict(old.get("metadata")))
    spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    errs.extend(validate_pod_spec(spec, "spec", is_pod=True))
    errs.extend(_image_whitespace(spec))
    for key in ("containers", "initContainers"):
        new_list, old_list = as_list(spec.get(key)), as_list(old_spec.get(key))
        if len(new_list) != len(old_list):
            errs.append(forbidden(f"spec.{key}", "pod updates may not add or remove containers"))
            return errs
    deadline, old_deadline = (
        spec.get("activeDeadlineSeconds"),
        old_spec.get("activeDeadlineSeconds"),
    )
    if is_int(deadline):
        if not 0 <= deadline <= MAX_INT32:
            detail = inclusive_range_error(0, MAX_INT32)
            errs.append(invalid("spec.activeDeadlineSeconds", deadline, detail))
            return errs
        if is_int(old_deadline) and old_deadline < deadline:
            detail = "must be less than or equal to previous value"
            errs.append(invalid("spec.activeDeadlineSeconds", deadline, detail))
            return errs
    elif old_deadline is not None:
        detail = "must not update from a positive integer to nil value"
        errs.append(invalid("spec.activeDeadlineSeconds", None, detail))
    errs.extend(_only_added_tolerations(spec.get("tolerations"), old_spec.get("tolerations")))
    if json_same(spec, old_spec):
        return errs
    munged = _munge(spec, old_spec)
    if not json_same(munged, old_spec):
        errs.append(
            forbidden("spec", f"{POD_UPDATE_FORBIDDEN_MSG}\n{_spec_diff(old_spec, munged)}")
        )
    return errs


def _only_added_tolerations(new: Any, old: Any) -> Errs:
    new_list = [as_dict(t) for t in as_list(new)]
    for previous in as_list(old):
        previous = as_dict(previous)
        # tolerationSeconds may change; everything else about a toleration must stay.
        if not any(
            json_same(
                {**previous, "tolerationSeconds": t.get("tolerationSeconds")}, _with_seconds(t)
            )
            for t in new_list
        ):
            detail = "existing toleration can not be modified except its tolerationSeconds"
            return [forbidden("spec.tolerations", detail)]
    return []


def _with_seconds(toleration: Obj) -> Obj:
    return {**toleration, "tolerationSeconds": toleration.get("tolerationSeconds")}


def _munge(spec: Obj, old_spec: Obj) -> Obj:
    """``spec`` with every change an update may make put back to ``old_spec``'s value."""
    munged: Obj = deep_copy(spec)
    for key in ("containers", "initContainers"):
        for container, previous in zip(
            as_list(munged.get(key)), as_list(old_spec.get(key)), strict=False
        ):
            if isinstance(container, dict) and isinstance(previous, dict):
                _restore(container, previous, "image")
    for key in ("activeDeadlineSeconds", "tolerations", "schedulingGates"):
        _restore(munged, old_spec, key)
    grace, old_grace = (
        munged.get("terminationGracePeriodSeconds"),
        old_spec.get("terminationGracePeriodSeconds"),
    )
    if is_int(old_grace) and old_grace < 0 and grace == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    return munged


def _restore(target: Obj, source: Obj, key: str) -> None:
    if key in source:
        target[key] = deep_copy(source[key])
    else:
        target.pop(key, None)


def _spec_diff(old: Any, new: Any, path: str = "spec", limit: int = 10) -> str:
    """A short, line-per-field account of what changed (upstream prints a Go struct diff)."""
    lines: list[str] = []
    _diff_into(old, new, path, lines)
    shown = lines[:limit] + ([f"  ... and {len(lines) - limit} more"] if len(lines) > limit else [])
    return "\n".join(shown)


def _diff_into(old: Any, new: Any, path: str, lines: list[str]) -> None:
    if json_same(old, new):
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            _diff_into(old.get(key), new.get(key), f"{path}.{key}", lines)
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _diff_into(a, b, f"{path}[{i}]", lines)
        return
    lines.append(f"  {path}: {render(old)} -> {render(new)}")
