"""The HTTP core of the client: one request, across servers, within limits.

Theory of operation, for every request:

1. Wait for a token of the client-side rate limit (``qps``/``burst``; off when ``qps`` is
   None), so a hot loop in a controller cannot flood the API server.
2. Send it to the server that answered last. If the connection cannot be made
   (:class:`ConnectError`), try the next server, and so on once around the list; a server
   that answers becomes the one used from then on. A GET whose connection broke or timed
   out after sending is tried elsewhere too; other verbs are not (they may have been
   applied), and the error is raised.
3. A 429 or 503 with a ``Retry-After`` header is retried after that many seconds (at most
   ``max_retries`` times): the server said it did not process the request. Without the
   header (e.g. an eviction a PodDisruptionBudget blocks) it is raised at once.
4. A 2xx body is decoded with orjson; any other status raises the typed
   :class:`APIError` for its Status (see :mod:`._errors`).

``timeout`` is per request attempt (the default, or per call; None waits forever).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any, Final, Self

import orjson

from kybernetes.client._clock import REAL_CLOCK, Clock
from kybernetes.client._errors import (
    ConnectError,
    TransportError,
    error_from_status,
    parse_retry_after,
)
from kybernetes.client._kubeconfig import ClientConfig, load_kubeconfig
from kybernetes.client._paths import QueryValue, query_string
from kybernetes.client._ratelimit import TokenBucket
from kybernetes.client._transport import AiohttpTransport, Request, Response, Transport

log = logging.getLogger("kyb.client")


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


#: "Use the client's default timeout" (None means no timeout at all).
DEFAULT: Final = _Default()
Timeout = float | None | _Default

#: The longest Retry-After we honour; beyond, waiting is the caller's decision.
_MAX_RETRY_AFTER = 60.0


class HTTPClient:
    def __init__(
        self,
        config: ClientConfig | str | Sequence[str],
        *,
        transport: Transport | None = None,
        timeout: float | None = 30.0,
        qps: float | None = 50.0,
        burst: int = 100,
        max_retries: int = 5,
        user_agent: str = "kybernetes",
        clock: Clock = REAL_CLOCK,
    ) -> None:
        if isinstance(config, str):
            config = ClientConfig(servers=(config.rstrip("/"),))
        elif not isinstance(config, ClientConfig):
            config = ClientConfig(servers=tuple(s.rstrip("/") for s in config))
        self.config = config
        self._servers = config.servers
        self._active = 0
        self._transport: Transport = transport or AiohttpTransport(
            ssl_context=config.ssl_context, server_hostname=config.tls_server_name
        )
        self.timeout = timeout
        self._bucket = TokenBucket(qps, burst, clock=clock) if qps else None
        self.max_retries = max_retries
        self._clock = clock
        self._headers = {
            "Accept": "application/json",
            "User-Agent": user_agent,
            **config.headers,
        }

    @classmethod
    def from_kubeconfig(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        context: str | None = None,
        **options: Any,
    ) -> Self:
        """A client for ``context`` of the kubeconfig at ``path`` (default: kubectl's)."""
        return cls(load_kubeconfig(path, context=context), **options)

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def namespace(self) -> str:
        """The kubeconfig context's namespace."""
        return self.config.namespace

    @property
    def servers(self) -> tuple[str, ...]:
        return self._servers

    @property
    def active_server(self) -> str:
        """The server requests go to first (the last one that answered)."""
        return self._servers[self._active]

    async def close(self) -> None:
        await self._transport.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, QueryValue | list[str]] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        timeout: Timeout = DEFAULT,  # noqa: ASYNC109 (per-request budget)
    ) -> Any:
        """Send one request; the decoded JSON answer, or a typed error."""
        data = None if body is None else body if isinstance(body, bytes) else orjson.dumps(body)
        response = await self._send(
            method, path + query_string(query or {}), data, content_type, timeout, stream=False
        )
        raw = await response.read()
        if 200 <= response.status < 300:
            return orjson.loads(raw) if raw else {}
        raise error_from_status(response.status, raw, response.headers)

    async def stream(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, QueryValue | list[str]] | None = None,
        timeout: Timeout = DEFAULT,  # noqa: ASYNC109 (per-request budget)
        read_timeout: float | None = None,
    ) -> Response:
        """Open a streamed answer (2xx only; errors raise). The caller must close it."""
        response = await self._send(
            method,
            path + query_string(query or {}),
            None,
            "application/json",
            timeout,
            stream=True,
            read_timeout=read_timeout,
        )
        if 200 <= response.status < 300:
            return response
        try:
            raw = await response.read()
        finally:
            await response.close()
        raise error_from_status(response.status, raw, response.headers)

    async def _send(
        self,
        method: str,
        target: str,
        body: bytes | None,
        content_type: str,
        timeout: Timeout,  # noqa: ASYNC109 (per-request budget)
        *,
        stream: bool,
        read_timeout: float | None = None,
    ) -> Response:
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = content_type
        seconds = self.timeout if isinstance(timeout, _Default) else timeout
        retries = 0
        while True:
            if self._bucket is not None:
                await self._bucket.acquire()
            response = await self._send_failover(
                method, target, headers, body, seconds, stream, read_timeout
            )
            if response.status in (429, 503) and retries < self.max_retries:
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                if retry_after is not None:
                    await response.close()
                    retries += 1
                    delay = min(retry_after, _MAX_RETRY_AFTER)
                    log.info(
                        "%s %s: server answered %d, retrying in %.1fs (%d/%d)",
                        method,
                        target,
                        response.status,
                        delay,
                        retries,
                        self.max_retries,
                    )
                    await self._clock.sleep(delay)
                    continue
            return response

    async def _send_failover(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float | None,  # noqa: ASYNC109 (per-request budget)
        stream: bool,
        read_timeout: float | None,
    ) -> Response:
        first = self._active
        count = len(self._servers)
        last_error: TransportError | None = None
        for step in range(count):
            index = (first + step) % count
            server = self._servers[index]
            request = Request(method, server + target, headers, body, timeout, stream, read_timeout)
            try:
                response = await self._transport.send(request)
            except ConnectError as e:
                last_error = e
            except TransportError as e:
                if method != "GET":
                    raise
                last_error = e
            else:
                if index != self._active:
                    log.info("API server %s answered; using it from now on", server)
                    self._active = index
                return response
            if count > 1:
                log.warning("API server %s failed (%s); trying the next one", server, last_error)
        assert last_error is not None
        raise last_error
