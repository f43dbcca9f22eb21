"""A tiny stand-in for a kubelet's streaming server, for testing the API server's proxy.

The real kubelet arrives with a later issue; until then the proxy logic (pods/log, exec,
nodes/proxy) is tested against this fake, which speaks the upstream kubelet's URLs:

* ``GET /containerLogs/{ns}/{pod}/{container}``: the lines set in :attr:`logs`, honouring
  ``tailLines`` and ``timestamps``; with ``follow`` it then waits until the test calls
  :meth:`release` and sends one more line (so a test can see a follow stream deliver
  before it ends, without timing anything). Unknown pods get 404, as a kubelet answers.
* ``GET /exec/{ns}/{pod}/{container}`` (WebSocket, ``v5.channel.k8s.io`` or
  ``v4.channel.k8s.io``): runs a pretend command: ``echo ARGS`` (stdout), ``warn ARGS``
  (stderr), ``exit N`` (non-zero exit status), ``cat`` (stdin back on stdout until the
  client closes stdin, v5 only).
* ``GET /portForward/{ns}/{pod}?port=P,...`` (WebSocket, ``v4.channel.k8s.io``): each
  port's data channel answers what it receives in upper case.
* ``GET /healthz``: ``ok`` (for the proxy subresources).

It serves on 127.0.0.1 in a thread of its own (own event loop); :meth:`stop` ends it.
Every request's path and query is recorded in :attr:`requests`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from typing import Any

from aiohttp import WSMsgType, web

V5, V4 = "v5.channel.k8s.io", "v4.channel.k8s.io"
STDIN, STDOUT, STDERR, ERROR, CLOSE = 0, 1, 2, 3, 255


class FakeKubelet:
    def __init__(self) -> None:
        self.logs: dict[tuple[str, str, str], list[str]] = {}
        self.requests: list[tuple[str, list[tuple[str, str]]]] = []
        self.port = 0
        self._released = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-kubelet", daemon=True)
        self._error: BaseException | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeKubelet:
        self._thread.start()
        if not self._ready.wait(30) or self._error is not None:
            raise RuntimeError(f"the fake kubelet did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        self._released.set()
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def release(self) -> None:
        """Let following log streams send their last line and end."""
        self._released.set()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as e:
            self._error = e
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        app = web.Application()
        app.router.add_get("/containerLogs/{ns}/{pod}/{container}", self._logs)
        app.router.add_get("/exec/{ns}/{pod}/{container}", self._exec)
        app.router.add_get("/portForward/{ns}/{pod}", self._port_forward)
        app.router.add_get("/healthz", self._healthz)
        runner = web.AppRunner(app, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.create_server(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        try:
            await web.SockSite(runner, sock).start()
            self._ready.set()
            await self._stop.wait()
        finally:
            await runner.cleanup()

    # -- handlers --------------------------------------------------------------------------

    def _record(self, request: web.Request) -> list[tuple[str, str]]:
        query = list(request.query.items())
        self.requests.append((request.path, query))
        return query

    async def _healthz(self, request: web.Request) -> web.Response:
        self._record(request)
        return web.Response(text="ok")

    async def _logs(self, request: web.Request) -> web.StreamResponse:
        query = dict(self._record(request))
        info = request.match_info
        lines = self.logs.get((info["ns"], info["pod"], info["container"]))
        if lines is None:
            return web.Response(status=404, text="pod not found on this node")
        if "tailLines" in query:
            lines = lines[-int(query["tailLines"]) :] if int(query["tailLines"]) else []
        stamp = "2025-01-01T00:00:00Z " if query.get("timestamps") == "true" else ""
        response = web.StreamResponse()
        response.content_type = "text/plain"
        await response.prepare(request)
        await response.write("".join(f"{stamp}{line}\n" for line in lines).encode())
        if query.get("follow") == "true":
            await asyncio.to_thread(self._released.wait, 60)
            await response.write(f"{stamp}released\n".encode())
        await response.write_eof()
        return response

    async def _exec(self, request: web.Request) -> web.WebSocketResponse:
        query = self._record(request)
        command = [v for k, v in query if k == "command"]
        ws = web.WebSocketResponse(protocols=(V5, V4))
        await ws.prepare(request)
        name, args = (command[0], command[1:]) if command else ("", [])
        if name == "echo":
            await ws.send_bytes(bytes([STDOUT]) + (" ".join(args) + "\n").encode())
            await self._status(ws, 0)
        elif name == "warn":
            await ws.send_bytes(bytes([STDERR]) + (" ".join(args) + "\n").encode())
            await self._status(ws, 0)
        elif name == "exit":
            await self._status(ws, int(args[0]))
        elif name == "cat":
            async for message in ws:
                if message.type != WSMsgType.BINARY or not message.data:
                    continue
                data: bytes = message.data
                if data[0] == STDIN:
                    await ws.send_bytes(bytes([STDOUT]) + data[1:])
                elif data[0] == CLOSE and data[1:2] == bytes([STDIN]):
                    break
            await self._status(ws, 0)
        else:
            await ws.send_bytes(bytes([STDERR]) + f"unknown command {command}\n".encode())
            await self._status(ws, 127)
        await ws.close()
        return ws

    async def _port_forward(self, request: web.Request) -> web.WebSocketResponse:
        query = dict(self._record(request))
        ports = [int(p) for p in query.get("port", "").split(",") if p]
        ws = web.WebSocketResponse(protocols=(V4,))
        await ws.prepare(request)
        # Each port's data and error channels open with the port number (little-endian).
        for i, port in enumerate(ports):
            for channel in (2 * i, 2 * i + 1):
                await ws.send_bytes(bytes([channel]) + port.to_bytes(2, "little"))
        async for message in ws:
            if message.type == WSMsgType.BINARY and message.data and message.data[0] % 2 == 0:
                await ws.send_bytes(message.data[:1] + message.data[1:].upper())
        return ws

    @staticmethod
    async def _status(ws: web.WebSocketResponse, code: int) -> None:
        status: dict[str, Any] = {"metadata": {}, "status": "Success"}
        if code:
            status = {
                "metadata": {},
                "status": "Failure",
                "message": f"command terminated with non-zero exit code: exit status {code}",
                "reason": "NonZeroExitCode",
                "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
            }
        await ws.send_bytes(bytes([ERROR]) + json.dumps(status).encode())
