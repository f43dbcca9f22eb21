"""OpenAPI 3.0 path items for one resource: the REST operations we serve. Pure, no I/O.

:func:`resource_paths` returns ``{url_template: path_item}`` for a resource and its
subresources, in upstream's shape: every operation carries ``x-kubernetes-action`` and
``x-kubernetes-group-version-kind`` (``kubectl explain`` finds the kind of a resource
through them), and every PATCH operation declares the ``fieldValidation`` query parameter
(kubectl checks exactly that before sending ``fieldValidation=Strict``) and accepts the four
patch content types. Parameter descriptions are our own words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kybernetes.api import ResourceInfo
from kybernetes.apiserver._discovery import subresource_kind
from kybernetes.apiserver._openapi_schema import ref

META = "io.k8s.apimachinery.pkg.apis.meta.v1."
STATUS = META + "Status"
DELETE_OPTIONS = META + "DeleteOptions"
PATCH = META + "Patch"
WATCH_EVENT = META + "WatchEvent"

PATCH_CONTENT_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)

_PARAMS: dict[str, tuple[str, str]] = {
    # name: (schema type, description)
    "pretty": ("string", "If 'true', indent the JSON response."),
    "allowWatchBookmarks": ("boolean", "Ask for BOOKMARK events on a watch."),
    "continue": ("string", "The continue token of the previous page of a paginated list."),
    "fieldSelector": ("string", "Restrict the result to objects whose fields match."),
    "labelSelector": ("string", "Restrict the result to objects whose labels match."),
    "limit": ("integer", "The largest number of items to return in one page."),
    "resourceVersion": ("string", "Which resource version the read may be served from."),
    "resourceVersionMatch": ("string", "How resourceVersion applies: Exact or NotOlderThan."),
    "sendInitialEvents": (
        "boolean",
        "With watch: first send the current objects, then a bookmark marking their end.",
    ),
    "timeoutSeconds": ("integer", "End the list or watch call after this many seconds."),
    "watch": ("boolean", "Stream changes to the listed objects instead of listing them."),
    "dryRun": ("string", "'All' to run every stage of the request without persisting it."),
    "fieldManager": ("string", "The name of the actor making the change (field ownership)."),
    "fieldValidation": (
        "string",
        "What to do with unknown or duplicate fields in the body: 'Ignore' drops them, "
        "'Warn' drops them with a warning, 'Strict' fails the request.",
    ),
    "force": ("boolean", "Server-side apply: take ownership of conflicting fields."),
    "gracePeriodSeconds": ("integer", "Seconds before the object is deleted (0: now)."),
    "ignoreStoreReadErrorWithClusterBreakingPotential": (
        "boolean",
        "Delete an object that cannot be read from storage (unsafe).",
    ),
    "orphanDependents": ("boolean", "Deprecated: use propagationPolicy=Orphan."),
    "propagationPolicy": ("string", "What happens to dependents: Orphan, Background, Foreground."),
    # subresource options
    "container": ("string", "The container to use; defaults to the only or the default one."),
    "follow": ("boolean", "Keep streaming the log as it grows."),
    "insecureSkipTLSVerifyBackend": ("boolean", "Do not verify the kubelet's certificate."),
    "limitBytes": ("integer", "Stop after this many bytes of log."),
    "previous": ("boolean", "The log of the previous, terminated container instance."),
    "sinceSeconds": ("integer", "Only log lines newer than this many seconds."),
    "sinceTime": ("string", "Only log lines since this RFC 3339 time."),
    "stream": ("string", "Which log stream: All, Stdout or Stderr."),
    "tailLines": ("integer", "Only this many lines from the end of the log."),
    "timestamps": ("boolean", "Prefix every log line with its RFC 3339 timestamp."),
    "command": ("string", "The command to run; repeat the parameter for each argument."),
    "stdin": ("boolean", "Attach standard input."),
    "stdout": ("boolean", "Attach standard output."),
    "stderr": ("boolean", "Attach standard error."),
    "tty": ("boolean", "Allocate a terminal."),
    "ports": ("integer", "A port to forward; repeat for several."),
}

_LIST = (
    "allowWatchBookmarks",
    "continue",
    "fieldSelector",
    "labelSelector",
    "limit",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "timeoutSeconds",
    "watch",
)
_WRITE = ("dryRun", "fieldManager", "fieldValidation")
_DELETE = (
    "dryRun",
    "gracePeriodSeconds",
    "ignoreStoreReadErrorWithClusterBreakingPotential",
    "orphanDependents",
    "propagationPolicy",
)
_CONNECT_PARAMS = {
    "exec": ("command", "container", "stderr", "stdin", "stdout", "tty"),
    "attach": ("container", "stderr", "stdin", "stdout", "tty"),
    "portforward": ("ports",),
}
_LOG_PARAMS = (
    "container",
    "follow",
    "insecureSkipTLSVerifyBackend",
    "limitBytes",
    "previous",
    "sinceSeconds",
    "sinceTime",
    "stream",
    "tailLines",
    "timestamps",
)
_JSON = "application/json"
_STREAM = "application/json;stream=watch"

GVK = tuple[str, str, str]
#: ``definition_for(group, version, kind)`` -> component schema name, or None.
DefinitionFor = Callable[[str, str, str], "str | None"]


def query(*names: str) -> list[dict[str, Any]]:
    out = []
    for name in names:
        kind, description = _PARAMS[name]
        out.append(
            {"name": name, "in": "query", "description": description, "schema": {"type": kind}}
        )
    return out


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def group_tag(group: str) -> str:
    """``rbac.authorization.k8s.io`` -> ``RbacAuthorization``; core -> ``Core``."""
    if not group:
        return "Core"
    return "".join(p.capitalize() for p in group.removesuffix(".k8s.io").split("."))


def operation_tag(group: str, version: str) -> str:
    """``core_v1``, ``apps_v1``, ``rbacAuthorization_v1``: how operations are grouped."""
    tag = group_tag(group)
    return f"{tag[0].lower()}{tag[1:]}_{version}"


def _ok(schema: dict[str, Any], *types: str) -> dict[str, Any]:
    return {"description": "OK", "content": {t: {"schema": schema} for t in types or (_JSON,)}}


_PATCH_BODY = {
    "required": True,
    "content": {t: {"schema": ref(PATCH)} for t in PATCH_CONTENT_TYPES},
}
_DELETE_BODY = {"content": {_JSON: {"schema": ref(DELETE_OPTIONS)}}}
_DELETECOLLECTION = tuple(sorted({*_LIST, *_DELETE} - {"watch", "allowWatchBookmarks"}))

# One operation: (HTTP method, x-kubernetes-action, operationId verb, description, query
# parameters, request body: "object" (the kind's schema), "patch", "delete" or None).
_Op = tuple[str, str, str, str, tuple[str, ...], "str | None"]

#: Operations on the collection and on one object, by the registry verb that enables them.
_COLLECTION_OPS: dict[str, _Op] = {
    "list": ("get", "list", "list", "list or watch objects of kind {kind}", _LIST, None),
    "create": ("post", "post", "create", "create a {kind}", _WRITE, "object"),
    "deletecollection": (
        "delete",
        "deletecollection",
        "delete",
        "delete collection of {kind}",
        _DELETECOLLECTION,
        "delete",
    ),
}
_READ: _Op = ("get", "get", "read", "read the specified {kind}", (), None)
_REPLACE: _Op = ("put", "put", "replace", "replace the specified {kind}", _WRITE, "object")
_PATCH_OP: _Op = (
    "patch",
    "patch",
    "patch",
    "partially update the specified {kind}",
    (*_WRITE, "force"),
    "patch",
)
_ITEM_OPS: dict[str, _Op] = {
    "get": _READ,
    "update": _REPLACE,
    "patch": _PATCH_OP,
    "delete": ("delete", "delete", "delete", "delete a {kind}", _DELETE, "delete"),
}
_CREATE_SUB: _Op = ("post", "post", "create", "create a {kind}", _WRITE, "object")
#: Operations on each subresource.
_SUBRESOURCE_OPS: dict[str, tuple[_Op, ...]] = {
    "status": (_READ, _REPLACE, _PATCH_OP),
    "scale": (_READ, _REPLACE, _PATCH_OP),
    "ephemeralcontainers": (_READ, _REPLACE, _PATCH_OP),
    "finalize": (_REPLACE,),
    "binding": (_CREATE_SUB,),
    "eviction": (_CREATE_SUB,),
    "token": (_CREATE_SUB,),
    "log": (("get", "get", "read", "read the specified {kind}", _LOG_PARAMS, None),),
    **{
        sub: (
            ("get", "connect", "connectGet", "connect GET to the specified {kind}", params, None),
            (
                "post",
                "connect",
                "connectPost",
                "connect POST to the specified {kind}",
                params,
                None,
            ),
        )
        for sub, params in _CONNECT_PARAMS.items()
    },
}


class _Paths:
    """Collects the path items of one resource."""

    def __init__(self, info: ResourceInfo, definition_for: DefinitionFor) -> None:
        self.info = info
        self.definition_for = definition_for
        self.op_prefix = group_tag(info.group) + info.version.capitalize()
        self.tags = [operation_tag(info.group, info.version)]
        self.items: dict[str, dict[str, Any]] = {}

    def schema_of(self, gvk: GVK) -> dict[str, Any]:
        name = self.definition_for(*gvk)
        return ref(name) if name else {"type": "object"}

    def add(
        self,
        path: str,
        path_params: list[dict[str, Any]],
        spec: _Op,
        op_id: str,
        gvk: GVK,
        responses: dict[str, Any] | None = None,
        what: str = "",
    ) -> None:
        method, action, verb, description, params, body = spec
        schema = self.schema_of(gvk)
        if responses is None:
            responses = self._responses(action, schema, path)
        operation: dict[str, Any] = {
            "description": description.format(kind=what or self.info.kind),
            "operationId": verb + op_id,
            "tags": self.tags,
            "parameters": query(*params),
            "responses": responses,
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": {"group": gvk[0], "kind": gvk[2], "version": gvk[1]},
        }
        if body == "object":
            operation["requestBody"] = {"required": True, "content": {_JSON: {"schema": schema}}}
        elif body == "patch":
            operation["requestBody"] = _PATCH_BODY
        elif body == "delete":
            operation["requestBody"] = _DELETE_BODY
        self.items.setdefault(path, {"parameters": path_params})[method] = operation

    @staticmethod
    def _responses(action: str, schema: dict[str, Any], path: str) -> dict[str, Any]:
        if action == "get" and path.endswith("/log"):
            return {"200": _ok({"type": "string"}, "text/plain")}
        if action == "connect":
            return {"200": _ok({"type": "string"}, "*/*")}
        if action == "deletecollection":
            return {"200": _ok(ref(STATUS))}
        if action == "delete":
            gone = _ok({"oneOf": [schema, ref(STATUS)]})
            return {"200": gone, "202": gone}
        if action in ("put", "patch"):
            return {"200": _ok(schema), "201": _ok(schema)}
        if action == "post":
            return {"200": _ok(schema), "201": _ok(schema), "202": _ok(schema)}
        return {"200": _ok(schema)}

    def build(self) -> dict[str, dict[str, Any]]:
        info, kind, gvk = self.info, self.info.kind, self.info.gvk
        prefix = info.url_prefix()
        pretty = query("pretty")
        name = _path_param("name", f"name of the {kind}")
        ns: list[dict[str, Any]] = []
        scope = ""
        collection = f"{prefix}/{info.plural}"
        if info.namespaced:
            ns = [_path_param("namespace", "object name and auth scope, such as for teams")]
            scope = "Namespaced"
            collection = f"{prefix}/namespaces/{{namespace}}/{info.plural}"
        item = collection + "/{name}"
        op_id = f"{self.op_prefix}{scope}{kind}"
        list_ok = {"200": _ok(self.schema_of((*gvk[:2], info.list_kind)), _JSON, _STREAM)}
        for verb, spec in _COLLECTION_OPS.items():
            if verb in info.verbs:
                responses = list_ok if verb == "list" else None
                target = f"Collection{op_id}" if verb == "deletecollection" else op_id
                self.add(collection, [*ns, *pretty], spec, target, gvk, responses)
        if info.namespaced and "list" in info.verbs:
            all_ns = f"{self.op_prefix}{kind}ForAllNamespaces"
            self.add(
                f"{prefix}/{info.plural}", pretty, _COLLECTION_OPS["list"], all_ns, gvk, list_ok
            )
        for verb, spec in _ITEM_OPS.items():
            if verb in info.verbs:
                self.add(item, [name, *ns, *pretty], spec, op_id, gvk)
        if "watch" in info.verbs:
            self.watch(prefix, scope, ns, name)
        for sub in info.subresources:
            sub_gvk = subresource_kind(info, sub)
            for spec in _SUBRESOURCE_OPS.get(sub, ()):
                sub_op = f"{op_id}{sub.capitalize()}"
                self.add(
                    f"{item}/{sub}",
                    [name, *ns, *pretty],
                    spec,
                    sub_op,
                    sub_gvk,
                    what=f"{kind} {sub}",
                )
        return self.items

    def watch(self, prefix: str, scope: str, ns: list[Any], name: dict[str, Any]) -> None:
        """The deprecated ``/watch/`` paths upstream still serves and documents."""
        info, gvk = self.info, self.info.gvk
        events = {"200": _ok(ref(WATCH_EVENT), _JSON, _STREAM)}
        params = query(*_LIST, "pretty")
        base = f"{prefix}/watch/namespaces/{{namespace}}" if info.namespaced else f"{prefix}/watch"
        watch_list: _Op = ("get", "watchlist", "watch", "watch changes to {kind} objects", (), None)
        watch_one: _Op = ("get", "watch", "watch", "watch changes to a {kind}", (), None)
        op_id = f"{self.op_prefix}{scope}{info.kind}"
        self.add(f"{base}/{info.plural}", [*ns, *params], watch_list, f"{op_id}List", gvk, events)
        self.add(
            f"{base}/{info.plural}/{{name}}", [name, *ns, *params], watch_one, op_id, gvk, events
        )
        if info.namespaced:
            all_ns = f"{self.op_prefix}{info.kind}ListForAllNamespaces"
            self.add(f"{prefix}/watch/{info.plural}", params, watch_list, all_ns, gvk, events)


def resource_paths(info: ResourceInfo, definition_for: DefinitionFor) -> dict[str, dict[str, Any]]:
    """Path items of ``info``'s operations and its subresources'.

    ``definition_for(group, version, kind)`` names the component schema of a kind; when it
    returns None the operation speaks a plain object.
    """
    return _Paths(info, definition_for).build()
