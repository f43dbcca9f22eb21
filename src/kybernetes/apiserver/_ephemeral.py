"""Validation of ``pods/{name}/ephemeralcontainers`` writes, as upstream's
``ValidatePodEphemeralContainersUpdate``. Pure.

Ephemeral containers (``kubectl debug``) can only be added: an existing one may be
neither changed nor removed. Each must be a valid container with a name unique across
all the pod's containers, a ``targetContainerName`` (when set) naming one of them, and
none of the fields that would make it part of the workload (ports, probes, lifecycle,
resources, resize and restart policies, volume subpaths). Static (mirror) pods take none.
"""

from __future__ import annotations

from typing import Any, Final

from kybernetes.api._errors import FieldError, duplicate, forbidden, invalid, not_found, required
from kybernetes.api._names import is_dns1123_label, validate_object_meta_update
from kybernetes.api._validation_common import as_dict, as_list, as_str, json_same
from kybernetes.api._validation_containers import validate_container

Obj = dict[str, Any]

MIRROR_POD_ANNOTATION: Final = "kubernetes.io/config.mirror"
FIELD: Final = "spec.ephemeralContainers"
_NOT_FOR_EPHEMERAL: Final = "cannot be set for an Ephemeral Container"
#: Container fields an ephemeral container may not set (upstream allow-lists the rest).
_DISALLOWED: Final = (
    "ports",
    "resources",
    "resizePolicy",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
    "restartPolicy",
)


def _set(value: Any) -> bool:
    """Whether a field holds anything (Go's non-zero value)."""
    return value not in (None, "", [], {}, 0, False)


def validate_ephemeral_containers(spec: Obj) -> list[FieldError]:
    """Everything wrong with ``spec.ephemeralContainers`` of a pod spec."""
    errs: list[FieldError] = []
    volumes = {as_str(as_dict(v).get("name")) for v in as_list(spec.get("volumes"))}
    names = {
        as_str(as_dict(c).get("name"))
        for key in ("containers", "initContainers")
        for c in as_list(spec.get(key))
    }
    for i, raw in enumerate(as_list(spec.get("ephemeralContainers"))):
        path = f"{FIELD}[{i}]"
        container = as_dict(raw)
        name = as_str(container.get("name"))
        if not name:
            errs.append(required(f"{path}.name"))
        else:
            errs.extend(invalid(f"{path}.name", name, m) for m in is_dns1123_label(name))
        # validate_container checks what the allow-list permits; the rest is refused below.
        allowed = {k: v for k, v in container.items() if k not in _DISALLOWED}
        errs.extend(validate_container(allowed, path, volumes))
        if name in names:
            errs.append(duplicate(f"{path}.name", name))
        else:
            names.add(name)
        target = container.get("targetContainerName")
        if _set(target) and target not in names:
            errs.append(not_found(f"{path}.targetContainerName", target))
        errs.extend(
            forbidden(f"{path}.{key}", _NOT_FOR_EPHEMERAL)
            for key in _DISALLOWED
            if _set(container.get(key))
        )
        for j, mount in enumerate(as_list(container.get("volumeMounts"))):
            for key in ("subPath", "subPathExpr"):
                if _set(as_dict(mount).get(key)):
                    errs.append(forbidden(f"{path}.volumeMounts[{j}].{key}", _NOT_FOR_EPHEMERAL))
    return errs


def validate_ephemeral_update(new: Obj, old: Obj) -> list[FieldError]:
    """Everything wrong with replacing ``old``'s ephemeral containers by ``new``'s."""
    old_meta = as_dict(old.get("metadata"))
    if MIRROR_POD_ANNOTATION in as_dict(old_meta.get("annotations")):
        return [forbidden("", "static pods do not support ephemeral containers")]
    errs = validate_object_meta_update(as_dict(new.get("metadata")), old_meta)
    spec = as_dict(new.get("spec"))
    errs.extend(validate_ephemeral_containers(spec))
    by_name = {as_str(as_dict(c).get("name")): c for c in as_list(spec.get("ephemeralContainers"))}
    for previous in as_list(as_dict(old.get("spec")).get("ephemeralContainers")):
        name = as_str(as_dict(previous).get("name"))
        if name not in by_name:
            detail = f'existing ephemeral containers "{name}" may not be removed'
            errs.append(forbidden(FIELD, detail))
        elif not json_same(previous, by_name[name]):
            detail = f'existing ephemeral containers "{name}" may not be changed'
            errs.append(forbidden(FIELD, detail))
    return errs
