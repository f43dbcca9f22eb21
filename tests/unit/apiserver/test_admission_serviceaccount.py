"""ServiceAccount and DefaultTolerationSeconds admission, and the mutating chain."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from tests.support.admission import attrs, container, pod

from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._admission import UPDATE
from kybernetes.apiserver._admission_mutating import MutatingChain
from kybernetes.apiserver._admission_serviceaccount import (
    TOKEN_MOUNT_PATH,
    ServiceAccountAdmission,
    default_service_account,
    ensure_default_service_account,
    mount_token,
)
from kybernetes.apiserver._admission_tolerations import DefaultTolerationSeconds

Obj = dict[str, Any]


class Accounts:
    """A fake service account lookup that counts calls."""

    def __init__(self, *accounts: Obj) -> None:
        self.accounts = {(a["metadata"]["namespace"], a["metadata"]["name"]): a for a in accounts}
        self.lookups = 0

    async def __call__(self, namespace: str, name: str) -> Obj | None:
        self.lookups += 1
        return self.accounts.get((namespace, name))


def account(name: str = "default", namespace: str = "ns", **fields: Any) -> Obj:
    return {"metadata": {"name": name, "namespace": namespace}, **fields}


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def plugin(accounts: Accounts, sleeps: Sleeps | None = None) -> ServiceAccountAdmission:
    return ServiceAccountAdmission(accounts, sleep=sleeps or Sleeps(), suffix=lambda: "abcde")


async def test_default_account_and_token_volume_mounted_everywhere() -> None:
    p = pod(container("a"), container("b"), initContainers=[container("init")])
    before = copy.deepcopy(p)
    out = await plugin(Accounts(account())).mutate(attrs(p))
    assert p == before  # the input is never touched
    assert out is not None
    spec = out["spec"]
    assert spec["serviceAccountName"] == spec["serviceAccount"] == "default"
    assert spec["volumes"] == [
        {
            "name": "kube-api-access-abcde",
            "projected": {
                "defaultMode": 420,
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {
                        "configMap": {
                            "name": "kube-root-ca.crt",
                            "items": [{"key": "ca.crt", "path": "ca.crt"}],
                        }
                    },
                    {
                        "downwardAPI": {
                            "items": [
                                {
                                    "path": "namespace",
                                    "fieldRef": {
                                        "apiVersion": "v1",
                                        "fieldPath": "metadata.namespace",
                                    },
                                }
                            ]
                        }
                    },
                ],
            },
        }
    ]
    mount = {"name": "kube-api-access-abcde", "readOnly": True, "mountPath": TOKEN_MOUNT_PATH}
    for c in spec["containers"] + spec["initContainers"]:
        assert c["volumeMounts"] == [mount]


async def test_existing_mount_at_token_path_is_respected() -> None:
    own = {"name": "mine", "mountPath": TOKEN_MOUNT_PATH}
    p = pod(container("a") | {"volumeMounts": [own]}, container("b"))
    out = mount_token(p, "zzzzz")
    assert out["spec"]["containers"][0]["volumeMounts"] == [own]
    assert out["spec"]["containers"][1]["volumeMounts"][0]["name"] == "kube-api-access-zzzzz"
    # Nobody needs the volume: nothing changes at all.
    only = pod(container("a") | {"volumeMounts": [own]})
    assert mount_token(only, "zzzzz") is only


async def test_existing_token_volume_is_reused() -> None:
    p = pod(container("a"), volumes=[{"name": "kube-api-access-old", "emptyDir": {}}])
    out = mount_token(p, "new00")
    assert [v["name"] for v in out["spec"]["volumes"]] == ["kube-api-access-old"]
    assert out["spec"]["containers"][0]["volumeMounts"][0]["name"] == "kube-api-access-old"


@pytest.mark.parametrize(
    ("pod_choice", "account_choice", "mounted"),
    [
        (None, None, True),
        (None, False, False),
        (True, False, True),
        (False, True, False),
        (False, None, False),
    ],
)
async def test_automount_choice_pod_wins(
    pod_choice: bool | None, account_choice: bool | None, mounted: bool
) -> None:
    sa_fields: Obj = {}
    pod_fields: Obj = {}
    if account_choice is not None:
        sa_fields["automountServiceAccountToken"] = account_choice
    if pod_choice is not None:
        pod_fields["automountServiceAccountToken"] = pod_choice
    p = pod(container("a"), serviceAccountName="robot", **pod_fields)
    out = await plugin(Accounts(account("robot", **sa_fields))).mutate(attrs(p))
    assert out is not None
    assert out["spec"]["serviceAccountName"] == "robot"
    assert ("volumes" in out["spec"]) is mounted
    assert ("volumeMounts" in out["spec"]["containers"][0]) is mounted


async def test_image_pull_secrets_come_from_the_account_when_the_pod_has_none() -> None:
    sa = account(imagePullSecrets=[{"name": "reg"}])
    out = await plugin(Accounts(sa)).mutate(attrs(pod()))
    assert out is not None and out["spec"]["imagePullSecrets"] == [{"name": "reg"}]
    own = pod(imagePullSecrets=[{"name": "mine"}])
    out = await plugin(Accounts(sa)).mutate(attrs(own))
    assert out is not None and out["spec"]["imagePullSecrets"] == [{"name": "mine"}]


async def test_missing_default_account_is_retried_then_refused() -> None:
    accounts, sleeps = Accounts(), Sleeps()
    with pytest.raises(errors.APIError) as caught:
        await plugin(accounts, sleeps).mutate(attrs(pod(name="web")))
    e = caught.value
    assert (e.code, e.reason) == (403, "Forbidden")
    assert e.message == (
        'pods "web" is forbidden: error looking up service account ns/default: '
        'serviceaccount "default" not found'
    )
    assert accounts.lookups == 10
    assert len(sleeps.calls) == 9 and all(0.1 <= s <= 0.2 for s in sleeps.calls)


async def test_missing_named_account_is_looked_up_once() -> None:
    accounts = Accounts(account())
    with pytest.raises(errors.APIError) as caught:
        await plugin(accounts).admit(attrs(pod(name="web", serviceAccountName="robot")))
    assert 'serviceaccount "robot" not found' in caught.value.message
    assert accounts.lookups == 1


async def test_default_account_created_while_waiting_is_found() -> None:
    accounts = Accounts()

    async def appears(seconds: float) -> None:
        accounts.accounts[("ns", "default")] = account()

    sa_plugin = ServiceAccountAdmission(accounts, sleep=appears)
    assert await sa_plugin.mutate(attrs(pod())) is not None
    assert accounts.lookups == 2


async def test_validation_requires_a_named_existing_account() -> None:
    sa = plugin(Accounts(account()))
    await sa.admit(attrs(pod(serviceAccountName="default")))
    with pytest.raises(errors.APIError) as caught:
        await sa.admit(attrs(pod(name="web")))
    assert caught.value.message == (
        'pods "web" is forbidden: no service account specified for pod ns/web'
    )


async def test_mirror_pods_are_not_changed_and_may_not_reference_accounts_or_secrets() -> None:
    sa = plugin(Accounts(account()))
    mirror = pod()
    mirror["metadata"]["annotations"] = {"kubernetes.io/config.mirror": "x"}
    assert await sa.mutate(attrs(mirror)) is None
    await sa.admit(attrs(mirror))
    with_secret = copy.deepcopy(mirror)
    with_secret["spec"]["volumes"] = [{"name": "s", "secret": {"secretName": "x"}}]
    with pytest.raises(errors.APIError, match="a mirror pod may not reference secrets"):
        await sa.admit(attrs(with_secret))
    named = copy.deepcopy(mirror)
    named["spec"]["serviceAccountName"] = "default"
    with pytest.raises(errors.APIError, match="may not reference service accounts"):
        await sa.admit(attrs(named))


async def test_only_pod_creates_are_touched() -> None:
    accounts = Accounts()
    sa = plugin(accounts)
    assert await sa.mutate(attrs(pod(), operation=UPDATE, old=pod())) is None
    assert await sa.mutate(attrs(pod(), subresource="status")) is None
    cm = {"metadata": {"name": "c"}}
    assert await sa.mutate(attrs(cm, plural="configmaps")) is None
    await sa.admit(attrs(pod(), operation=UPDATE, old=pod()))
    assert accounts.lookups == 0


async def test_ensure_default_service_account() -> None:
    created: list[tuple[str, Obj]] = []

    async def create(namespace: str, obj: Obj) -> Obj:
        if created:
            raise errors.already_exists(None, "default")
        created.append((namespace, obj))
        return obj

    assert await ensure_default_service_account(create, "team") is True
    assert await ensure_default_service_account(create, "team") is False
    assert created == [("team", default_service_account("team"))]
    assert created[0][1]["metadata"] == {"name": "default", "namespace": "team"}

    async def broken(namespace: str, obj: Obj) -> Obj:
        raise errors.service_unavailable("down")

    with pytest.raises(errors.APIError):
        await ensure_default_service_account(broken, "team")


# -- DefaultTolerationSeconds --------------------------------------------------------------


NOT_READY = {
    "key": "node.kubernetes.io/not-ready",
    "operator": "Exists",
    "effect": "NoExecute",
    "tolerationSeconds": 300,
}
UNREACHABLE = NOT_READY | {"key": "node.kubernetes.io/unreachable"}


async def test_tolerations_added_on_create_and_update() -> None:
    plugin = DefaultTolerationSeconds()
    p = pod()
    out = await plugin.mutate(attrs(p))
    assert out is not None and out["spec"]["tolerations"] == [NOT_READY, UNREACHABLE]
    assert "tolerations" not in p["spec"]
    again = await plugin.mutate(attrs(pod(), operation=UPDATE, old=out))
    assert again is not None and again["spec"]["tolerations"] == [NOT_READY, UNREACHABLE]


async def test_tolerations_kept_when_already_tolerated() -> None:
    plugin = DefaultTolerationSeconds()
    everything = pod(tolerations=[{"operator": "Exists"}])
    assert await plugin.mutate(attrs(everything)) is None
    custom = dict(NOT_READY, tolerationSeconds=10)
    out = await plugin.mutate(attrs(pod(tolerations=[custom])))
    assert out is not None and out["spec"]["tolerations"] == [custom, UNREACHABLE]
    assert await plugin.mutate(attrs({"metadata": {}}, plural="configmaps")) is None
    assert await plugin.mutate(attrs(pod(), subresource="status")) is None


async def test_mutating_chain_runs_plugins_in_order_on_each_result() -> None:
    chain = MutatingChain([plugin(Accounts(account())), DefaultTolerationSeconds()])
    p = pod()
    out = await chain.mutate(attrs(p))
    assert out is not None
    assert out["spec"]["serviceAccountName"] == "default"
    assert out["spec"]["tolerations"] == [NOT_READY, UNREACHABLE]
    assert "tolerations" not in p["spec"] and "serviceAccountName" not in p["spec"]
    cm = {"metadata": {"name": "c"}}
    assert await chain.mutate(attrs(cm, plural="configmaps")) is None
