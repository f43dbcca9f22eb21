"""Where the API server reaches a node's kubelet, and what it asks it for. Pure.

The streaming subresources (``pods/log``, ``exec``, ``attach``, ``portforward``) and
``nodes/proxy`` are answered by the kubelet of the pod's node; the API server only proxies.

Promises:

* :func:`kubelet_endpoint` reads the node's ``status.daemonEndpoints.kubeletEndpoint.Port``
  and the first address of ``status.addresses`` by type preference (InternalIP,
  InternalDNS, Hostname, ExternalIP, ExternalDNS: the reachable one first, unlike
  upstream's Hostname-first default, because our nodes run on loopback). A node without
  either answers 503 ``no kubelet endpoint for node "n"``.
* :func:`pod_container` picks the container a request is about: the one named (400
  ``container y is not valid for pod x`` if there is none of that name), else the
  ``kubectl.kubernetes.io/default-container`` annotation's, else the first. (Upstream's
  server asks for a name when a pod has several containers and leaves the default to
  kubectl; answering with the default serves clients that send no name as kubectl would.)
* :func:`parse_log_options` and :func:`parse_stream_options` read the query of a
  ``log`` / ``exec`` / ``attach`` / ``portforward`` request with upstream's conversions
  (a boolean is false only when absent, ``0`` or ``false``) and validation (422 on the
  ``PodLogOptions`` kind); their ``kubelet_path`` / ``kubelet_query`` give the request
  to send the kubelet, in the upstream kubelet's URL scheme
  (``/containerLogs/{ns}/{pod}/{container}``, ``/exec/{ns}/{pod}/{container}?command=..
  &input=1&output=1&error=1&tty=1``, ``/portForward/{ns}/{pod}?port=80,81``).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kybernetes.api._errors import FieldError, forbidden, invalid
from kybernetes.apiserver import _errors as errors

Obj = dict[str, Any]
QueryItems = Iterable[tuple[str, str]]

DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"
ADDRESS_PREFERENCE = ("InternalIP", "InternalDNS", "Hostname", "ExternalIP", "ExternalDNS")
EXEC, ATTACH, PORTFORWARD = "exec", "attach", "portforward"
_KUBELET_VERB = {EXEC: "exec", ATTACH: "attach", PORTFORWARD: "portForward"}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A backend the API server proxies to (a kubelet, a pod, a service endpoint)."""

    host: str
    port: int
    scheme: str = "http"

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def url(
        self, path: str, query: Sequence[tuple[str, str]] = (), *, websocket: bool = False
    ) -> str:
        scheme = self.scheme
        if websocket:
            scheme = "wss" if scheme == "https" else "ws"
        text = urllib.parse.urlencode(list(query))
        return f"{scheme}://{self.authority}{path}" + (f"?{text}" if text else "")


def _port(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536:
        return value
    return None


def node_address(node: Mapping[str, Any]) -> str | None:
    """The node's address to reach it by, by :data:`ADDRESS_PREFERENCE`."""
    addresses = [
        a for a in (node.get("status") or {}).get("addresses") or [] if isinstance(a, dict)
    ]
    for kind in ADDRESS_PREFERENCE:
        for address in addresses:
            value = address.get("address")
            if address.get("type") == kind and isinstance(value, str) and value:
                return value
    return None


def kubelet_endpoint(node: Mapping[str, Any], *, scheme: str = "http") -> Endpoint:
    """The node's kubelet; 503 when the node does not say where it is."""
    name = str((node.get("metadata") or {}).get("name") or "")
    daemon = ((node.get("status") or {}).get("daemonEndpoints") or {}).get("kubeletEndpoint")
    port = _port((daemon or {}).get("Port"))
    if port is None:
        raise no_kubelet(name, "its status.daemonEndpoints.kubeletEndpoint.Port is not set")
    host = node_address(node)
    if host is None:
        raise no_kubelet(name, "its status.addresses has no address")
    return Endpoint(host, port, scheme)


def no_kubelet(node: str, why: str) -> errors.APIError:
    return errors.service_unavailable(f'no kubelet endpoint for node "{node}": {why}')


def no_host(pod: str) -> errors.APIError:
    return errors.bad_request(f"pod {pod} does not have a host assigned")


# -- containers -----------------------------------------------------------------------------


def container_names(pod: Mapping[str, Any]) -> list[str]:
    """Every container of the pod: regular, then init, then ephemeral."""
    spec = pod.get("spec") or {}
    names = []
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for container in spec.get(key) or []:
            if isinstance(container, dict) and isinstance(container.get("name"), str):
                names.append(container["name"])
    return names


def pod_container(pod: Mapping[str, Any], requested: str) -> str:
    """The container a request names, or the pod's default one (see the module docstring)."""
    meta = pod.get("metadata") or {}
    pod_name = str(meta.get("name") or "")
    names = container_names(pod)
    if requested:
        if requested not in names:
            raise errors.bad_request(f"container {requested} is not valid for pod {pod_name}")
        return requested
    default = (meta.get("annotations") or {}).get(DEFAULT_CONTAINER_ANNOTATION)
    if isinstance(default, str) and default in names:
        return default
    regular = [c for c in (pod.get("spec") or {}).get("containers") or [] if isinstance(c, dict)]
    if not regular or not isinstance(regular[0].get("name"), str):
        raise errors.bad_request(f"a container name must be specified for pod {pod_name}")
    name: str = regular[0]["name"]
    return name


# -- query conversion -----------------------------------------------------------------------


def _last(items: Sequence[tuple[str, str]], key: str) -> str | None:
    found = None
    for k, v in items:
        if k == key:
            found = v
    return found


def query_bool(items: Sequence[tuple[str, str]], key: str) -> bool:
    """Upstream's conversion: false only when absent, ``0`` or ``false`` (any case)."""
    value = _last(items, key)
    if value is None:
        return False
    return value != "0" and value.lower() != "false"


def query_int(items: Sequence[tuple[str, str]], key: str) -> int | None:
    value = _last(items, key)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise errors.bad_request(f'invalid value for {key}: "{value}": not an integer') from None


def _rfc3339(value: str, key: str) -> str:
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise errors.bad_request(
            f'invalid value for {key}: "{value}": not an RFC 3339 time'
        ) from None
    if parsed.tzinfo is None:
        raise errors.bad_request(f'invalid value for {key}: "{value}": the time zone is missing')
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class LogOptions:
    """``PodLogOptions`` from a ``pods/log`` query."""

    container: str = ""
    follow: bool = False
    previous: bool = False
    timestamps: bool = False
    since_seconds: int | None = None
    since_time: str | None = None
    tail_lines: int | None = None
    limit_bytes: int | None = None

    def kubelet_path(self, namespace: str, pod: str, container: str) -> str:
        return "/containerLogs/" + "/".join(_quote(p) for p in (namespace, pod, container))

    def kubelet_query(self) -> list[tuple[str, str]]:
        query = [(k, "true") for k, on in self._flags() if on]
        for key, value in (
            ("sinceSeconds", self.since_seconds),
            ("sinceTime", self.since_time),
            ("tailLines", self.tail_lines),
            ("limitBytes", self.limit_bytes),
        ):
            if value is not None:
                query.append((key, str(value)))
        return query

    def _flags(self) -> tuple[tuple[str, bool], ...]:
        return (
            ("follow", self.follow),
            ("previous", self.previous),
            ("timestamps", self.timestamps),
        )


def parse_log_options(items: QueryItems, pod_name: str) -> LogOptions:
    """The query's ``PodLogOptions``; 400 when unparseable, 422 when invalid (as upstream)."""
    query = list(items)
    since_time = _last(query, "sinceTime")
    opts = LogOptions(
        container=_last(query, "container") or "",
        follow=query_bool(query, "follow"),
        previous=query_bool(query, "previous"),
        timestamps=query_bool(query, "timestamps"),
        since_seconds=query_int(query, "sinceSeconds"),
        since_time=_rfc3339(since_time, "sinceTime") if since_time else None,
        tail_lines=query_int(query, "tailLines"),
        limit_bytes=query_int(query, "limitBytes"),
    )
    errs: list[FieldError] = []
    if opts.tail_lines is not None and opts.tail_lines < 0:
        errs.append(invalid("tailLines", opts.tail_lines, "must be greater than or equal to 0"))
    if opts.limit_bytes is not None and opts.limit_bytes < 1:
        errs.append(invalid("limitBytes", opts.limit_bytes, "must be greater than 0"))
    if opts.since_seconds is not None and opts.since_time is not None:
        errs.append(forbidden("", "at most one of `sinceTime` or `sinceSeconds` may be specified"))
    elif opts.since_seconds is not None and opts.since_seconds < 1:
        errs.append(invalid("sinceSeconds", opts.since_seconds, "must be greater than 0"))
    if errs:
        raise errors.invalid("PodLogOptions", "", pod_name, errs)
    return opts


@dataclass(frozen=True, slots=True)
class StreamOptions:
    """``PodExecOptions`` / ``PodAttachOptions`` / ``PodPortForwardOptions`` from a query."""

    kind: str
    container: str = ""
    command: tuple[str, ...] = ()
    stdin: bool = False
    stdout: bool = False
    stderr: bool = False
    tty: bool = False
    ports: tuple[int, ...] = ()

    def kubelet_path(self, namespace: str, pod: str, container: str) -> str:
        parts = [namespace, pod] if self.kind == PORTFORWARD else [namespace, pod, container]
        return f"/{_KUBELET_VERB[self.kind]}/" + "/".join(_quote(p) for p in parts)

    def kubelet_query(self) -> list[tuple[str, str]]:
        if self.kind == PORTFORWARD:
            return [("port", ",".join(str(p) for p in self.ports))] if self.ports else []
        query = [("command", c) for c in self.command]
        for key, on in (
            ("input", self.stdin),
            ("output", self.stdout),
            ("error", self.stderr),
            ("tty", self.tty),
        ):
            if on:
                query.append((key, "1"))
        return query


def parse_stream_options(kind: str, items: QueryItems) -> StreamOptions:
    query = list(items)
    if kind == PORTFORWARD:
        ports: list[int] = []
        for key, value in query:
            if key != "ports":
                continue
            # Clients send the parameter repeated or comma separated.
            for part in value.split(","):
                port = query_int([("ports", part.strip())], "ports")
                if port is None or not 0 < port < 65536:
                    raise errors.bad_request(f'invalid port "{part}": must be 1-65535')
                ports.append(port)
        return StreamOptions(kind, ports=tuple(ports))
    return StreamOptions(
        kind,
        container=_last(query, "container") or "",
        command=tuple(v for k, v in query if k == "command") if kind == EXEC else (),
        stdin=query_bool(query, "stdin"),
        stdout=query_bool(query, "stdout"),
        stderr=query_bool(query, "stderr"),
        tty=query_bool(query, "tty"),
    )


def _quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


# -- proxy names ----------------------------------------------------------------------------


def split_scheme_name_port(text: str) -> tuple[str, str, str] | None:
    """``name``, ``name:port`` or ``scheme:name:port`` (scheme http or https), as the
    proxy subresources name their target; None when malformed."""
    parts = text.split(":")
    if len(parts) == 1:
        scheme, name, port = "", parts[0], ""
    elif len(parts) == 2:
        scheme, (name, port) = "", parts
    elif len(parts) == 3:
        scheme, name, port = parts
    else:
        return None
    if not name or scheme not in ("", "http", "https"):
        return None
    return scheme, name, port
