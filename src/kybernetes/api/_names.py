"""Names, label and annotation keys, and object metadata, validated as upstream does.

The ``is_*`` functions mirror upstream's ``k8s.io/apimachinery/pkg/util/validation``: each
returns the list of upstream's message strings for what is wrong (empty when valid).
Lengths are counted in UTF-8 bytes, as Go's ``len`` does. The ``name_is_*`` functions are
upstream's ``ValidateNameFunc``s (``prefix=True`` checks a ``generateName``).

:func:`validate_object_meta` and :func:`validate_object_meta_update` mirror
``ValidateObjectMetaAccessor`` and ``ValidateObjectMetaAccessorUpdate`` and return
:class:`~kybernetes.api._errors.FieldError` lists with upstream's paths and texts. They
expect name generation to have happened already (as upstream's do) and read only string,
list and mapping values: JSON type errors are :mod:`kybernetes.api._fields`' business.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from kybernetes.api._errors import (
    FieldError,
    StructValue,
    forbidden,
    go_quote,
    invalid,
    required,
    too_long,
)

#: ``(name, prefix) -> messages``; upstream's ``ValidateNameFunc``.
NameValidator = Callable[[str, bool], list[str]]

DNS1123_LABEL_MAX_LENGTH: Final = 63
DNS1123_SUBDOMAIN_MAX_LENGTH: Final = 253
DNS1035_LABEL_MAX_LENGTH: Final = 63
QUALIFIED_NAME_MAX_LENGTH: Final = 63
LABEL_VALUE_MAX_LENGTH: Final = 63
TOTAL_ANNOTATION_SIZE_LIMIT: Final = 256 * 1024
FIELD_MANAGER_MAX_LENGTH: Final = 128
MAX_SUBRESOURCE_NAME_LENGTH: Final = 256

DNS1123_LABEL_FMT: Final = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_FMT: Final = DNS1123_LABEL_FMT + "(\\." + DNS1123_LABEL_FMT + ")*"
DNS1035_LABEL_FMT: Final = "[a-z]([-a-z0-9]*[a-z0-9])?"
QUALIFIED_NAME_FMT: Final = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE_FMT: Final = "(" + QUALIFIED_NAME_FMT + ")?"

_DNS1123_LABEL_MSG: Final = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_MSG: Final = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character"
)
_DNS1035_LABEL_MSG: Final = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
    "an alphabetic character, and end with an alphanumeric character"
)
_QUALIFIED_NAME_MSG: Final = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
    "an alphanumeric character"
)
_LABEL_VALUE_MSG: Final = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character"
)
IS_NEGATIVE_MSG: Final = "must be greater than or equal to 0"
FIELD_IMMUTABLE_MSG: Final = "field is immutable"

# fullmatch, never match + "$": Python's "$" also accepts a trailing newline.
_DNS1123_LABEL_RE: Final = re.compile(DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN_RE: Final = re.compile(DNS1123_SUBDOMAIN_FMT)
_DNS1035_LABEL_RE: Final = re.compile(DNS1035_LABEL_FMT)
_QUALIFIED_NAME_RE: Final = re.compile(QUALIFIED_NAME_FMT)
_LABEL_VALUE_RE: Final = re.compile(LABEL_VALUE_FMT)


def empty_error() -> str:
    return "must be non-empty"


def max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def regex_error(message: str, fmt: str, *examples: str) -> str:
    """Upstream's ``RegexError`` (its odd ``'a',  or 'b'`` spacing included)."""
    if not examples:
        return f"{message} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{example}', " for example in examples)
    return f"{message} (e.g. {shown}regex used for validation is '{fmt}')"


def _byte_len(value: str) -> int:
    return len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))


def is_dns1123_label(value: str) -> list[str]:
    errs = []
    if _byte_len(value) > DNS1123_LABEL_MAX_LENGTH:
        errs.append(max_len_error(DNS1123_LABEL_MAX_LENGTH))
    if not _DNS1123_LABEL_RE.fullmatch(value):
        errs.append(regex_error(_DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    errs = []
    if _byte_len(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errs.append(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errs.append(regex_error(_DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_dns1035_label(value: str) -> list[str]:
    errs = []
    if _byte_len(value) > DNS1035_LABEL_MAX_LENGTH:
        errs.append(max_len_error(DNS1035_LABEL_MAX_LENGTH))
    if not _DNS1035_LABEL_RE.fullmatch(value):
        errs.append(regex_error(_DNS1035_LABEL_MSG, DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errs


def is_qualified_name(value: str) -> list[str]:
    """A label/annotation key or finalizer: ``[prefix/]name``."""
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part " + empty_error())
        else:
            errs.extend("prefix part " + msg for msg in is_dns1123_subdomain(prefix))
    else:
        return [
            "a qualified name "
            + regex_error(_QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part " + empty_error())
    elif _byte_len(name) > QUALIFIED_NAME_MAX_LENGTH:
        errs.append("name part " + max_len_error(QUALIFIED_NAME_MAX_LENGTH))
    if not _QUALIFIED_NAME_RE.fullmatch(name):
        errs.append(
            "name part "
            + regex_error(_QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
        )
    return errs


def is_valid_label_value(value: str) -> list[str]:
    errs = []
    if _byte_len(value) > LABEL_VALUE_MAX_LENGTH:
        errs.append(max_len_error(LABEL_VALUE_MAX_LENGTH))
    if not _LABEL_VALUE_RE.fullmatch(value):
        errs.append(regex_error(_LABEL_VALUE_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


# -- path segments (names that end up in URLs and storage keys) ------------------------------

NAME_MAY_NOT_BE: Final = (".", "..")
NAME_MAY_NOT_CONTAIN: Final = ("/", "%")


def is_valid_path_segment_prefix(name: str) -> list[str]:
    return [f"may not contain '{bad}'" for bad in NAME_MAY_NOT_CONTAIN if bad in name]


def is_valid_path_segment_name(name: str) -> list[str]:
    if name in NAME_MAY_NOT_BE:
        return [f"may not be '{name}'"]
    return is_valid_path_segment_prefix(name)


def validate_path_segment_name(name: str, prefix: bool) -> list[str]:
    return is_valid_path_segment_prefix(name) if prefix else is_valid_path_segment_name(name)


# -- name validators for metadata.name ------------------------------------------------------


def _mask_trailing_dash(name: str) -> str:
    # Upstream replaces the last *two* characters with "a" when the name ends in "-".
    if len(name) > 1 and name.endswith("-"):
        return name[:-2] + "a"
    return name


def name_is_dns_subdomain(name: str, prefix: bool) -> list[str]:
    return is_dns1123_subdomain(_mask_trailing_dash(name) if prefix else name)


def name_is_dns_label(name: str, prefix: bool) -> list[str]:
    return is_dns1123_label(_mask_trailing_dash(name) if prefix else name)


def name_is_dns1035_label(name: str, prefix: bool) -> list[str]:
    return is_dns1035_label(_mask_trailing_dash(name) if prefix else name)


validate_namespace_name: Final = name_is_dns_label
validate_service_account_name: Final = name_is_dns_subdomain


# -- metadata ---------------------------------------------------------------------------------


def validate_labels(labels: Any, field: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if not isinstance(labels, Mapping):
        return errs
    for key, value in labels.items():
        errs.extend(invalid(field, key, msg) for msg in is_qualified_name(key))
        if isinstance(value, str):
            errs.extend(invalid(field, value, msg) for msg in is_valid_label_value(value))
    return errs


def validate_annotations(annotations: Any, field: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if not isinstance(annotations, Mapping):
        return errs
    total = 0
    for key, value in annotations.items():
        # Keys follow the qualified-name rule except that case does not matter.
        errs.extend(invalid(field, key, msg) for msg in is_qualified_name(key.lower()))
        total += _byte_len(key) + (_byte_len(value) if isinstance(value, str) else 0)
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(too_long(field, TOTAL_ANNOTATION_SIZE_LIMIT))
    return errs


FINALIZER_ORPHAN_DEPENDENTS: Final = "orphan"
FINALIZER_DELETE_DEPENDENTS: Final = "foregroundDeletion"


def validate_finalizers(finalizers: Any, field: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if not isinstance(finalizers, list):
        return errs
    for finalizer in finalizers:
        if isinstance(finalizer, str):
            errs.extend(invalid(field, finalizer, msg) for msg in is_qualified_name(finalizer))
    if FINALIZER_ORPHAN_DEPENDENTS in finalizers and FINALIZER_DELETE_DEPENDENTS in finalizers:
        detail = (
            f"finalizer {FINALIZER_ORPHAN_DEPENDENTS} and {FINALIZER_DELETE_DEPENDENTS} "
            "cannot be both set"
        )
        errs.append(invalid(field, finalizers, detail))
    return errs


# Objects that may never own others, as (group, version, kind).
BANNED_OWNERS: Final = frozenset({("", "v1", "Event")})

_OWNER_REFERENCE_FIELDS: Final = (
    "apiVersion",
    "kind",
    "name",
    "uid",
    "controller",
    "blockOwnerDeletion",
)


def _parse_group_version(api_version: str) -> tuple[str, str] | None:
    if api_version in ("", "/"):
        return "", ""
    slashes = api_version.count("/")
    if slashes == 0:
        return "", api_version
    if slashes == 1:
        group, version = api_version.split("/")
        return group, version
    return None


def _as_struct(ref: Mapping[str, Any]) -> StructValue:
    """An owner reference as Go marshals it: declared field order, empty optionals left out."""
    out = StructValue()
    for key in _OWNER_REFERENCE_FIELDS:
        if key in ("controller", "blockOwnerDeletion"):
            if ref.get(key) is not None:
                out[key] = ref[key]
        else:
            out[key] = ref.get(key) or ""
    return out


def _validate_owner_reference(ref: Mapping[str, Any], field: str) -> list[FieldError]:
    errs: list[FieldError] = []
    api_version = ref.get("apiVersion") or ""
    kind = ref.get("kind") or ""
    gv = _parse_group_version(api_version)
    group, version = gv if gv is not None else ("", "")
    if not version:
        errs.append(invalid(f"{field}.apiVersion", api_version, "version must not be empty"))
    if not kind:
        errs.append(invalid(f"{field}.kind", kind, "kind must not be empty"))
    if not ref.get("name"):
        errs.append(invalid(f"{field}.name", ref.get("name") or "", "name must not be empty"))
    if not ref.get("uid"):
        errs.append(invalid(f"{field}.uid", ref.get("uid") or "", "uid must not be empty"))
    if (group, version, kind) in BANNED_OWNERS:
        gvk = f"{group}/{version}, Kind={kind}"
        errs.append(invalid(field, _as_struct(ref), f"{gvk} is disallowed from being an owner"))
    return errs


def validate_owner_references(refs: Any, field: str) -> list[FieldError]:
    """Upstream reports these on ``ownerReferences`` itself, without an index."""
    errs: list[FieldError] = []
    if not isinstance(refs, list):
        return errs
    first_controller = ""
    for ref in refs:
        if not isinstance(ref, Mapping):
            continue
        errs.extend(_validate_owner_reference(ref, field))
        if ref.get("controller") is True:
            current = f"{ref.get('kind') or ''}/{ref.get('name') or ''}"
            if first_controller:
                detail = (
                    'Only one reference can have Controller set to true. Found "true" in '
                    f"references for {first_controller} and {current}"
                )
                shown = [_as_struct(r) for r in refs if isinstance(r, Mapping)]
                errs.append(invalid(field, shown, detail))
            else:
                first_controller = current
    return errs


def validate_field_manager(manager: str, field: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if _byte_len(manager) > FIELD_MANAGER_MAX_LENGTH:
        errs.append(too_long(field, FIELD_MANAGER_MAX_LENGTH))
    position = 0
    for ch in manager:
        if not ch.isprintable():
            detail = f"invalid character U+{ord(ch):04X} (at position {position})"
            errs.append(invalid(field, manager, detail))
        position += _byte_len(ch)
    return errs


def validate_managed_fields(entries: Any, field: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if not isinstance(entries, list):
        return errs
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            continue
        path = f"{field}[{i}]"
        operation = entry.get("operation") or ""
        if operation not in ("Apply", "Update"):
            errs.append(invalid(f"{path}.operation", operation, "must be `Apply` or `Update`"))
        fields_type = entry.get("fieldsType") or ""
        if fields_type and fields_type != "FieldsV1":
            errs.append(invalid(f"{path}.fieldsType", fields_type, "must be `FieldsV1`"))
        manager = entry.get("manager")
        if isinstance(manager, str):
            errs.extend(validate_field_manager(manager, f"{path}.manager"))
        subresource = entry.get("subresource")
        if isinstance(subresource, str) and _byte_len(subresource) > MAX_SUBRESOURCE_NAME_LENGTH:
            errs.append(too_long(f"{path}.subresource", MAX_SUBRESOURCE_NAME_LENGTH))
    return errs


def _str(meta: Mapping[str, Any], key: str) -> str:
    value = meta.get(key)
    return value if isinstance(value, str) else ""


def _common(meta: Mapping[str, Any], field: str) -> list[FieldError]:
    errs: list[FieldError] = []
    errs.extend(validate_labels(meta.get("labels"), f"{field}.labels"))
    errs.extend(validate_annotations(meta.get("annotations"), f"{field}.annotations"))
    errs.extend(validate_owner_references(meta.get("ownerReferences"), f"{field}.ownerReferences"))
    return errs


def validate_object_meta(
    meta: Mapping[str, Any],
    *,
    namespaced: bool,
    name_validator: NameValidator = name_is_dns_subdomain,
    field: str = "metadata",
) -> list[FieldError]:
    """Upstream's ``ValidateObjectMetaAccessor`` for a create."""
    errs: list[FieldError] = []
    generate_name = _str(meta, "generateName")
    if generate_name:
        errs.extend(
            invalid(f"{field}.generateName", generate_name, msg)
            for msg in name_validator(generate_name, True)
        )
    name = _str(meta, "name")
    if not name:
        errs.append(required(f"{field}.name", "name or generateName is required"))
    else:
        errs.extend(invalid(f"{field}.name", name, msg) for msg in name_validator(name, False))
    namespace = _str(meta, "namespace")
    if namespaced:
        if not namespace:
            errs.append(required(f"{field}.namespace"))
        else:
            errs.extend(
                invalid(f"{field}.namespace", namespace, msg)
                for msg in validate_namespace_name(namespace, False)
            )
    elif namespace:
        errs.append(forbidden(f"{field}.namespace", "not allowed on this type"))
    generation = meta.get("generation")
    if isinstance(generation, int) and generation < 0:
        errs.append(invalid(f"{field}.generation", generation, IS_NEGATIVE_MSG))
    errs.extend(_common(meta, field))
    errs.extend(validate_finalizers(meta.get("finalizers"), f"{field}.finalizers"))
    errs.extend(validate_managed_fields(meta.get("managedFields"), f"{field}.managedFields"))
    return errs


_IMMUTABLE: Final = (
    "name",
    "namespace",
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)


def _empty_as_absent(value: Any) -> Any:
    # Go reads an absent string as "" and an absent pointer as nil; compare those alike.
    return None if value == "" else value


def validate_object_meta_update(
    new: Mapping[str, Any], old: Mapping[str, Any], *, field: str = "metadata"
) -> list[FieldError]:
    """Upstream's ``ValidateObjectMetaAccessorUpdate``."""
    errs: list[FieldError] = []
    if old.get("deletionTimestamp") is not None:
        new_finalizers = _strings(new.get("finalizers"))
        extra = sorted(set(new_finalizers) - set(_strings(old.get("finalizers"))))
        if extra:
            listed = "[]string{" + ", ".join(go_quote(f) for f in extra) + "}"
            detail = (
                "no new finalizers can be added if the object is being deleted, "
                f"found new finalizers {listed}"
            )
            errs.append(forbidden(f"{field}.finalizers", detail))
    if not _str(new, "resourceVersion"):
        errs.append(
            invalid(
                f"{field}.resourceVersion",
                _str(new, "resourceVersion"),
                "must be specified for an update",
            )
        )
    new_generation, old_generation = new.get("generation") or 0, old.get("generation") or 0
    generations = isinstance(new_generation, int) and isinstance(old_generation, int)
    if generations and new_generation < old_generation:
        errs.append(invalid(f"{field}.generation", new_generation, "must not be decremented"))
    for key in _IMMUTABLE:
        new_value, old_value = new.get(key), old.get(key)
        if _empty_as_absent(new_value) != _empty_as_absent(old_value):
            shown = "" if new_value is None and key in ("name", "namespace", "uid") else new_value
            errs.append(invalid(f"{field}.{key}", shown, FIELD_IMMUTABLE_MSG))
    errs.extend(_common(new, field))
    errs.extend(validate_managed_fields(new.get("managedFields"), f"{field}.managedFields"))
    return errs


def _strings(values: Any) -> Sequence[str]:
    if not isinstance(values, list):
        return ()
    return [v for v in values if isinstance(v, str)]
