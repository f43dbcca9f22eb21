"""Open a store backend from its URL."""

from __future__ import annotations

from urllib.parse import urlsplit

from kybernetes.store._protocol import Store


async def open_store(url: str) -> Store:
    """``sqlite://PATH`` (relative or absolute) or ``etcd://HOST:PORT[,HOST:PORT...]``."""
    scheme, _, rest = url.partition("://")
    if scheme == "sqlite":
        from kybernetes.store._sqlite import SqliteStore

        if not rest:
            raise ValueError(f"sqlite datastore needs a path: {url!r}")
        return await SqliteStore.open(rest)
    if scheme in ("etcd", "http"):
        from kybernetes.store._etcd import EtcdStore

        endpoints = []
        for part in rest.split(","):
            hostport = urlsplit("//" + part.strip().rstrip("/"))
            if not hostport.hostname:
                raise ValueError(f"bad etcd endpoint {part!r} in {url!r}")
            endpoints.append((hostport.hostname, hostport.port or 2379))
        return await EtcdStore.open(endpoints)
    raise ValueError(f"unknown datastore {url!r}: use sqlite://PATH or etcd://HOST:PORT,...")
