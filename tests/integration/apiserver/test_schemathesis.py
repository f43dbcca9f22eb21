"""schemathesis against our own ``/openapi/v3``: no 5xx, and every error is a Kubernetes Status.

For each group/version document the server publishes (the same bytes ``kubectl explain``
reads), every operation in it gets generated requests from schemathesis:

* hypothesis cases, valid (positive) and invalid (negative), twice: once aimed at a seeded
  object (path parameters pinned to a real namespace and name, so requests reach update,
  patch, delete and validation) and once with generated paths (parsing of odd paths);
* a sample of schemathesis' coverage cases (each parameter and field with each wrong type,
  unexpected methods, duplicated query parameters).

Every response must be below 500 and every 4xx must be a ``v1 Status`` whose ``code`` is
the HTTP status. The only 5xx we answer on purpose are upstream's own: 504 Timeout with
cause ``ResourceVersionTooLarge`` (a list asking for a revision the store has not reached;
client-go retries on exactly that shape) and 503 ServiceUnavailable from subresources whose
backing component does not exist yet (pods/log, exec, attach, portforward without a
kubelet; serviceaccounts/token without a signing key).

The default run is bounded and derandomized (a few cases per operation; well under a
minute). ``KYB_SCHEMATHESIS_LONG=1`` explores much further (and watch endpoints too)::

    KYB_SCHEMATHESIS_LONG=1 .venv/bin/python -m pytest --timeout 7200 -s \\
        tests/integration/apiserver/test_schemathesis.py

``KYB_SCHEMATHESIS_EXAMPLES`` (hypothesis cases per mode), ``KYB_SCHEMATHESIS_COVERAGE``
(coverage cases per operation) and ``KYB_SCHEMATHESIS_SEED`` (random, reproducible by seed,
instead of derandomized) tune either profile.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from tests.integration.apiserver._seeds import seed_manifest, seed_name, seed_namespace
from tests.integration.apiserver.conftest import Cluster

from kybernetes.api import REGISTRY
from kybernetes.apiserver._openapi import gv_path

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

LONG = os.environ.get("KYB_SCHEMATHESIS_LONG", "") not in ("", "0")
EXAMPLES = int(os.environ.get("KYB_SCHEMATHESIS_EXAMPLES", "10" if LONG else "1"))
COVERAGE = int(os.environ.get("KYB_SCHEMATHESIS_COVERAGE", "100" if LONG else "2"))
_SEED = os.environ.get("KYB_SCHEMATHESIS_SEED", "")
SEED = int(_SEED) if _SEED else None
#: Watch endpoints stream until timeoutSeconds: only the long profile sends to them.
WATCH_PATHS = LONG
#: How long a watch that started (200) may stay silent before we hang up: it is a pass.
WATCH_READ_TIMEOUT = 0.3
#: Coverage cases are produced in field order: scan this many per wanted case and take an
#: even spread, so the sample does not only exercise the first fields of a body.
COVERAGE_SCAN = 3
#: Generating a body costs hypothesis about 0.1 s per definition-rich case (half a second for
#: anything with a pod template). The bounded profile generates bodies only for small schemas
#: (ConfigMap, Secret, Role, patches, DeleteOptions...); larger ones get the seed object as
#: body (query and path still generated) and are body-fuzzed by the coverage cases, which
#: put each wrong type in each field at a fraction of the cost.
HEAVY_BODY = 0 if LONG else 8

GROUP_VERSIONS = [gv_path(g, v) for g, v in REGISTRY.group_versions()]
pytestmark = pytest.mark.timeout(7200 if LONG else 300)


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


# -- generating -------------------------------------------------------------------------------


def explore(strategy: Any, count: int, action: Callable[[Any], None]) -> None:
    """Feed ``count`` examples of ``strategy`` to ``action`` (derandomized unless SEED)."""
    if count <= 0:
        return
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as with_seed
    from hypothesis.errors import Unsatisfiable

    @settings(
        max_examples=count,
        derandomize=SEED is None,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )
    @given(strategy)
    def run(case: Any) -> None:
        action(case)

    if SEED is not None:
        run = with_seed(SEED)(run)
    try:
        run()
    except Unsatisfiable:
        pass  # nothing to generate in this mode (e.g. no parameter can be made invalid)


def body_definitions(document: dict[str, Any], operation: dict[str, Any]) -> int:
    """How many component schemas the operation's request body reaches."""
    schemas = document.get("components", {}).get("schemas", {})
    seen: set[str] = set()
    todo: list[Any] = [operation.get("requestBody")]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in seen:
                    seen.add(name)
                    todo.append(schemas.get(name))
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return len(seen)


def coverage_sample(schema: Any, operation: Any, count: int) -> Iterator[Any]:
    if count <= 0:
        return iter(())
    from schemathesis import GenerationMode

    cases = schema.iter_coverage_cases(
        operation,
        generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        generation_config=schema.config.generation_for(operation=operation),
    )
    scanned = list(itertools.islice(cases, count * COVERAGE_SCAN))
    step = max(len(scanned) // count, 1)
    return iter(scanned[::step][:count])


# -- the objects aimed at ---------------------------------------------------------------------

_PATH = re.compile(r"^/(?:api/[^/]+|apis/[^/]+/[^/]+)/(?:watch/)?(?:namespaces/\{namespace\}/)?")


def plural_of(path: str) -> str:
    """``/api/v1/namespaces/{namespace}/pods/{name}/status`` -> ``pods``."""
    rest = _PATH.sub("", path)
    return rest.split("/", 1)[0]


@dataclass
class Targets:
    """Per resource: the namespace and name of its seed object, created on demand."""

    cluster_url: str
    session: requests.Session
    prefix: str = field(default_factory=lambda: f"fz{uuid.uuid4().hex[:6]}")
    namespaces: set[str] = field(default_factory=set)

    def pinned(self, group: str, version: str, plural: str) -> dict[str, str]:
        info = REGISTRY.get(group, version, plural)
        if info is None:
            return {}
        if plural == "namespaces":
            # Never the namespace other seeds live in: this one may be deleted or finalized.
            return {"name": seed_namespace(self.prefix, "target", "ns")}
        ns = seed_namespace(self.prefix, group, plural) if info.namespaced else ""
        return (
            {"namespace": ns, "name": seed_name(group, plural)}
            if ns
            else {"name": seed_name(group, plural)}
        )

    def ensure(self, group: str, version: str, plural: str) -> None:
        """(Re)create the seed object; it may have been deleted by an earlier case."""
        info = REGISTRY.get(group, version, plural)
        if info is None:
            return
        pinned = self.pinned(group, version, plural)
        if "namespace" in pinned:
            self._create("/api/v1/namespaces", _namespace(pinned["namespace"]))
        manifest = seed_manifest(group, version, info.kind, plural, pinned["name"])
        if manifest is None:
            return
        base = f"/apis/{group}/{version}" if group else f"/api/{version}"
        ns_part = f"/namespaces/{pinned['namespace']}" if "namespace" in pinned else ""
        self._create(f"{base}{ns_part}/{plural}", manifest)

    def _create(self, path: str, body: dict[str, Any]) -> None:
        response = self.session.post(self.cluster_url + path, json=body, timeout=30)
        # 403: the namespace is terminating (a case deleted it); later cases then see 403/404.
        assert response.status_code in (201, 409, 403), (path, response.text)


def _namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


# -- the test ---------------------------------------------------------------------------------

_METHOD_ORDER = {"post": 0, "get": 1, "put": 2, "patch": 3, "delete": 4}


def operations(schema: Any) -> list[Any]:
    ops = [result.ok() for result in schema.get_all_operations()]
    if not WATCH_PATHS:
        ops = [
            op
            for op in ops
            if op.definition.raw.get("x-kubernetes-action") not in ("watch", "watchlist")
        ]
    # Creates and reads before writes and deletes, so fewer cases find their target gone.
    return sorted(ops, key=lambda op: (_METHOD_ORDER.get(op.method.lower(), 5), op.path))


def run_document(cluster: Cluster, gv: str) -> Tally:
    from hypothesis.strategies import one_of
    from schemathesis import GenerationMode

    session = requests.Session()
    raw = session.get(f"{cluster.url}/openapi/v3/{gv}", timeout=30).json()
    schema = schemathesis.openapi.from_dict(raw)
    schema.config.update(base_url=cluster.url)
    targets = Targets(cluster.url, session)
    tally = Tally()
    group, version = _split_gv(gv)
    for index, op in enumerate(operations(schema)):
        plural = plural_of(op.path)
        targets.ensure(group, version, plural)
        names = {p.name for p in op.path_parameters}
        pinned = {k: v for k, v in targets.pinned(group, version, plural).items() if k in names}

        fixed: dict[str, Any] = {}
        if HEAVY_BODY and body_definitions(raw, op.definition.raw) > HEAVY_BODY:
            info = REGISTRY.get(group, version, plural)
            seed = info and seed_manifest(group, version, info.kind, plural, pinned.get("name", ""))
            fixed = {"body": seed or {}, "media_type": "application/json"}

        def hit(case: Any, how: str) -> None:
            send(session, cluster.url, case, how, tally)

        strategies = []
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            how = f"{mode.value} pinned" if pinned else f"{mode.value} free"
            strategy = op.as_strategy(generation_mode=mode, path_parameters=pinned or None, **fixed)
            strategies.append(strategy.map(lambda c, how=how: (c, how)))
            if pinned and mode is GenerationMode.NEGATIVE:
                # Generated paths too: odd names and namespaces must fail cleanly.
                strategy = op.as_strategy(generation_mode=mode, **fixed)
                strategies.append(strategy.map(lambda c: (c, "negative free")))
        if not LONG:
            # Bounded: one kind of case per operation, taking turns along the operations.
            strategies = [strategies[index % len(strategies)]]
        explore(one_of(strategies), EXAMPLES * len(strategies), lambda pair: hit(*pair))
        for case in coverage_sample(schema, op, COVERAGE):
            meta = case.meta
            path_positive = meta is None or all(
                info.mode is GenerationMode.POSITIVE
                for loc, info in meta.components.items()
                if loc.value == "path"
            )
            if pinned and path_positive:
                case.path_parameters.update(pinned)
            hit(case, "coverage")
    return tally


def _split_gv(gv: str) -> tuple[str, str]:
    parts = gv.split("/")
    return ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])


def _report(gv: str, tally: Tally) -> str:
    distinct: dict[tuple[str, int, str], Finding] = {}
    for f in tally.findings:
        distinct.setdefault((f.operation, f.status, f.problem[:80]), f)
    lines = [
        f"{gv}: {len(tally.findings)} bad responses ({len(distinct)} distinct) "
        f"in {tally.requests} requests"
    ]
    for f in itertools.islice(distinct.values(), 25):
        lines.append(f"- {f.operation} [{f.how}] -> {f.status}: {f.problem}\n    {f.curl[:600]}")
    return "\n".join(lines)


def _summary(gv: str, tally: Tally) -> str:
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(tally.statuses.items()))
    return f"{gv}: {tally.requests} requests ({statuses}); unsendable cases: {tally.unsendable}"


@pytest.mark.parametrize("gv", GROUP_VERSIONS)
def test_no_server_errors_and_every_error_is_a_status(cluster: Cluster, gv: str) -> None:
    tally = run_document(cluster, gv)
    print(_summary(gv, tally))
    assert tally.requests > 0
    assert not tally.findings, _report(gv, tally)


def test_every_group_version_is_published(cluster: Cluster) -> None:
    index = requests.get(f"{cluster.url}/openapi/v3", timeout=30).json()
    assert sorted(index["paths"]) == sorted(GROUP_VERSIONS)
