"""Store keys per resource, and continue tokens that round-trip and reject garbage."""

from __future__ import annotations

import pytest

from kybernetes.api import REGISTRY
from kybernetes.apiserver._errors import APIError
from kybernetes.apiserver._keys import (
    ContinueToken,
    collection_prefix,
    object_key,
    resource_prefix,
    split_key,
)

PODS = REGISTRY.get("", "v1", "pods")
NODES = REGISTRY.get("", "v1", "nodes")
DEPLOYMENTS = REGISTRY.get("apps", "v1", "deployments")


def test_keys() -> None:
    assert object_key(PODS, "default", "web") == "/registry/pods/default/web"
    assert object_key(NODES, None, "n1") == "/registry/nodes/n1"
    assert object_key(DEPLOYMENTS, "ns", "d") == "/registry/deployments.apps/ns/d"
    assert collection_prefix(PODS, "default") == "/registry/pods/default/"
    assert collection_prefix(PODS, None) == resource_prefix(PODS) == "/registry/pods/"
    assert split_key(PODS, "/registry/pods/ns/a") == ("ns", "a")
    assert split_key(NODES, "/registry/nodes/n1") == ("", "n1")


def test_namespaced_key_needs_a_namespace() -> None:
    with pytest.raises(APIError) as e:
        object_key(PODS, "", "web")
    assert e.value.code == 400


def test_continue_token_round_trip() -> None:
    token = ContinueToken(revision=42, after="default/web-7", consumed=10)
    assert ContinueToken.decode(token.encode()) == token


@pytest.mark.parametrize(
    "text",
    [
        "not base64!!",
        "e30",  # {}
        ContinueToken(1, "x").encode()[:-3],
        "eyJ2IjoxLCJydiI6LTEsImFmdGVyIjoieCJ9",  # negative revision
        "eyJ2IjoxLCJydiI6MSwiYWZ0ZXIiOiIvZXRjIn0",  # absolute key
    ],
)
def test_bad_continue_tokens_are_400(text: str) -> None:
    with pytest.raises(APIError) as e:
        ContinueToken.decode(text)
    assert e.value.code == 400
    assert "continue key is not valid" in e.value.message
