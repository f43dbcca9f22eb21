"""The subresources a backend answers: ``pods/log``, ``exec``, ``attach``, ``portforward``
(the pod's kubelet) and ``nodes|pods|services/{name}/proxy/...`` (a kubelet, a pod, a
service endpoint). This module finds the backend; :mod:`._proxy` relays.

Promises:

* ``log``: 404 for a missing pod, 400 for a container it does not have, 422 for invalid
  options; an unscheduled pod has no logs yet: an empty 200, as upstream. Otherwise the
  kubelet's ``/containerLogs`` answer is streamed back (``kubectl logs -f``, ``--tail``...).
* ``exec`` / ``attach`` / ``portforward``: the same lookups, then 400 ``pod x does not
  have a host assigned`` for an unscheduled pod; only WebSocket upgrades are relayed
  (kubectl 1.30+ and the Python client speak it; SPDY clients get a 400).
* A node that is missing or does not publish its kubelet endpoint answers 503
  ``no kubelet endpoint for node "n"``; a kubelet that does not answer, 503
  ``error dialing backend``.
* ``nodes/{n}/proxy/{path}`` goes to the kubelet (or to ``scheme:n:port``);
  ``pods/{p}/proxy/{path}`` to ``status.podIP`` on the named port or the first declared
  container port (80 without any); ``services/{s}/proxy/{path}`` to a ready address of the
  service's Endpoints serving the named (or numbered) port, picked at random, as upstream
  (503 ``no endpoints available for service "s"``). HTML link rewriting, which upstream
  does for browsers, is not done.
"""

from __future__ import annotations

import random
from typing import Any

from aiohttp import web

from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._kubelet import (
    PORTFORWARD,
    Endpoint,
    kubelet_endpoint,
    no_host,
    no_kubelet,
    node_address,
    parse_log_options,
    parse_stream_options,
    pod_container,
    split_scheme_name_port,
)
from kybernetes.apiserver._proxy import is_websocket, proxy_http, proxy_websocket, stream_text
from kybernetes.apiserver._storage import ResourceStorage

Obj = dict[str, Any]


async def _get_or_none(storage: ResourceStorage, namespace: str, name: str) -> Obj | None:
    try:
        return await storage.get(namespace, name)
    except errors.APIError as e:
        if e.code == 404:
            return None
        raise


class Streams:
    def __init__(
        self,
        pods: ResourceStorage,
        nodes: ResourceStorage,
        services: ResourceStorage,
        endpoints: ResourceStorage,
        *,
        kubelet_scheme: str = "http",
    ) -> None:
        self.pods = pods
        self.nodes = nodes
        self.services = services
        self.endpoints = endpoints
        self.kubelet_scheme = kubelet_scheme

    async def kubelet(self, node_name: str) -> Endpoint:
        node = await _get_or_none(self.nodes, "", node_name)
        if node is None:
            raise no_kubelet(node_name, "the node does not exist")
        return kubelet_endpoint(node, scheme=self.kubelet_scheme)

    @staticmethod
    def _kubelet_what(node: str, endpoint: Endpoint) -> str:
        return f'the kubelet of node "{node}" at {endpoint.authority}'

    # -- pods/log, exec, attach, portforward --------------------------------------------

    async def log(self, request: web.Request, namespace: str, name: str) -> web.StreamResponse:
        if request.method != "GET":
            raise errors.method_not_allowed()
        opts = parse_log_options(request.query.items(), name)
        pod = await self.pods.get(namespace, name)
        container = pod_container(pod, opts.container)
        node = (pod.get("spec") or {}).get("nodeName")
        if not node:
            response = web.Response(body=b"")
            response.content_type = "text/plain"
            return response
        endpoint = await self.kubelet(node)
        url = endpoint.url(opts.kubelet_path(namespace, name, container), opts.kubelet_query())
        return await stream_text(
            request, url, what=self._kubelet_what(node, endpoint), resource="pods/log", name=name
        )

    async def stream(
        self, request: web.Request, kind: str, namespace: str, name: str
    ) -> web.StreamResponse:
        """``exec``, ``attach`` or ``portforward`` (``kind``) relayed to the kubelet."""
        if request.method not in ("GET", "POST"):
            raise errors.method_not_allowed()
        opts = parse_stream_options(kind, request.query.items())
        pod = await self.pods.get(namespace, name)
        container = "" if kind == PORTFORWARD else pod_container(pod, opts.container)
        node = (pod.get("spec") or {}).get("nodeName")
        if not node:
            raise no_host(name)
        endpoint = await self.kubelet(node)
        if not is_websocket(request):
            raise errors.bad_request(
                "Upgrade request required: this server relays exec, attach and port-forward "
                "streams over WebSocket (v5.channel.k8s.io) only"
            )
        url = endpoint.url(
            opts.kubelet_path(namespace, name, container), opts.kubelet_query(), websocket=True
        )
        return await proxy_websocket(request, url, what=self._kubelet_what(node, endpoint))

    # -- proxy ---------------------------------------------------------------------------

    @staticmethod
    def _target(text: str, what: str) -> tuple[str, str, str]:
        parsed = split_scheme_name_port(text)
        if parsed is None:
            raise errors.bad_request(f'invalid {what} request "{text}"')
        return parsed

    async def node_proxy(self, request: web.Request, name: str, rest: str) -> web.StreamResponse:
        scheme, node_name, port = self._target(name, "node")
        node = await _get_or_none(self.nodes, "", node_name)
        if node is None:
            raise errors.not_found(self.nodes.info, node_name)
        if port:
            host = node_address(node)
            if host is None:
                raise no_kubelet(node_name, "its status.addresses has no address")
            endpoint = Endpoint(host, self._port(port, name), scheme or "http")
        else:
            endpoint = kubelet_endpoint(node, scheme=scheme or self.kubelet_scheme)
        url = self._url(endpoint, rest, request)
        return await proxy_http(request, url, what=self._kubelet_what(node_name, endpoint))

    async def pod_proxy(
        self, request: web.Request, namespace: str, name: str, rest: str
    ) -> web.StreamResponse:
        scheme, pod_name, port = self._target(name, "pod")
        pod = await self.pods.get(namespace, pod_name)
        ip = (pod.get("status") or {}).get("podIP")
        if not ip:
            raise errors.service_unavailable(f'pod "{pod_name}" has no IP address yet')
        number = self._port(port, name) if port else self._first_container_port(pod)
        endpoint = Endpoint(str(ip), number, scheme or "http")
        what = f'pod "{namespace}/{pod_name}" at {endpoint.authority}'
        return await proxy_http(request, self._url(endpoint, rest, request), what=what)

    async def service_proxy(
        self, request: web.Request, namespace: str, name: str, rest: str
    ) -> web.StreamResponse:
        scheme, svc_name, port = self._target(name, "service")
        if port.isdigit():
            port = self._port_name(await self.services.get(namespace, svc_name), int(port))
        eps = await _get_or_none(self.endpoints, namespace, svc_name)
        endpoint = pick_endpoint(eps or {}, port, scheme or "http")
        if endpoint is None:
            raise errors.service_unavailable(f'no endpoints available for service "{svc_name}"')
        what = f'service "{namespace}/{svc_name}" endpoint {endpoint.authority}'
        return await proxy_http(request, self._url(endpoint, rest, request), what=what)

    @staticmethod
    def _port_name(service: Obj, number: int) -> str:
        for port in (service.get("spec") or {}).get("ports") or []:
            if isinstance(port, dict) and port.get("port") == number:
                return str(port.get("name") or "")
        name = (service.get("metadata") or {}).get("name")
        raise errors.service_unavailable(f'no service port {number} found for service "{name}"')

    @staticmethod
    def _port(text: str, name: str) -> int:
        if text.isdigit() and 0 < int(text) < 65536:
            return int(text)
        raise errors.bad_request(f'invalid port in "{name}": {text}')

    @staticmethod
    def _first_container_port(pod: Obj) -> int:
        for container in (pod.get("spec") or {}).get("containers") or []:
            for port in (container or {}).get("ports") or []:
                number = (port or {}).get("containerPort")
                if isinstance(number, int):
                    return number
        return 80

    @staticmethod
    def _url(endpoint: Endpoint, rest: str, request: web.Request) -> str:
        url = endpoint.url(rest or "/")
        query = request.rel_url.raw_query_string
        return f"{url}?{query}" if query else url


def pick_endpoint(endpoints: Obj, port_name: str, scheme: str) -> Endpoint | None:
    """A random ready address of a subset serving ``port_name``, as upstream picks."""
    subsets = [s for s in endpoints.get("subsets") or [] if isinstance(s, dict)]
    random.shuffle(subsets)
    for subset in subsets:
        addresses = [
            a for a in subset.get("addresses") or [] if isinstance(a, dict) and a.get("ip")
        ]
        if not addresses:
            continue
        for port in subset.get("ports") or []:
            if isinstance(port, dict) and (port.get("name") or "") == port_name:
                number = port.get("port")
                if isinstance(number, int):
                    return Endpoint(str(random.choice(addresses)["ip"]), number, scheme)
    return None
