"""The ceiling of bench/apiserver.py: a bare aiohttp + uvloop server answering a pod.

    python bench/_apiserver_ceiling.py PORT

Every GET answers the same served pod's JSON (encoded once), with aiohttp's access log
off: what one Python process on this stack can serve at best, with no API work at all.
Runs until SIGTERM/SIGINT. Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import signal
import sys

import orjson
import uvloop
from aiohttp import web

from _apiserver_pods import served_pod

BODY = orjson.dumps(served_pod("ceiling-0", "bench"))


async def pod(request: web.Request) -> web.Response:
    return web.Response(body=BODY, content_type="application/json")


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def serve(port: int) -> None:
    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/{tail:.*}", pod)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve(int(sys.argv[1])))
