"""The ServiceAccount admission plugin: every pod runs as a service account that exists.

:class:`ServiceAccountAdmission` is upstream's plugin of the same name, both phases, for
pod creates only (the pods resource itself, not its subresources):

* mutate: a pod naming no service account gets ``default`` (``spec.serviceAccountName`` and
  its deprecated alias ``spec.serviceAccount`` both set, as upstream serves them); unless
  the pod or its service account opts out (``automountServiceAccountToken: false``; the
  pod's choice wins), the projected token volume ``kube-api-access-XXXXX`` is added and
  mounted read-only at ``/var/run/secrets/kubernetes.io/serviceaccount`` in every init
  container and container that does not already mount something there; a pod with no
  ``imagePullSecrets`` gets its service account's.
* validate: the pod names a service account and it exists, else 403 Forbidden
  ``error looking up service account NS/NAME: serviceaccount "NAME" not found``.

Mirror pods (annotation ``kubernetes.io/config.mirror``, made by kubelets for static pods)
are never changed and may not reference service accounts, secrets or token projections.

A missing ``default`` account is looked up several times (upstream: 10 times, 100-200 ms
apart) because a controller creates it right after its namespace; until that controller
exists, the API server creates it itself: :func:`ensure_default_service_account` is what it
calls for each new namespace and, at start, for the system namespaces.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

from kybernetes.api._jsonvalue import deep_copy
from kybernetes.apiserver import _errors as errors
from kybernetes.apiserver._admission import Attributes
from kybernetes.apiserver._admission_mutating import is_pod_create

Obj = dict[str, Any]

DEFAULT_SERVICE_ACCOUNT = "default"
TOKEN_VOLUME_PREFIX = "kube-api-access-"
TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
#: Upstream's bound token lifetime: an hour plus 7 s, the odd value marking tokens that
#: only warn (never fail) when used past an hour.
TOKEN_EXPIRATION_SECONDS = 3607
ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
_PROJECTED_DEFAULT_MODE = 0o644

_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

#: Looks a service account up by (namespace, name); None when it does not exist.
ServiceAccountGetter = Callable[[str, str], Awaitable[Obj | None]]
#: Creates an object in a namespace (``ResourceStorage.create`` of serviceaccounts);
#: raises an APIError with code 409 when it already exists.
ServiceAccountCreator = Callable[[str, Obj], Awaitable[object]]
Sleep = Callable[[float], Awaitable[None]]


#: Suffixes need to be unlikely to collide, not unguessable: no syscall per draw.
_SUFFIX_RANDOM = random.Random()


def random_suffix() -> str:
    """Five characters, as upstream's name generator draws them."""
    return "".join(_SUFFIX_RANDOM.choices(_NAME_ALPHABET, k=5))


def token_volume(name: str) -> Obj:
    """The projected volume carrying a bound token, the cluster CA and the namespace."""
    return {
        "name": name,
        "projected": {
            "defaultMode": _PROJECTED_DEFAULT_MODE,
            "sources": [
                {
                    "serviceAccountToken": {
                        "expirationSeconds": TOKEN_EXPIRATION_SECONDS,
                        "path": "token",
                    }
                },
                {
                    "configMap": {
                        "name": ROOT_CA_CONFIGMAP,
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


def should_automount(service_account: Obj, pod: Obj) -> bool:
    """The pod's ``automountServiceAccountToken`` wins, then the account's; default true."""
    for holder in ((pod.get("spec") or {}), service_account):
        choice = holder.get("automountServiceAccountToken")
        if isinstance(choice, bool):
            return choice
    return True


def _dicts(value: Any) -> list[Obj]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def mount_token(pod: Obj, suffix: str) -> Obj:
    """A copy of ``pod`` mounting the token volume in every container that lacks a mount at
    the token path; ``suffix`` names a new volume (an existing ``kube-api-access-*``
    volume is reused). ``pod`` itself comes back when nothing needs adding."""
    spec = pod.get("spec") or {}
    volumes = _dicts(spec.get("volumes"))
    existing = next(
        (v["name"] for v in volumes if str(v.get("name") or "").startswith(TOKEN_VOLUME_PREFIX)),
        None,
    )
    volume_name = existing or TOKEN_VOLUME_PREFIX + suffix
    mount = {"name": volume_name, "readOnly": True, "mountPath": TOKEN_MOUNT_PATH}
    new_spec = dict(spec)
    needed = False
    for key in ("initContainers", "containers"):
        containers = spec.get(key)
        if not isinstance(containers, list):
            continue
        out = []
        for container in containers:
            if isinstance(container, dict):
                mounts = _dicts(container.get("volumeMounts"))
                if not any(m.get("mountPath") == TOKEN_MOUNT_PATH for m in mounts):
                    container = {**container, "volumeMounts": [*mounts, dict(mount)]}
                    needed = True
            out.append(container)
        new_spec[key] = out
    if not needed:
        return pod
    if existing is None:
        new_spec["volumes"] = [*(spec.get("volumes") or []), token_volume(volume_name)]
    return {**pod, "spec": new_spec}


def default_service_account(namespace: str) -> Obj:
    """The ``default`` ServiceAccount object of ``namespace``."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": DEFAULT_SERVICE_ACCOUNT, "namespace": namespace},
    }


async def ensure_default_service_account(create: ServiceAccountCreator, namespace: str) -> bool:
    """Create the ``default`` service account of ``namespace`` unless it exists.

    True when this call created it. The API server calls it once a namespace has been
    created (before answering the request, so pods created next find it) and, at start,
    for each system namespace. Stands in for the ServiceAccount controller.
    """
    try:
        await create(namespace, default_service_account(namespace))
    except errors.APIError as e:
        if e.code == 409:
            return False
        raise
    return True


def _is_mirror(pod: Obj) -> bool:
    annotations = (pod.get("metadata") or {}).get("annotations")
    return isinstance(annotations, dict) and MIRROR_POD_ANNOTATION in annotations


def _references_secrets(spec: Obj) -> bool:
    if _dicts(spec.get("imagePullSecrets")):
        return True
    for volume in _dicts(spec.get("volumes")):
        if isinstance(volume.get("secret"), dict):
            return True
        for key in ("azureFile", "cephfs", "cinder", "flexVolume", "iscsi", "rbd", "scaleIO"):
            source = volume.get(key)
            if isinstance(source, dict) and (source.get("secretRef") or source.get("secretName")):
                return True
        for source in _dicts((volume.get("projected") or {}).get("sources")):
            if isinstance(source.get("secret"), dict):
                return True
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for container in _dicts(spec.get(key)):
            for env_from in _dicts(container.get("envFrom")):
                if isinstance(env_from.get("secretRef"), dict):
                    return True
            for env in _dicts(container.get("env")):
                if isinstance((env.get("valueFrom") or {}).get("secretKeyRef"), dict):
                    return True
    return False


def _uses_token_projection(spec: Obj) -> bool:
    return any(
        isinstance(source.get("serviceAccountToken"), dict)
        for volume in _dicts(spec.get("volumes"))
        for source in _dicts((volume.get("projected") or {}).get("sources"))
    )


class ServiceAccountAdmission:
    """Upstream's ServiceAccount plugin (see the module docstring); mutating and validating."""

    def __init__(
        self,
        get_service_account: ServiceAccountGetter,
        *,
        mount_tokens: bool = True,
        default_attempts: int = 10,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        suffix: Callable[[], str] = random_suffix,
    ) -> None:
        self._get = get_service_account
        self.mount_tokens = mount_tokens
        self._default_attempts = max(1, default_attempts)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._suffix = suffix

    async def _lookup(self, attrs: Attributes, name: str) -> Obj:
        """The service account, or 403 as upstream words it."""
        attempts = self._default_attempts if name == DEFAULT_SERVICE_ACCOUNT else 1
        # Upstream waits 100-200 ms between tries; one interval per lookup.
        interval = self._rng.uniform(0.1, 0.2)
        for attempt in range(attempts):
            if attempt:
                await self._sleep(interval)
            found = await self._get(attrs.namespace, name)
            if found is not None:
                return found
        why = (
            f"error looking up service account {attrs.namespace}/{name}: "
            f'serviceaccount "{name}" not found'
        )
        raise errors.forbidden(attrs.info, attrs.name, why)

    async def mutate(self, attrs: Attributes) -> Obj | None:
        if not is_pod_create(attrs):
            return None
        pod = attrs.obj
        assert pod is not None
        if _is_mirror(pod):
            return None
        spec = pod.get("spec") or {}
        name = spec.get("serviceAccountName") or spec.get("serviceAccount")
        name = name if isinstance(name, str) and name else DEFAULT_SERVICE_ACCOUNT
        account = await self._lookup(attrs, name)
        out: Obj = deep_copy(pod)
        out_spec = out.setdefault("spec", {})
        out_spec["serviceAccountName"] = name
        out_spec["serviceAccount"] = name
        if self.mount_tokens and should_automount(account, out):
            out = mount_token(out, self._suffix())
            out_spec = out["spec"]
        if not out_spec.get("imagePullSecrets"):
            pull = [
                {"name": s["name"]}
                for s in _dicts(account.get("imagePullSecrets"))
                if isinstance(s.get("name"), str)
            ]
            if pull:
                out_spec["imagePullSecrets"] = pull
        return out

    async def admit(self, attrs: Attributes) -> None:
        if not is_pod_create(attrs):
            return
        pod = attrs.obj
        assert pod is not None
        spec = pod.get("spec") or {}
        if _is_mirror(pod):
            why = ""
            if spec.get("serviceAccountName"):
                why = "a mirror pod may not reference service accounts"
            elif _references_secrets(spec):
                why = "a mirror pod may not reference secrets"
            elif _uses_token_projection(spec):
                why = "a mirror pod may not use ServiceAccountToken volume projections"
            if why:
                raise errors.forbidden(attrs.info, attrs.name, why)
            return
        name = spec.get("serviceAccountName")
        if not isinstance(name, str) or not name:
            why = f"no service account specified for pod {attrs.namespace}/{attrs.name}"
            raise errors.forbidden(attrs.info, attrs.name, why)
        await self._lookup(attrs, name)
