"""Kubeconfig loading: servers (and alternates), TLS material, credentials, clear errors."""

from __future__ import annotations

import base64
import pathlib
import ssl
from typing import Any

import pytest
import yaml

from kybernetes.client import (
    SERVERS_EXTENSION,
    KubeconfigError,
    config_from_dict,
    load_kubeconfig,
)

# A throw-away self-signed EC certificate and key (CN=kyb-test), for loading only.
CERT = """-----BEGIN CERTIFICATE-----
MIIBfTCCASOgAwIBAgIUMmvZacx9YUmf7jV8AXltzEpkGAwwCgYIKoZIzj0EAwIw
EzERMA8GA1UEAwwIa3liLXRlc3QwIBcNMjYxMTIyMDM1MTQwWhgPMjEyNjEwMjkw
MzUxNDBaMBMxETAPBgNVBAMMCGt5Yi10ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAEYPK46FVGwzS2VKt4IF72k0SDj3AeTN7nnOQQ7Mmm+PMLcnfHVn4QRUP/
DcYlnHMix7ogvFKFyNn76hiff0p42aNTMFEwHQYDVR0OBBYEFDO9t4z0ip65CkKk
XwZoD9G2/ekpMB8GA1UdIwQYMBaAFDO9t4z0ip65CkKkXwZoD9G2/ekpMA8GA1Ud
EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgL+NJUBc+v+XmQS6eOIc5l+HS
YikMS5oJOsUrxfuVnkQCIQCKrSdERP6F+o2f4HWljKZY8OmpjeVLPBHclKJhLQFJ
uw==
-----END CERTIFICATE-----
"""
KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgxoxRwr6u8tyVU3pz
iQRs69jsJhKpizj1pKPdN7Wlun2hRANCAARg8rjoVUbDNLZUq3ggXvaTRIOPcB5M
3uec5BDsyab48wtyd8dWfhBFQ/8NxiWccyLHuiC8UoXI2fvqGJ9/SnjZ
-----END PRIVATE KEY-----
"""


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def doc(cluster: dict[str, Any], user: dict[str, Any] | None = None, **ctx: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": "u", "user": user or {}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u", **ctx}}],
        "current-context": "ctx",
    }


def write(tmp_path: pathlib.Path, data: Any, name: str = "config") -> pathlib.Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_admin_kubeconfig_shape(tmp_path: pathlib.Path) -> None:
    # What `kyb apiserver` writes: plain HTTP, a user without credentials.
    cfg = load_kubeconfig(write(tmp_path, doc({"server": "http://127.0.0.1:6443"})))
    assert cfg.servers == ("http://127.0.0.1:6443",)
    assert cfg.ssl_context is None
    assert dict(cfg.headers) == {}
    assert cfg.namespace == "default"
    assert cfg.context == "ctx"


def test_alternate_servers_from_extension_and_comma_list(tmp_path: pathlib.Path) -> None:
    cluster = {
        "server": "http://a:1,http://b:2/",
        "extensions": [
            {"name": "other", "extension": {"x": 1}},
            {
                "name": SERVERS_EXTENSION,
                "extension": {"servers": ["http://c:3", "http://a:1"]},
            },
        ],
    }
    cfg = load_kubeconfig(write(tmp_path, doc(cluster)))
    # server entries first, then the extension's, duplicates and trailing slashes dropped
    assert cfg.servers == ("http://a:1", "http://b:2", "http://c:3")


def test_tls_material_from_files_and_data(tmp_path: pathlib.Path) -> None:
    (tmp_path / "ca.crt").write_text(CERT)
    (tmp_path / "client.crt").write_text(CERT)
    (tmp_path / "client.key").write_text(KEY)
    from_files = doc(
        {"server": "https://h:6443", "certificate-authority": "ca.crt"},  # relative to file
        {"client-certificate": "client.crt", "client-key": "client.key"},
        namespace="team",
    )
    cfg = load_kubeconfig(write(tmp_path, from_files))
    assert cfg.ssl_context is not None
    assert cfg.ssl_context.verify_mode == ssl.CERT_REQUIRED
    assert cfg.ssl_context.check_hostname
    assert [c["subject"] for c in cfg.ssl_context.get_ca_certs()] == [
        ((("commonName", "kyb-test"),),)
    ]
    assert cfg.namespace == "team"

    from_data = doc(
        {"server": "https://h:6443", "certificate-authority-data": b64(CERT)},
        {"client-certificate-data": b64(CERT), "client-key-data": b64(KEY)},
    )
    cfg = config_from_dict(from_data)
    assert cfg.ssl_context is not None and len(cfg.ssl_context.get_ca_certs()) == 1


def test_insecure_skip_verify_and_tls_server_name() -> None:
    cfg = config_from_dict(
        doc(
            {
                "server": "https://10.0.0.1:6443",
                "insecure-skip-tls-verify": True,
                "tls-server-name": "kubernetes",
            }
        )
    )
    assert cfg.ssl_context is not None
    assert cfg.ssl_context.verify_mode == ssl.CERT_NONE
    assert not cfg.ssl_context.check_hostname
    assert cfg.tls_server_name == "kubernetes"


def test_credentials(tmp_path: pathlib.Path) -> None:
    server = {"server": "http://h"}
    assert config_from_dict(doc(server, {"token": "abc"})).headers == {
        "Authorization": "Bearer abc"
    }
    (tmp_path / "tok").write_text("from-file\n")
    cfg = config_from_dict(doc(server, {"tokenFile": "tok"}), base_dir=tmp_path)
    assert cfg.headers == {"Authorization": "Bearer from-file"}
    basic = config_from_dict(doc(server, {"username": "me", "password": "pw"})).headers
    assert basic == {"Authorization": "Basic " + b64("me:pw")}


def test_kubeconfig_env_merges_first_wins(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = doc({"server": "http://first"})
    second = doc({"server": "http://second"})
    second["contexts"].append({"name": "other", "context": {"cluster": "c2"}})
    second["clusters"].append({"name": "c2", "cluster": {"server": "http://c2"}})
    second["current-context"] = "other"
    a, b = write(tmp_path, first, "a"), write(tmp_path, second, "b")
    monkeypatch.setenv("KUBECONFIG", f"{a}:{tmp_path / 'missing'}:{b}")
    assert load_kubeconfig().servers == ("http://first",)  # first file's current-context
    assert load_kubeconfig(context="other").servers == ("http://c2",)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("a: [", "not valid YAML"),
        ("- 1\n- 2\n", "mapping at the top level"),
        (doc({"server": "http://h"}) | {"current-context": ""}, "no current-context"),
        (doc({"server": "http://h"}) | {"current-context": "nope"}, "context 'nope' not found"),
        (doc({}), "cluster 'c' has no server"),
        (doc({"server": "ftp://h"}), "is not an http(s) URL"),
        (doc({"server": "https://h", "certificate-authority-data": "!!"}), "not valid base64"),
        (doc({"server": "https://h", "certificate-authority": "nope.crt"}), "nope.crt"),
        (
            doc({"server": "https://h", "certificate-authority-data": b64("junk")}),
            "certificate-authority is not usable",
        ),
        (doc({"server": "https://h"}, {"client-certificate-data": b64(CERT)}), "together"),
        (
            doc(
                {"server": "https://h"},
                {"client-certificate-data": b64(CERT), "client-key-data": b64(CERT)},
            ),
            "client certificate and key are not usable",
        ),
        (doc({"server": "http://h"}, {"exec": {"command": "x"}}), "'exec' credentials"),
        (
            doc(
                {
                    "server": "http://h",
                    "extensions": [{"name": SERVERS_EXTENSION, "extension": {"servers": "x"}}],
                }
            ),
            "must be {servers: [URL, ...]}",
        ),
        ({"clusters": [{"cluster": {}}]}, "clusters[0] has no name"),
    ],
)
def test_broken_files_say_what_is_wrong(tmp_path: pathlib.Path, data: Any, message: str) -> None:
    path = tmp_path / "config"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    with pytest.raises(KubeconfigError) as info:
        load_kubeconfig(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: pathlib.Path) -> None:
    with pytest.raises(KubeconfigError, match="no such file"):
        load_kubeconfig(tmp_path / "absent")
