"""Validation of pod volumes, as upstream's ``ValidateVolumes``.

:func:`validate_volumes` returns the names of the volumes that passed (only those can be
mounted, as upstream: a mount of a broken volume is reported as not found too) and the
errors. Each volume needs a DNS-1123 label name, unique in the pod, and exactly one source;
the sources pods use most (configMap, secret, hostPath, emptyDir, persistentVolumeClaim, nfs,
projected, downwardAPI, csi, ephemeral) get their own field checks.
"""

from __future__ import annotations

from typing import Any, Final

from kybernetes.api._errors import duplicate, forbidden, invalid, not_supported, required
from kybernetes.api._names import is_dns1123_label, is_dns1123_subdomain
from kybernetes.api._validation_common import (
    Errs,
    Obj,
    as_dict,
    as_list,
    as_str,
    is_int,
    quantity,
)

#: Volume source fields, in the order upstream checks them (it names the second one found).
VOLUME_SOURCES: Final = (
    "emptyDir",
    "hostPath",
    "gitRepo",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "flocker",
    "persistentVolumeClaim",
    "rbd",
    "cinder",
    "cephfs",
    "quobyte",
    "downwardAPI",
    "fc",
    "flexVolume",
    "configMap",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "storageos",
    "projected",
    "scaleIO",
    "csi",
    "ephemeral",
    "image",
)
FILE_MODE_MSG: Final = "must be a number between 0 and 0777 (octal), both inclusive"
_HOST_PATH_TYPES: Final = (
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
)


def validate_volumes(volumes: Any, field: str) -> tuple[set[str], Errs]:
    names: set[str] = set()
    errs: Errs = []
    for i, volume in enumerate(as_list(volumes)):
        volume = as_dict(volume)
        path = f"{field}[{i}]"
        name = as_str(volume.get("name"))
        found = _validate_source(volume, path)
        if not name:
            found.append(required(f"{path}.name"))
        else:
            found.extend(invalid(f"{path}.name", name, m) for m in is_dns1123_label(name))
        if name in names:
            found.append(duplicate(f"{path}.name", name))
        if found:
            errs.extend(found)
        else:
            names.add(name)
    return names, errs


def _validate_source(volume: Obj, path: str) -> Errs:
    errs: Errs = []
    count = 0
    for key in VOLUME_SOURCES:
        source = volume.get(key)
        if source is None:
            continue
        if count:
            errs.append(forbidden(f"{path}.{key}", "may not specify more than 1 volume type"))
            continue
        count += 1
        check = _SOURCE_CHECKS.get(key)
        if check is not None:
            errs.extend(check(as_dict(source), f"{path}.{key}"))
    if count == 0:
        errs.append(required(path, "must specify a volume type"))
    return errs


def _file_mode(mode: Any, field: str) -> Errs:
    if is_int(mode) and not 0 <= mode <= 0o777:
        return [invalid(field, mode, FILE_MODE_MSG)]
    return []


def _no_backsteps(target: str, field: str) -> Errs:
    if ".." in target.replace("\\", "/").split("/"):
        return [invalid(field, target, "must not contain '..'")]
    return []


def _local_descending_path(target: str, field: str) -> Errs:
    errs: Errs = []
    if target.startswith("/"):
        errs.append(invalid(field, target, "must be a relative path"))
    errs.extend(_no_backsteps(target, field))
    return errs


def _key_to_paths(items: Any, field: str) -> Errs:
    errs: Errs = []
    for i, item in enumerate(as_list(items)):
        item = as_dict(item)
        path = f"{field}[{i}]"
        if not item.get("key"):
            errs.append(required(f"{path}.key"))
        target = as_str(item.get("path"))
        if not target:
            errs.append(required(f"{path}.path"))
        else:
            errs.extend(_local_descending_path(target, f"{path}.path"))
            if target.startswith(".."):
                errs.append(invalid(f"{path}.path", target, "must not start with '..'"))
        errs.extend(_file_mode(item.get("mode"), f"{path}.mode"))
    return errs


def _config_map(source: Obj, field: str) -> Errs:
    errs: Errs = []
    if not source.get("name"):
        errs.append(required(f"{field}.name"))
    errs.extend(_file_mode(source.get("defaultMode"), f"{field}.defaultMode"))
    errs.extend(_key_to_paths(source.get("items"), f"{field}.items"))
    return errs


def _secret(source: Obj, field: str) -> Errs:
    errs: Errs = []
    if not source.get("secretName"):
        errs.append(required(f"{field}.secretName"))
    errs.extend(_file_mode(source.get("defaultMode"), f"{field}.defaultMode"))
    errs.extend(_key_to_paths(source.get("items"), f"{field}.items"))
    return errs


def _host_path(source: Obj, field: str) -> Errs:
    errs: Errs = []
    target = as_str(source.get("path"))
    if not target:
        errs.append(required(f"{field}.path"))
        return errs
    errs.extend(_no_backsteps(target, f"{field}.path"))
    kind = source.get("type")
    if isinstance(kind, str) and kind not in _HOST_PATH_TYPES:
        errs.append(not_supported(f"{field}.type", kind, _HOST_PATH_TYPES))
    return errs


def _empty_dir(source: Obj, field: str) -> Errs:
    limit = source.get("sizeLimit")
    if limit is None:
        return []
    parsed, errs = quantity(limit, f"{field}.sizeLimit")
    if parsed is not None and parsed.sign() < 0:
        errs.append(
            forbidden(f"{field}.sizeLimit", "SizeLimit field must be a valid resource quantity")
        )
    return errs


def _claim(source: Obj, field: str) -> Errs:
    return [] if source.get("claimName") else [required(f"{field}.claimName")]


def _nfs(source: Obj, field: str) -> Errs:
    errs: Errs = []
    if not source.get("server"):
        errs.append(required(f"{field}.server"))
    target = as_str(source.get("path"))
    if not target:
        errs.append(required(f"{field}.path"))
    elif not target.startswith("/"):
        errs.append(invalid(f"{field}.path", target, "must be an absolute path"))
    return errs


def _projected(source: Obj, field: str) -> Errs:
    errs = _file_mode(source.get("defaultMode"), f"{field}.defaultMode")
    for i, projection in enumerate(as_list(source.get("sources"))):
        projection = as_dict(projection)
        path = f"{field}.sources[{i}]"
        kinds = [
            k
            for k in (
                "secret",
                "configMap",
                "downwardAPI",
                "serviceAccountToken",
                "clusterTrustBundle",
                "podCertificate",
            )
            if projection.get(k) is not None
        ]
        if len(kinds) > 1:
            errs.append(forbidden(f"{path}.{kinds[1]}", "may not specify more than 1 volume type"))
        for key in ("secret", "configMap"):
            if isinstance(projection.get(key), dict):
                errs.extend(_key_to_paths(projection[key].get("items"), f"{path}.{key}.items"))
        token = projection.get("serviceAccountToken")
        if isinstance(token, dict):
            seconds = token.get("expirationSeconds")
            if is_int(seconds) and seconds < 600:
                detail = "may not specify a duration less than 10 minutes"
                errs.append(
                    invalid(f"{path}.serviceAccountToken.expirationSeconds", seconds, detail)
                )
            if not token.get("path"):
                errs.append(required(f"{path}.serviceAccountToken.path"))
    return errs


def _downward_api(source: Obj, field: str) -> Errs:
    errs = _file_mode(source.get("defaultMode"), f"{field}.defaultMode")
    for i, item in enumerate(as_list(source.get("items"))):
        item = as_dict(item)
        target = as_str(item.get("path"))
        if not target:
            errs.append(required(f"{field}.items[{i}].path"))
        else:
            errs.extend(_local_descending_path(target, f"{field}.items[{i}].path"))
        errs.extend(_file_mode(item.get("mode"), f"{field}.items[{i}].mode"))
    return errs


def _csi(source: Obj, field: str) -> Errs:
    driver = as_str(source.get("driver"))
    if not driver:
        return [required(f"{field}.driver")]
    return [invalid(f"{field}.driver", driver, m) for m in is_dns1123_subdomain(driver.lower())]


def _ephemeral(source: Obj, field: str) -> Errs:
    template = source.get("volumeClaimTemplate")
    if not isinstance(template, dict):
        return [required(f"{field}.volumeClaimTemplate")]
    return []


_SOURCE_CHECKS = {
    "configMap": _config_map,
    "secret": _secret,
    "hostPath": _host_path,
    "emptyDir": _empty_dir,
    "persistentVolumeClaim": _claim,
    "nfs": _nfs,
    "projected": _projected,
    "downwardAPI": _downward_api,
    "csi": _csi,
    "ephemeral": _ephemeral,
}
