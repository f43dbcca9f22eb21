"""Proxying a request to a backend (a kubelet, a pod, a service endpoint) and back.

Three ways, all over aiohttp, one client session per proxied request (these requests are
rare and long-lived; a shared pool would buy nothing):

* :func:`stream_text` (``pods/log``): GET the backend and stream its body to the client
  as ``text/plain``, chunked, each piece written as it arrives (``kubectl logs -f``).
* :func:`proxy_websocket` (``exec``, ``attach``, ``portforward``, upgrades through the
  proxy subresources): connect to the backend offering the client's subprotocols, then
  accept the client's upgrade with the one subprotocol the backend picked (kubectl falls
  back to SPDY unless the 101 echoes ``v5.channel.k8s.io``), and copy frames both ways,
  unchanged, until either side closes; the close code is passed on.
* :func:`proxy_http` (``nodes|pods|services/{name}/proxy/...``): any method, body and
  response streamed, hop-by-hop headers and credentials not forwarded.

Failures before anything was sent to the client are Statuses: a backend that cannot be
reached is 503 ``error dialing backend: ...``; a non-2xx answer to a log request becomes
the Status upstream makes of it (400 and 500 carry the backend's text as the message).
A client that goes away ends the backend request too, even while the backend is silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from kybernetes.apiserver import _errors as errors

log = logging.getLogger(__name__)

#: How often a silent stream checks that its client is still there.
LIVENESS_INTERVAL = 5.0
_CONNECT_TIMEOUT = 10.0
#: How much of a backend's error body becomes the Status message.
_MAX_ERROR_BODY = 50_000
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        # Credentials for the API server are not the backend's business.
        "authorization",
        "cookie",
    }
)


def _session() -> aiohttp.ClientSession:
    timeout = aiohttp.ClientTimeout(total=None, connect=_CONNECT_TIMEOUT, sock_read=None)
    # auto_decompress off: bodies pass through as the backend encoded them.
    return aiohttp.ClientSession(timeout=timeout, auto_decompress=False)


def unreachable(what: str, err: BaseException) -> errors.APIError:
    return errors.service_unavailable(f"error dialing backend: {what}: {err or type(err).__name__}")


def backend_error(status: int, body: bytes, resource: str, name: str) -> errors.APIError:
    """The Status upstream makes of a backend's non-2xx answer to a streamed read."""
    text = body[:_MAX_ERROR_BODY].decode(errors="replace").strip()
    if status == 400:
        return errors.bad_request(text)
    if status == 500:
        return errors.internal_error(text)
    reasons = {
        403: "Forbidden",
        404: "NotFound",
        409: "Conflict",
        429: "TooManyRequests",
        503: "ServiceUnavailable",
        504: "Timeout",
    }
    reason = reasons.get(status, "InternalError" if status >= 500 else "BadRequest")
    message = text or f"the backend responded with the status code {status}"
    return errors.APIError(status, reason, message, name=name, kind=resource)


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def _read_chunk(request: web.Request, content: aiohttp.StreamReader) -> bytes:
    """The next piece of a backend body (b"" at its end, or once the client has gone)."""
    while True:
        try:
            return await asyncio.wait_for(content.readany(), LIVENESS_INTERVAL)
        except TimeoutError:
            if _client_gone(request):
                return b""


async def stream_text(
    request: web.Request, url: str, *, what: str, resource: str, name: str
) -> web.StreamResponse:
    """Stream the body of ``GET url`` to the client as text/plain."""
    async with _session() as session:
        try:
            upstream = await session.get(url)
        except (aiohttp.ClientError, OSError, TimeoutError) as e:
            raise unreachable(what, e) from None
        async with upstream:
            if not 200 <= upstream.status <= 206:
                body = await upstream.content.read(_MAX_ERROR_BODY)
                raise backend_error(upstream.status, body, resource, name)
            response = web.StreamResponse(status=200)
            response.content_type = "text/plain"
            response.enable_chunked_encoding()
            await response.prepare(request)
            with contextlib.suppress(ConnectionResetError, aiohttp.ClientPayloadError):
                while chunk := await _read_chunk(request, upstream.content):
                    await response.write(chunk)
                await response.write_eof()
            return response


def requested_protocols(request: web.Request) -> list[str]:
    header = request.headers.get("Sec-WebSocket-Protocol", "")
    return [p.strip() for p in header.split(",") if p.strip()]


def is_websocket(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


async def proxy_websocket(request: web.Request, url: str, *, what: str) -> web.StreamResponse:
    """Accept the client's WebSocket upgrade and relay frames to and from ``url``."""
    async with _session() as session:
        try:
            upstream = await session.ws_connect(
                url,
                protocols=requested_protocols(request),
                autoping=True,
                max_msg_size=0,
                compress=0,
            )
        except aiohttp.WSServerHandshakeError as e:
            raise backend_error(
                e.status or 502, f"the backend refused the stream: {e.message}".encode(), "", ""
            ) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as e:
            raise unreachable(what, e) from None
        async with upstream:
            protocols = (upstream.protocol,) if upstream.protocol else ()
            client = web.WebSocketResponse(
                protocols=protocols, autoping=True, max_msg_size=0, compress=False
            )
            await client.prepare(request)
            await _relay(client, upstream)
            return client


WebSocket = web.WebSocketResponse | aiohttp.ClientWebSocketResponse


async def _copy_frames(source: WebSocket, sink: WebSocket) -> int:
    """Copy data frames until ``source`` closes; returns its close code."""
    async for message in source:
        if message.type == aiohttp.WSMsgType.BINARY:
            await sink.send_bytes(message.data)
        elif message.type == aiohttp.WSMsgType.TEXT:
            await sink.send_str(message.data)
    return _sendable(source.close_code)


def _sendable(code: int | None) -> int:
    """A close code that may go in a close frame: codes that only report a broken
    connection (1005, 1006, 1015) become 1011 (unexpected condition)."""
    if code is None:
        return int(aiohttp.WSCloseCode.OK)
    if code in (1005, 1006, 1015) or code < 1000:
        return int(aiohttp.WSCloseCode.INTERNAL_ERROR)
    return code


async def _relay(client: web.WebSocketResponse, upstream: aiohttp.ClientWebSocketResponse) -> None:
    to_backend = asyncio.create_task(_copy_frames(client, upstream))
    to_client = asyncio.create_task(_copy_frames(upstream, client))
    try:
        done, _ = await asyncio.wait({to_backend, to_client}, return_when=asyncio.FIRST_COMPLETED)
        first = done.pop()
        code: int = aiohttp.WSCloseCode.INTERNAL_ERROR
        if not first.cancelled() and first.exception() is None:
            code = first.result()
        # One side closed: close the other with the same code.
        other = upstream if first is to_backend else client
        with contextlib.suppress(Exception):
            await other.close(code=code)
    finally:
        for task in (to_backend, to_client):
            task.cancel()
        await asyncio.gather(to_backend, to_client, return_exceptions=True)


def forwarded_headers(headers: Mapping[str, str]) -> CIMultiDict[str]:
    out: CIMultiDict[str] = CIMultiDict()
    for key, value in headers.items():
        if key.lower() not in _HOP_BY_HOP and not key.lower().startswith("sec-websocket"):
            out.add(key, value)
    return out


async def proxy_http(request: web.Request, url: str, *, what: str) -> web.StreamResponse:
    """Relay ``request`` to ``url`` and the answer back (WebSocket upgrades included)."""
    if is_websocket(request):
        return await proxy_websocket(
            request, "ws" + url[4:] if url.startswith("http") else url, what=what
        )
    async with _session() as session:
        body = request.content if request.body_exists else None
        try:
            upstream = await session.request(
                request.method,
                url,
                headers=forwarded_headers(request.headers),
                data=body,
                allow_redirects=False,
            )
        except (aiohttp.ClientError, OSError, TimeoutError) as e:
            raise unreachable(what, e) from None
        async with upstream:
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            for key, value in forwarded_headers(upstream.headers).items():
                response.headers.add(key, value)
            await response.prepare(request)
            with contextlib.suppress(ConnectionResetError, aiohttp.ClientPayloadError):
                while chunk := await _read_chunk(request, upstream.content):
                    await response.write(chunk)
                await response.write_eof()
            return response
