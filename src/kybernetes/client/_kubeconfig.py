"""Kubeconfig files: which servers to talk to, how to trust them, who to be.

Theory of operation:

* :func:`load_kubeconfig` reads the file named (or ``$KUBECONFIG``, a ``os.pathsep`` list
  merged as kubectl does: the first file to define a name wins, ``current-context`` comes
  from the first file that sets it; or ``~/.kube/config``) and resolves one context into a
  :class:`ClientConfig`. Relative file paths in a file are relative to that file.
* Supported: ``server``, ``certificate-authority(-data)``, ``insecure-skip-tls-verify``,
  ``tls-server-name``; users with ``client-certificate(-data)`` + ``client-key(-data)``,
  ``token`` / ``tokenFile`` (read once, at load), ``username`` + ``password``; the
  context's ``namespace`` (default ``default``). ``exec`` and ``auth-provider`` users are
  refused with a clear error rather than silently sending no credentials.
* Several servers for one cluster (an HA control plane): list the alternates in a cluster
  extension named ``kybernetes.io/servers``::

      clusters:
      - name: ha
        cluster:
          server: https://10.0.0.1:6443
          extensions:
          - name: kybernetes.io/servers
            extension: {servers: ["https://10.0.0.2:6443", "https://10.0.0.3:6443"]}

  kubectl ignores the extension and keeps using ``server``; kybernetes tries ``server``
  first, then the alternates in order. A comma-separated ``server`` value is accepted too
  (its entries come first), but kubectl cannot read such a file, so prefer the extension.
* Every problem raises :class:`KubeconfigError` naming the file and the entry at fault.
"""

from __future__ import annotations

import base64
import binascii
import os
import pathlib
import ssl
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import yaml

from kybernetes.client._errors import ClientError

SERVERS_EXTENSION = "kybernetes.io/servers"


class KubeconfigError(ClientError):
    """The kubeconfig cannot be used; the message says which file and entry."""


@dataclass(frozen=True)
class ClientConfig:
    """Everything the REST client needs to reach and authenticate to one cluster."""

    #: Base URLs (``https://host:port[/prefix]``), tried in this order.
    servers: tuple[str, ...]
    #: TLS settings for ``https`` servers (None: plain HTTP or the system defaults).
    ssl_context: ssl.SSLContext | None = None
    #: Extra headers on every request (``Authorization``).
    headers: Mapping[str, str] = field(default_factory=dict)
    #: The name to check the server certificate against, if not the URL's host.
    tls_server_name: str | None = None
    #: The namespace of the context (where namespaced requests go by default).
    namespace: str = "default"
    context: str = ""

    def __post_init__(self) -> None:
        if not self.servers:
            raise KubeconfigError("a client configuration needs at least one server")


def default_kubeconfig_paths() -> list[pathlib.Path]:
    env = os.environ.get("KUBECONFIG")
    if env:
        return [pathlib.Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [pathlib.Path("~/.kube/config").expanduser()]


def load_kubeconfig(
    path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    *,
    context: str | None = None,
) -> ClientConfig:
    """The :class:`ClientConfig` of ``context`` (default: the current context)."""
    paths = (
        default_kubeconfig_paths()
        if path is None
        else [pathlib.Path(path)]
        if isinstance(path, str | os.PathLike)
        else [pathlib.Path(p) for p in path]
    )
    docs = [(p, _read(p)) for p in paths if path is not None or p.exists()]
    if not docs:
        raise KubeconfigError(
            "no kubeconfig: none of " + ", ".join(str(p) for p in paths) + " exists"
        )
    return _resolve(docs, context)


def config_from_dict(
    data: Mapping[str, Any],
    *,
    context: str | None = None,
    base_dir: str | os.PathLike[str] = ".",
    source: str = "<kubeconfig>",
) -> ClientConfig:
    """Like :func:`load_kubeconfig` for an already parsed document."""
    _check_doc(source, data)
    return _resolve([(pathlib.Path(base_dir) / source, data)], context, base_dir=base_dir)


def _read(path: pathlib.Path) -> Mapping[str, Any]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise KubeconfigError(f"kubeconfig {path}: no such file") from None
    except OSError as e:
        raise KubeconfigError(f"kubeconfig {path}: cannot read it: {e.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise KubeconfigError(f"kubeconfig {path}: not valid YAML: {e}") from None
    if data is None:
        data = {}
    _check_doc(str(path), data)
    return data  # type: ignore[no-any-return]


def _check_doc(source: str, data: object) -> None:
    if not isinstance(data, Mapping):
        raise KubeconfigError(f"kubeconfig {source}: expected a mapping at the top level")
    for section in ("clusters", "users", "contexts"):
        entries = data.get(section)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise KubeconfigError(f"kubeconfig {source}: {section!r} must be a list")
        for i, entry in enumerate(entries):
            if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
                raise KubeconfigError(f"kubeconfig {source}: {section}[{i}] has no name")


def _named(
    docs: list[tuple[pathlib.Path, Mapping[str, Any]]], section: str, key: str
) -> dict[str, tuple[pathlib.Path, Mapping[str, Any]]]:
    """name -> (file, body), the first file to define a name winning."""
    out: dict[str, tuple[pathlib.Path, Mapping[str, Any]]] = {}
    for path, doc in docs:
        for entry in doc.get(section) or ():
            body = entry.get(key)
            if body is None:
                body = {}
            if not isinstance(body, Mapping):
                raise KubeconfigError(
                    f"kubeconfig {path}: {section} entry {entry['name']!r}: "
                    f"{key!r} must be a mapping"
                )
            out.setdefault(entry["name"], (path, body))
    return out


def _resolve(
    docs: list[tuple[pathlib.Path, Mapping[str, Any]]],
    context: str | None,
    *,
    base_dir: str | os.PathLike[str] | None = None,
) -> ClientConfig:
    where = ", ".join(str(p) for p, _ in docs)
    contexts = _named(docs, "contexts", "context")
    if context is None:
        context = next((d["current-context"] for _, d in docs if d.get("current-context")), None)
        if not context:
            raise KubeconfigError(f"kubeconfig {where}: no current-context is set")
    if context not in contexts:
        known = ", ".join(sorted(contexts)) or "none"
        raise KubeconfigError(f"kubeconfig {where}: context {context!r} not found (known: {known})")
    ctx_file, ctx = contexts[context]
    cluster_name = ctx.get("cluster")
    clusters = _named(docs, "clusters", "cluster")
    if not cluster_name or cluster_name not in clusters:
        raise KubeconfigError(
            f"kubeconfig {ctx_file}: context {context!r} names cluster {cluster_name!r}, "
            "which is not defined"
        )
    cluster_file, cluster = clusters[cluster_name]
    user: Mapping[str, Any] = {}
    user_file = ctx_file
    user_name = ctx.get("user")
    if user_name:
        users = _named(docs, "users", "user")
        if user_name not in users:
            raise KubeconfigError(
                f"kubeconfig {ctx_file}: context {context!r} names user {user_name!r}, "
                "which is not defined"
            )
        user_file, user = users[user_name]

    def base(of: pathlib.Path) -> pathlib.Path:
        return pathlib.Path(base_dir) if base_dir is not None else of.parent

    servers = _servers(cluster_file, str(cluster_name), cluster)
    loc = _Loc(user_file, f"user {user_name!r}", base(user_file))
    headers = _auth_headers(loc, user)
    ssl_context = None
    if any(s.startswith("https://") for s in servers):
        ssl_context = _ssl_context(
            _Loc(cluster_file, f"cluster {cluster_name!r}", base(cluster_file)), cluster, loc, user
        )
    tls_name = cluster.get("tls-server-name")
    return ClientConfig(
        servers=servers,
        ssl_context=ssl_context,
        headers=headers,
        tls_server_name=str(tls_name) if tls_name else None,
        namespace=str(ctx.get("namespace") or "default"),
        context=context,
    )


def _servers(path: pathlib.Path, name: str, cluster: Mapping[str, Any]) -> tuple[str, ...]:
    raw = cluster.get("server")
    if not isinstance(raw, str) or not raw.strip():
        raise KubeconfigError(f"kubeconfig {path}: cluster {name!r} has no server")
    urls = [s.strip() for s in raw.split(",") if s.strip()]
    for ext in cluster.get("extensions") or ():
        if isinstance(ext, Mapping) and ext.get("name") == SERVERS_EXTENSION:
            body = ext.get("extension")
            more = body.get("servers") if isinstance(body, Mapping) else None
            if not isinstance(more, list) or not all(isinstance(s, str) for s in more):
                raise KubeconfigError(
                    f"kubeconfig {path}: cluster {name!r}: extension {SERVERS_EXTENSION} "
                    "must be {servers: [URL, ...]}"
                )
            urls.extend(more)
    out: list[str] = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise KubeconfigError(
                f"kubeconfig {path}: cluster {name!r}: server {url!r} is not an http(s) URL"
            )
        url = url.rstrip("/")
        if url not in out:
            out.append(url)
    return tuple(out)


@dataclass(frozen=True)
class _Loc:
    """Where an entry came from, for error messages and relative paths."""

    file: pathlib.Path
    entry: str
    base: pathlib.Path

    def error(self, message: str) -> KubeconfigError:
        return KubeconfigError(f"kubeconfig {self.file}: {self.entry}: {message}")


def _auth_headers(loc: _Loc, user: Mapping[str, Any]) -> dict[str, str]:
    for unsupported in ("exec", "auth-provider"):
        if user.get(unsupported):
            raise loc.error(f"{unsupported!r} credentials are not supported by kybernetes")
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token = _file_bytes(loc, "tokenFile", str(user["tokenFile"])).decode().strip()
    if token:
        return {"Authorization": f"Bearer {token}"}
    if user.get("username"):
        pair = f"{user['username']}:{user.get('password') or ''}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    return {}


def _file_bytes(loc: _Loc, key: str, name: str) -> bytes:
    path = loc.base / pathlib.Path(name).expanduser()
    try:
        return path.read_bytes()
    except OSError as e:
        raise loc.error(f"{key} {path}: {e.strerror or e}") from None


def _pem(loc: _Loc, entry: Mapping[str, Any], key: str) -> bytes | None:
    """The PEM bytes of ``key-data`` (base64) or of the file ``key``."""
    data = entry.get(f"{key}-data")
    if data:
        try:
            return base64.b64decode(str(data), validate=True)
        except (binascii.Error, ValueError):
            raise loc.error(f"{key}-data is not valid base64") from None
    name = entry.get(key)
    return _file_bytes(loc, key, str(name)) if name else None


def _ssl_context(
    cluster_loc: _Loc, cluster: Mapping[str, Any], user_loc: _Loc, user: Mapping[str, Any]
) -> ssl.SSLContext:
    if cluster.get("insecure-skip-tls-verify"):
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif (ca := _pem(cluster_loc, cluster, "certificate-authority")) is not None:
        # A cluster CA replaces the system's trust store rather than adding to it.
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            ctx.load_verify_locations(cadata=ca.decode("ascii", "replace"))
        except (ssl.SSLError, ValueError) as e:
            raise cluster_loc.error(f"certificate-authority is not usable: {e}") from None
    else:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    cert = _pem(user_loc, user, "client-certificate")
    key = _pem(user_loc, user, "client-key")
    if (cert is None) != (key is None):
        raise user_loc.error("client-certificate and client-key must be given together")
    if cert is not None and key is not None:
        _load_client_cert(user_loc, ctx, cert, key)
    return ctx


def _load_client_cert(loc: _Loc, ctx: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    # ssl only loads certificate chains from files: write them to a private temporary
    # directory for the duration of the call.
    with tempfile.TemporaryDirectory(prefix="kyb-kubeconfig-") as tmp:
        cert_path = pathlib.Path(tmp) / "cert.pem"
        key_path = pathlib.Path(tmp) / "key.pem"
        for path, content in ((cert_path, cert), (key_path, key)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(content)
        try:
            ctx.load_cert_chain(cert_path, key_path)
        except ssl.SSLError as e:
            raise loc.error(f"client certificate and key are not usable: {e}") from None
