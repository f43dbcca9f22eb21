"""wrk, the load generator of bench/apiserver.py: Lua scripts and one run's figures.

wrk (C, one thread here) keeps ``connections`` requests in flight, one per connection,
for ``duration`` seconds. Each script ends with a ``done`` hook that prints one line
``WRKJSON {...}``: requests, duration, non-2xx answers, socket errors and latency
percentiles (microseconds) of every request of the run. Scripts:

* :func:`create_script`: POST of one static pod with ``generateName`` (wrk formats the
  request once: the cheapest load wrk can make);
* :func:`get_script`: GET of ``count`` named objects, round robin (requests formatted once
  in ``init``);
* :func:`update_script`: PUT of given pods as the server served them (a client's
  read-modify-write), round robin, each with a new label value so every update is a real
  write.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from _apiserver_pods import pod

WRK = shutil.which("wrk") or "/usr/bin/wrk"

_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def create_script(namespace: str) -> str:
    body = orjson.dumps(pod(namespace, generate_name="bench-")).decode()
    return (
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        'wrk.headers["Accept"] = "application/json"\n'
        f"wrk.body = {_lua_string(body)}\n" + _DONE
    )


def get_script(path_prefix: str, count: int) -> str:
    return (
        f"local prefix = {_lua_string(path_prefix)}\n"
        f"local count = {count}\n"
        "local reqs = {}\n"
        "local n = 0\n"
        "init = function(args)\n"
        '  local headers = {["Accept"] = "application/json"}\n'
        "  for i = 0, count - 1 do\n"
        '    reqs[i + 1] = wrk.format("GET", prefix .. string.format("%06d", i), headers)\n'
        "  end\n"
        "end\n"
        "request = function()\n"
        "  n = n % count + 1\n"
        "  return reqs[n]\n"
        "end\n" + _DONE
    )


def update_script(path_prefix: str, objects: list[dict[str, Any]], start: int) -> str:
    """PUTs of ``objects`` (as served, e.g. listed), round robin, unconditional (no
    resourceVersion), each with label ``n`` set to a new value (counting from ``start``)."""
    rows = []
    for obj in objects:
        body = {**obj, "metadata": {**obj["metadata"]}}
        meta = body["metadata"]
        meta.pop("resourceVersion", None)
        meta["labels"] = {**(meta.get("labels") or {}), "n": "@SEQ@"}
        before, after = orjson.dumps(body).decode().split('"@SEQ@"')
        rows.append(
            f"{{{_lua_string(meta['name'])}, {_lua_string(before + chr(34))}, "
            f"{_lua_string(chr(34) + after)}}}"
        )
    return (
        f"local prefix = {_lua_string(path_prefix)}\n"
        "local pods = {\n" + ",\n".join(rows) + "\n}\n"
        f"local n = {start}\n"
        "local i = 0\n"
        'local headers = {["Content-Type"] = "application/json", '
        '["Accept"] = "application/json"}\n'
        "request = function()\n"
        "  n = n + 1\n"
        "  i = i % #pods + 1\n"
        "  local p = pods[i]\n"
        '  return wrk.format("PUT", prefix .. p[1], headers, p[2] .. tostring(n) .. p[3])\n'
        "end\n" + _DONE
    )


def plain_script() -> str:
    """GET of the URL itself with an Accept header (lists)."""
    return 'wrk.headers["Accept"] = "application/json"\n' + _DONE


@dataclass(frozen=True)
class WrkRun:
    requests: int
    duration_s: float
    non2xx: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.duration_s


def _script_file(script: str) -> Path:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        return Path(f.name)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


async def run_wrk(
    url: str, script: str, *, connections: int, duration: float, request_timeout: float = 10.0
) -> WrkRun:
    """One wrk run (one thread) against ``url``; raises if wrk fails."""
    path = _script_file(script)
    try:
        proc = await asyncio.create_subprocess_exec(
            WRK,
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            f"--timeout={request_timeout:g}s",
            "-s",
            str(path),
            url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
    finally:
        _remove(path)
    for line in out.decode(errors="replace").splitlines():
        if line.startswith("WRKJSON "):
            d = json.loads(line[len("WRKJSON ") :])
            return WrkRun(
                requests=d["requests"],
                duration_s=d["duration_us"] / 1e6,
                non2xx=d["non2xx"],
                socket_errors=d["socket_errors"],
                p50_ms=d["p50_us"] / 1000,
                p90_ms=d["p90_us"] / 1000,
                p99_ms=d["p99_us"] / 1000,
                max_ms=d["max_us"] / 1000,
            )
    raise RuntimeError(f"wrk failed ({proc.returncode}): {out.decode()}\n{err.decode()}")
