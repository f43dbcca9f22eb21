"""The bad requests of ``test_bad_input``, as tables: what is sent and the Status expected.

Paths are templates: ``{obj}`` is the stored ConfigMap, ``{coll}`` its collection and
``{ns}`` the test's namespace. Each row is (id, ..., code, reason, a fragment of the message).
"""

from __future__ import annotations

import json

JSON = "application/json"
YAML = "application/yaml"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
LIMIT = 3 * 1024 * 1024


def nested(depth: int) -> bytes:
    return b'{"metadata":{"name":"cm"},"data":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"


# One manifest per wrong shape; "{obj}" / "{coll}" stand for the object and collection path.
BODIES: list[tuple[str, str, str, bytes, str, int, str, str]] = [
    ("malformed json", "PUT", "{obj}", b"{not json", JSON, 400, "BadRequest", "json parse"),
    ("malformed yaml", "PUT", "{obj}", b"kind: [Con\nx: y", YAML, 400, "BadRequest", "yaml"),
    ("json array", "POST", "{coll}", b"[1, 2]", JSON, 400, "BadRequest", "not a JSON object"),
    ("json string", "POST", "{coll}", b'"cm"', JSON, 400, "BadRequest", "not a JSON object"),
    ("json number", "PUT", "{obj}", b"42", JSON, 400, "BadRequest", "not a JSON object"),
    ("json null", "PUT", "{obj}", b"null", JSON, 400, "BadRequest", "not a JSON object"),
    ("yaml scalar", "PUT", "{obj}", b"just text", YAML, 400, "BadRequest", "not a JSON object"),
    ("empty body", "PUT", "{obj}", b"", JSON, 400, "BadRequest", "empty"),
    (
        "wrong kind",
        "PUT",
        "{obj}",
        b'{"apiVersion":"v1","kind":"Secret","metadata":{"name":"cm"}}',
        JSON,
        400,
        "BadRequest",
        "does not match the kind",
    ),
    (
        "wrong apiVersion",
        "PUT",
        "{obj}",
        b'{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"cm"}}',
        JSON,
        400,
        "BadRequest",
        "does not match the expected API version",
    ),
    (
        "a pod posted to configmaps",
        "POST",
        "{coll}",
        b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}',
        JSON,
        400,
        "BadRequest",
        "does not match",
    ),
    (
        "name mismatch",
        "PUT",
        "{obj}",
        b'{"metadata":{"name":"other"},"data":{"k":"changed"}}',
        JSON,
        400,
        "BadRequest",
        "the name of the object (other) does not match the name on the URL (cm)",
    ),
    (
        "namespace mismatch",
        "PUT",
        "{obj}",
        b'{"metadata":{"name":"cm","namespace":"elsewhere"},"data":{"k":"changed"}}',
        JSON,
        400,
        "BadRequest",
        "namespace of the provided object does not match",
    ),
    (
        "metadata is not an object",
        "PUT",
        "{obj}",
        b'{"metadata":5,"data":{"k":"changed"}}',
        JSON,
        422,
        "Invalid",
        "metadata",
    ),
    (
        "a field of the wrong type",
        "PUT",
        "{obj}",
        b'{"metadata":{"name":"cm"},"data":{"k":1}}',
        JSON,
        422,
        "Invalid",
        "data.k",
    ),
    (
        "protobuf",
        "PUT",
        "{obj}",
        b"k8s\x00",
        "application/vnd.kubernetes.protobuf",
        415,
        "UnsupportedMediaType",
        "",
    ),
    (
        "3 MiB + 1",
        "PUT",
        "{obj}",
        b" " * (LIMIT + 1),
        JSON,
        413,
        "RequestEntityTooLarge",
        "3145728",
    ),
    ("json 10,000 deep", "PUT", "{obj}", nested(10_000), JSON, 400, "BadRequest", "depth"),
    ("json 150 deep", "PUT", "{obj}", nested(150), JSON, 400, "BadRequest", "levels deep"),
    (
        "yaml 10,000 deep",
        "PUT",
        "{obj}",
        b"metadata: {name: cm}\ndata: " + b"[" * 10_000 + b"]" * 10_000,
        YAML,
        400,
        "BadRequest",
        "levels deep",
    ),
    (
        "invalid utf-8 json",
        "PUT",
        "{obj}",
        b'{"metadata":{"name":"cm"},"data":{"k":"\xff\xfe"}}',
        JSON,
        400,
        "BadRequest",
        "UTF-8",
    ),
    (
        "invalid utf-8 yaml",
        "PUT",
        "{obj}",
        b"metadata:\n  name: cm\ndata:\n  k: \xff\xfe\n",
        YAML,
        400,
        "BadRequest",
        "yaml",
    ),
    (
        "many invalid labels",
        "PUT",
        "{obj}",
        json.dumps(
            {"metadata": {"name": "cm", "labels": {f"bad key {i}": "v" for i in range(2000)}}}
        ).encode(),
        JSON,
        422,
        "Invalid",
        "metadata.labels",
    ),
    (
        "labels beyond the body limit",
        "PUT",
        "{obj}",
        json.dumps(
            {"metadata": {"name": "cm", "labels": {f"k{i}": "v" * 40 for i in range(70_000)}}}
        ).encode(),
        JSON,
        413,
        "RequestEntityTooLarge",
        "",
    ),
]

ALIAS_BOMB = "\n".join(
    ["metadata: {name: cm}", 'a: &a ["x","x","x","x","x","x","x","x","x"]']
    + [
        f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]"
        for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
    ]
).encode()

PATCHES: list[tuple[str, str, bytes, int, str, str]] = [
    ("json patch as object", JSON_PATCH, b"{}", 400, "BadRequest", "jsonpatch.Patch"),
    ("json patch as string", JSON_PATCH, b'"x"', 400, "BadRequest", ""),
    ("json patch item not an object", JSON_PATCH, b"[1]", 400, "BadRequest", ""),
    ("json patch unknown op", JSON_PATCH, b'[{"op":"frob","path":"/x"}]', 422, "Invalid", "frob"),
    ("merge patch as array", MERGE, b"[]", 400, "BadRequest", "not a JSON object"),
    ("strategic patch as string", STRATEGIC, b'"x"', 400, "BadRequest", "not a JSON object"),
    ("strategic patch as number", STRATEGIC, b"12", 400, "BadRequest", "not a JSON object"),
    ("merge patch malformed", MERGE, b"{", 400, "BadRequest", "error decoding patch"),
    ("merge patch 10,000 deep", MERGE, nested(10_000), 400, "BadRequest", "depth"),
    ("merge patch 150 deep", MERGE, nested(150), 400, "BadRequest", "levels deep"),
    ("patch as application/json", JSON, b"{}", 415, "UnsupportedMediaType", ""),
    (
        "patch renames the object",
        MERGE,
        b'{"metadata":{"name":"other"}}',
        400,
        "BadRequest",
        "does not match the name on the URL",
    ),
    ("patch changes the kind", MERGE, b'{"kind":"Secret"}', 400, "BadRequest", "kind"),
    ("patch sets a wrong type", MERGE, b'{"data":{"k":1}}', 422, "Invalid", "data.k"),
    ("patch makes metadata a string", MERGE, b'{"metadata":"x"}', 422, "Invalid", "metadata"),
    ("apply an array", APPLY, b"[]", 400, "BadRequest", "not a YAML or JSON object"),
    (
        "apply another kind",
        APPLY,
        b'{"apiVersion":"v1","kind":"Secret","metadata":{"name":"cm"}}',
        400,
        "BadRequest",
        "Secret",
    ),
    (
        "apply with another name",
        APPLY,
        b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"zz"}}',
        400,
        "BadRequest",
        "does not match the name",
    ),
    (
        "apply 200,000-deep flow yaml",
        APPLY,
        b"apiVersion: v1\nkind: ConfigMap\ndata: " + b"[" * 200_000 + b"]" * 200_000,
        400,
        "BadRequest",
        "levels deep",
    ),
    ("apply an alias bomb", APPLY, ALIAS_BOMB, 400, "BadRequest", "excessive aliasing"),
]

BIG = str(2**70)
QUERIES: list[tuple[str, str, str, int, str, str]] = [
    ("GET", "{coll}", "labelSelector=a%20in%20(b", 400, "BadRequest", "unable to parse"),
    ("GET", "{coll}", "labelSelector=!!", 400, "BadRequest", "unable to parse"),
    ("GET", "{coll}", "fieldSelector=spec.foo%3Dx", 400, "BadRequest", "not a known field"),
    ("GET", "{coll}", "fieldSelector=metadata.name%3D%3Da%3Db", 400, "BadRequest", "field"),
    ("GET", "{coll}", "resourceVersion=abc", 400, "BadRequest", "invalid resource version"),
    ("GET", "{coll}", "resourceVersion=-1", 400, "BadRequest", "invalid resource version"),
    ("GET", "{coll}", f"resourceVersion={BIG}", 400, "BadRequest", "invalid resource version"),
    ("GET", "{obj}", "resourceVersion=abc", 400, "BadRequest", "invalid resource version"),
    ("GET", "{coll}", "watch=true&resourceVersion=x1", 400, "BadRequest", "resource version"),
    ("GET", "{coll}", "resourceVersion=1&resourceVersionMatch=Bogus", 422, "Invalid", "Bogus"),
    ("GET", "{coll}", "limit=abc", 400, "BadRequest", "limit"),
    ("GET", "{coll}", "limit=1e3", 400, "BadRequest", "limit"),
    ("GET", "{coll}", f"limit={BIG}", 400, "BadRequest", "out of range"),
    ("GET", "{coll}", "timeoutSeconds=abc", 400, "BadRequest", "timeoutSeconds"),
    ("GET", "{coll}", f"timeoutSeconds={BIG}", 400, "BadRequest", "out of range"),
    ("GET", "{coll}", "limit=1&continue=garbage", 400, "BadRequest", "continue"),
    ("GET", "{coll}", "watch=maybe", 400, "BadRequest", "watch"),
    ("DELETE", "{obj}", "gracePeriodSeconds=abc", 400, "BadRequest", "gracePeriodSeconds"),
    ("DELETE", "{obj}", "gracePeriodSeconds=1.5", 400, "BadRequest", "gracePeriodSeconds"),
    ("DELETE", "{obj}", f"gracePeriodSeconds={BIG}", 400, "BadRequest", "out of range"),
    ("DELETE", "{obj}", "propagationPolicy=Sideways", 422, "Invalid", "Sideways"),
    ("DELETE", "{obj}", "orphanDependents=true&propagationPolicy=Orphan", 422, "Invalid", ""),
    ("DELETE", "{obj}", "orphanDependents=maybe", 400, "BadRequest", "orphanDependents"),
    ("DELETE", "{obj}", "dryRun=Bogus", 400, "BadRequest", "dryRun"),
    ("DELETE", "{coll}", "labelSelector=a%20in%20(b", 400, "BadRequest", "unable to parse"),
    ("DELETE", "{coll}", "gracePeriodSeconds=abc", 400, "BadRequest", "gracePeriodSeconds"),
    ("PUT", "{obj}", "fieldValidation=Bogus", 400, "BadRequest", "fieldValidation"),
    ("PUT", "{obj}", "dryRun=Bogus", 400, "BadRequest", "dryRun"),
    ("PUT", "{obj}", "fieldManager=" + "m" * 200, 422, "Invalid", "fieldManager"),
]

DELETE_BODIES: list[tuple[str, bytes, int, str, str]] = [
    ("an array", b"[]", 400, "BadRequest", "DeleteOptions"),
    ("another kind", b'{"kind":"Pod"}', 400, "BadRequest", "DeleteOptions"),
    ("malformed", b"{oops", 400, "BadRequest", "json parse"),
    ("grace as a string", b'{"gracePeriodSeconds":"x"}', 400, "BadRequest", "gracePeriodSeconds"),
    ("policy as a number", b'{"propagationPolicy":5}', 400, "BadRequest", "propagationPolicy"),
    ("precondition uid as a number", b'{"preconditions":{"uid":5}}', 400, "BadRequest", "uid"),
    ("another uid", b'{"preconditions":{"uid":"nope"}}', 409, "Conflict", "Precondition failed"),
    ("a stale version", b'{"preconditions":{"resourceVersion":"1"}}', 409, "Conflict", ""),
]

PATHS: list[tuple[str, str, int, str]] = [
    ("GET", "/api/v1/foos", 404, "NotFound"),
    ("GET", "/api/v1/namespaces/{ns}/foos", 404, "NotFound"),
    ("GET", "/apis/nope.example.com/v1/things", 404, "NotFound"),
    ("GET", "/apis/apps/v9/deployments", 404, "NotFound"),
    ("GET", "/api/v2/pods", 404, "NotFound"),
    ("GET", "{obj}/bogus", 404, "NotFound"),
    ("GET", "/api/v1/namespaces/a%0Ab/configmaps", 404, "NotFound"),
    ("PUT", "{obj}%0A", 404, "NotFound"),
    ("GET", "/nothing/at/all", 404, "NotFound"),
    ("PUT", "{coll}", 405, "MethodNotAllowed"),
    ("PATCH", "{coll}", 405, "MethodNotAllowed"),
    ("POST", "{obj}", 405, "MethodNotAllowed"),
    ("DELETE", "/api/v1/namespaces", 405, "MethodNotAllowed"),
    ("TRACE", "{obj}", 405, "MethodNotAllowed"),
    ("PUT", "/api/v1/watch/namespaces/{ns}/configmaps/cm", 405, "MethodNotAllowed"),
    ("DELETE", "/api/v1/watch/namespaces/{ns}/configmaps", 405, "MethodNotAllowed"),
]
