"""The transport seam: how one HTTP request leaves the client.

Theory of operation: :class:`~kybernetes.client.RESTClient` builds a :class:`Request` (an
absolute URL, headers, a body in bytes) and hands it to a :class:`Transport`, which returns
a :class:`Response` or raises a :class:`~kybernetes.client.TransportError`. Everything
Kubernetes-specific (paths, Status errors, retries, failover, rate limits) stays in the
client, so tests plug in a fake transport and an all-in-one process may plug in one that
never opens a socket.

A transport promises:

* :class:`~kybernetes.client.ConnectError` only when the request was certainly not sent;
  :class:`~kybernetes.client.RequestTimeout` when ``timeout`` passed; any other failure
  without an answer as :class:`~kybernetes.client.TransportError`.
* Without ``stream``, the whole body is read within ``timeout`` and the response holds no
  connection. With ``stream``, ``timeout`` covers only the wait for the status line and
  headers, and ``read_timeout`` bounds each silence between chunks; the caller reads with
  :meth:`Response.iter_chunks` and must :meth:`Response.close`.
* Header names in :attr:`Response.headers` are lower-case.

:class:`AiohttpTransport` is the real one: one pooled aiohttp session, created lazily on
the running loop.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp

from kybernetes.client._errors import ConnectError, RequestTimeout, TransportError


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    timeout: float | None = None
    stream: bool = False
    #: With ``stream``: the longest silence between chunks before the read fails.
    read_timeout: float | None = None


class Response(Protocol):
    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    async def read(self) -> bytes:
        """The whole (remaining) body."""
        ...

    def iter_chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, in chunks of any size."""
        ...

    async def close(self) -> None: ...


class Transport(Protocol):
    async def send(self, request: Request) -> Response: ...

    async def close(self) -> None: ...


class BufferedResponse:
    """A response whose body is already in memory."""

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self._status = status
        self._headers = {k.lower(): v for k, v in headers.items()}
        self.body = body

    @property
    def status(self) -> int:
        return self._status

    @property
    def headers(self) -> Mapping[str, str]:
        return self._headers

    async def read(self) -> bytes:
        return self.body

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        if self.body:
            yield self.body

    async def close(self) -> None:
        pass


class _StreamingResponse:
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self._headers = {k.lower(): v for k, v in response.headers.items()}

    @property
    def status(self) -> int:
        return self._response.status

    @property
    def headers(self) -> Mapping[str, str]:
        return self._headers

    async def read(self) -> bytes:
        try:
            return await self._response.read()
        except (TimeoutError, aiohttp.ClientError) as e:
            raise _translate(e) from e

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except (TimeoutError, aiohttp.ClientError) as e:
            raise _translate(e) from e

    async def close(self) -> None:
        self._response.release()


def _translate(e: BaseException) -> TransportError:
    if isinstance(e, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return RequestTimeout(f"timed out: {e}")
    if isinstance(e, aiohttp.ClientConnectorError):
        return ConnectError(str(e))
    return TransportError(f"{type(e).__name__}: {e}")


class AiohttpTransport:
    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        limit: int = 100,
    ) -> None:
        self._ssl = ssl_context
        self._server_hostname = server_hostname
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._limit, ssl=self._ssl if self._ssl is not None else True
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                # Bodies are JSON bytes we encode ourselves; no automatic decompression
                # of anything but what aiohttp handles transparently.
                auto_decompress=True,
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def send(self, request: Request) -> Response:
        session = self._get_session()
        if request.stream:
            # Only the wait for headers is bounded; a watch may stay idle for minutes.
            timeout = aiohttp.ClientTimeout(
                total=None,
                connect=request.timeout,
                sock_connect=request.timeout,
                sock_read=request.read_timeout,
            )
        else:
            timeout = aiohttp.ClientTimeout(total=request.timeout)
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
            # cancellation that races with the answer, leaving a watch running for ever.
            async with asyncio.timeout(request.timeout):
                response = await session.request(
                    request.method,
                    request.url,
                    headers=dict(request.headers),
                    data=request.body,
                    timeout=timeout,
                    allow_redirects=False,
                    server_hostname=self._server_hostname,
                )
        except (TimeoutError, aiohttp.ClientError) as e:
            raise _translate(e) from e
        if request.stream:
            return _StreamingResponse(response)
        try:
            body = await response.read()
        except (TimeoutError, aiohttp.ClientError) as e:
            raise _translate(e) from e
        finally:
            response.release()
        return BufferedResponse(response.status, dict(response.headers), body)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
