"""schemathesis against our own ``/openapi/v3``: no 5xx, and every error is a Kubernetes Status.

For each group/version document the server publishes (the same bytes ``kubectl explain``
reads), every operation in it gets generated requests from schemathesis:

* hypothesis cases of three kinds: valid (positive) and invalid (negative) ones aimed at a
  seeded object (path parameters pinned to a real namespace and name, so requests get past
  "not found" to update, patch, delete and validation), and invalid ones with generated
  paths (odd names and namespaces);
* a sample of schemathesis' coverage cases (each parameter and field with each wrong type,
  unexpected methods, duplicated query parameters).

Every response must be below 500, and every error response must be a ``v1 Status`` whose
``code`` is the HTTP status. The only 5xx we answer on purpose are upstream's own: 504
Timeout with cause ``ResourceVersionTooLarge`` (a list asking for a revision the store has
not reached; client-go retries on exactly that shape) and 503 ServiceUnavailable from
subresources whose backing component does not exist yet (pods/log, exec, attach,
portforward without a kubelet; serviceaccounts/token without a signing key).

The default run is bounded and derandomized: one hypothesis case per operation (the three
kinds take turns along the operations), two coverage cases, generated bodies only for small
schemas; about half a minute for every document. ``KYB_SCHEMATHESIS_LONG=1`` explores much
further (every kind, generated bodies everywhere, and the watch endpoints too)::

    KYB_SCHEMATHESIS_LONG=1 .venv/bin/python -m pytest --timeout 7200 -s \\
        tests/integration/apiserver/test_schemathesis.py

``KYB_SCHEMATHESIS_EXAMPLES`` (hypothesis cases per kind), ``KYB_SCHEMATHESIS_COVERAGE``
(coverage cases per operation) and ``KYB_SCHEMATHESIS_SEED`` (random, reproducible by seed,
instead of derandomized) tune either profile.
"""

from __future__ import annotations

import itertools
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from tests.integration.apiserver._fuzz import Finding, Tally, send
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
