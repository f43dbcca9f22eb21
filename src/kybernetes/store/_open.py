"""Open a store backend from its URL.

:func:`parse_store_url` checks a URL without touching anything (so a command can refuse a
mistyped ``--datastore`` before it creates directories); :func:`open_store` opens it.
Both raise ValueError with a message fit to show a user as is.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from kybernetes.store._protocol import Store

_USAGE = "use sqlite://PATH or etcd://HOST:PORT[,HOST:PORT...]"


def parse_store_url(url: str) -> tuple[str, str | list[tuple[str, int]]]:
    """``("sqlite", path)`` or ``("etcd", [(host, port), ...])``; ValueError if malformed."""
    scheme, sep, rest = url.partition("://")
    if scheme == "sqlite" and sep:
        if not rest:
            raise ValueError(f"sqlite datastore needs a path: {url!r}")
        return "sqlite", rest
    if scheme in ("etcd", "http") and sep:
        endpoints = []
        for part in rest.split(","):
            hostport = urlsplit("//" + part.strip().rstrip("/"))
            try:
                port = hostport.port
            except ValueError:
                port = -1
            if not hostport.hostname or port == -1:
                raise ValueError(f"bad etcd endpoint {part!r} in {url!r}: {_USAGE}")
            endpoints.append((hostport.hostname, port or 2379))
        return "etcd", endpoints
    raise ValueError(f"unknown datastore {url!r}: {_USAGE}")


async def open_store(url: str) -> Store:
    """``sqlite://PATH`` (relative or absolute) or ``etcd://HOST:PORT[,HOST:PORT...]``."""
    kind, where = parse_store_url(url)
    if kind == "sqlite":
        from kybernetes.store._sqlite import SqliteStore

        assert isinstance(where, str)
        return await SqliteStore.open(where)
    from kybernetes.store._etcd import EtcdStore

    assert isinstance(where, list)
    return await EtcdStore.open(where)
