"""Where objects live in the store, and the opaque continue tokens of paginated lists.

Keys are ``/registry/{group-resource}/{namespace}/{name}`` for namespaced resources and
``/registry/{group-resource}/{name}`` for cluster-scoped ones (``group-resource`` is
``pods`` or ``deployments.apps``). Every resource's keys share one prefix ending in ``/``,
so a prefix watch or range never sees another resource's keys.

A continue token names the revision the first page was read at and the last key (relative
to the resource prefix) already returned; the next page starts after it. Clients treat it
as opaque. Tokens are checked when
decoded: a token for another resource prefix or with a malformed body is a 400.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import orjson

from kybernetes.api import ResourceInfo
from kybernetes.apiserver._errors import APIError, bad_request

REGISTRY_ROOT = "/registry/"


def resource_prefix(info: ResourceInfo) -> str:
    """The prefix under which every object of ``info`` is stored."""
    return f"{REGISTRY_ROOT}{info.group_resource}/"


def collection_prefix(info: ResourceInfo, namespace: str | None) -> str:
    """The prefix of a list: one namespace's objects, or all of them."""
    if info.namespaced and namespace:
        return f"{resource_prefix(info)}{namespace}/"
    return resource_prefix(info)


def object_key(info: ResourceInfo, namespace: str | None, name: str) -> str:
    if info.namespaced:
        if not namespace:
            raise bad_request(f"{info.plural} is namespaced: a namespace is required")
        return f"{resource_prefix(info)}{namespace}/{name}"
    return f"{resource_prefix(info)}{name}"


def split_key(info: ResourceInfo, key: str) -> tuple[str, str]:
    """(namespace, name) of a key under ``resource_prefix(info)``; namespace "" if cluster."""
    rest = key[len(resource_prefix(info)) :]
    if info.namespaced:
        namespace, _, name = rest.partition("/")
        return namespace, name
    return "", rest


@dataclass(frozen=True, slots=True)
class ContinueToken:
    #: The store revision every page of this list is read at.
    revision: int
    #: The last key already returned, relative to the resource prefix (resume after it).
    after: str
    #: How many keys earlier pages have already walked past (for remainingItemCount).
    consumed: int = 0

    def encode(self) -> str:
        body = orjson.dumps({"v": 1, "rv": self.revision, "after": self.after, "n": self.consumed})
        return base64.urlsafe_b64encode(body).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> ContinueToken:
        try:
            padded = token + "=" * (-len(token) % 4)
            body = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
            if not isinstance(body, dict) or body.get("v") != 1:
                raise ValueError("unknown token version")
            revision, after, consumed = body["rv"], body["after"], body.get("n", 0)
            if not isinstance(revision, int) or revision <= 0 or not isinstance(after, str):
                raise ValueError("bad token fields")
            if not isinstance(consumed, int) or consumed < 0:
                raise ValueError("bad token fields")
            if not after or after.startswith("/") or ".." in after.split("/"):
                raise ValueError("bad key")
        except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError) as e:
            raise invalid_continue(str(e)) from None
        return cls(revision=revision, after=after, consumed=consumed)


def invalid_continue(why: str) -> APIError:
    return bad_request(f"continue key is not valid: {why}")
