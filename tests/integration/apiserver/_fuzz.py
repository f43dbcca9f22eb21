"""What a response of the API must look like, and sending generated cases to check it.

The half of the schemathesis test that knows HTTP: :func:`send` puts one generated case on
the wire with ``requests`` and records in a :class:`Tally` every response that breaks the
contract (:func:`response_problem`): a 5xx other than the few upstream answers on purpose,
an error body that is not a ``v1 Status`` with the response's code, a success body that is
not the JSON it claims, a watch whose first line is not a watch event, or no answer at all.
"""

from __future__ import annotations

import collections
import json
import re
from dataclasses import dataclass, field
from typing import Any

import requests

#: How long a watch that started (200) may stay silent before we hang up: it is a pass.
WATCH_READ_TIMEOUT = 0.3


@dataclass
class Finding:
    operation: str
    how: str
    status: int
    problem: str
    curl: str


@dataclass
class Tally:
    requests: int = 0
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    findings: list[Finding] = field(default_factory=list)
    unsendable: int = 0


# -- what a response must look like ----------------------------------------------------------


#: Subresources that answer 503 ServiceUnavailable until the component behind them exists
#: (a kubelet for connect, a signing key for tokens).
NOT_AVAILABLE_YET = re.compile(r"/(pods/\{name\}/(log|exec|attach|portforward|proxy)|token)$")


def _allowed_5xx(path: str, status: int, doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    if status == 504 and doc.get("reason") == "Timeout":
        causes = (doc.get("details") or {}).get("causes") or []
        return any(c.get("reason") == "ResourceVersionTooLarge" for c in causes)
    return (
        status == 503
        and NOT_AVAILABLE_YET.search(path) is not None
        and doc.get("reason") == "ServiceUnavailable"
    )


def response_problem(path: str, status: int, content_type: str, raw: bytes) -> str | None:
    """Why a response breaks the contract, or None."""
    doc: Any = None
    if raw:
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = None
    if status >= 500 and not _allowed_5xx(path, status, doc):
        return f"server error: {raw[:300]!r}"
    if status >= 400:
        if not isinstance(doc, dict):
            return f"error body is not a JSON object: {raw[:200]!r}"
        wrong = []
        for key, want in (("kind", "Status"), ("apiVersion", "v1"), ("status", "Failure")):
            if doc.get(key) != want:
                wrong.append(f"{key}={doc.get(key)!r}")
        if doc.get("code") != status:
            wrong.append(f"code={doc.get('code')!r}")
        if not isinstance(doc.get("reason"), str) or not doc.get("reason"):
            wrong.append(f"reason={doc.get('reason')!r}")
        if not isinstance(doc.get("message"), str):
            wrong.append(f"message={doc.get('message')!r}")
        return f"malformed Status ({', '.join(wrong)}): {raw[:200]!r}" if wrong else None
    if 200 <= status < 300 and raw and "json" in content_type and doc is None:
        return f"success body is not JSON: {raw[:200]!r}"
    return None


# -- sending ----------------------------------------------------------------------------------


def _first(value: Any) -> str | None:
    if isinstance(value, list | tuple):
        return _first(value[0]) if value else None
    return None if value is None else str(value)


def _watching(kwargs: dict[str, Any]) -> bool:
    """Whether the server will stream: a /watch/ path or a true-ish ``watch`` parameter."""
    if kwargs.get("method", "").upper() != "GET":
        return False
    if "/watch/" in kwargs.get("url", ""):
        return True
    params = kwargs.get("params") or {}
    value = _first(params.get("watch")) if isinstance(params, dict) else None
    return value is not None and value.strip().lower() in ("", "true", "1")


def send(session: requests.Session, base_url: str, case: Any, how: str, tally: Tally) -> None:
    try:
        kwargs = case.as_transport_kwargs(base_url=base_url)
    except Exception:  # a case requests cannot express (e.g. an unserializable body)
        tally.unsendable += 1
        return
    watching = _watching(kwargs)
    read_timeout = WATCH_READ_TIMEOUT if watching else 30.0
    label = case.operation.label
    try:
        response = session.request(
            **kwargs, stream=True, timeout=(5, read_timeout), allow_redirects=False
        )
    except (UnicodeError, ValueError, requests.exceptions.InvalidURL):
        tally.unsendable += 1  # the client library refuses to put it on the wire
        return
    except requests.exceptions.ReadTimeout:
        if watching:
            tally.requests += 1  # a watch that has said nothing yet, not even its headers
            return
        tally.findings.append(Finding(label, how, 0, "no response in time", _curl(case)))
        return
    except requests.RequestException as e:
        tally.findings.append(Finding(label, how, 0, f"no response: {e!r}", _curl(case)))
        return
    tally.requests += 1
    tally.statuses[response.status_code] += 1
    with response:
        if watching and response.status_code == 200:
            problem = _watch_problem(response)
        else:
            try:
                raw = response.content
            except requests.RequestException as e:
                raw, problem = b"", f"body not received: {e!r}"
            else:
                content_type = response.headers.get("Content-Type", "")
                problem = response_problem(
                    case.operation.path, response.status_code, content_type, raw
                )
    if problem is not None:
        tally.findings.append(Finding(label, how, response.status_code, problem, _curl(case)))


def _watch_problem(response: requests.Response) -> str | None:
    """The first event of a started watch must be a JSON watch event (if any comes soon)."""
    try:
        line = next(response.iter_lines(), b"")
    except requests.RequestException:
        return None  # silent so far: a watch with nothing to say
    if not line:
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return f"watch event is not JSON: {line[:200]!r}"
    if not isinstance(event, dict) or event.get("type") not in (
        "ADDED",
        "MODIFIED",
        "DELETED",
        "BOOKMARK",
        "ERROR",
    ):
        return f"not a watch event: {line[:200]!r}"
    if event["type"] == "ERROR":
        obj = event.get("object") or {}
        if obj.get("kind") != "Status" or not isinstance(obj.get("code"), int):
            return f"watch ERROR event without a Status: {line[:200]!r}"
    return None


def _curl(case: Any) -> str:
    try:
        return str(case.as_curl_command())[:2000]
    except Exception:
        return "(no curl rendering)"
