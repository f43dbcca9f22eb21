"""Leader election on a ``coordination.k8s.io/v1`` Lease, as upstream's client does it.

Theory of operation:

* A candidate reads the Lease every ``retry_period``. It takes the Lease (compare-and-swap
  on resourceVersion, so two candidates never both succeed) when nobody holds it, when the
  holder cleared it, or when the holder's record has not changed for
  ``leaseDurationSeconds`` **as measured on the candidate's own clock since it first saw
  that record** (clock skew between machines therefore does not matter). Taking it sets
  ``acquireTime`` and increments ``leaseTransitions``.
* The leader renews (``renewTime``) every ``retry_period``. If it has not renewed for
  ``renew_deadline`` it steps down: its work is cancelled, ``on_stopped_leading`` runs and
  :meth:`LeaderElector.run` raises :class:`LeadershipLost`. Since
  ``renew_deadline < lease_duration``, a leader stops before anyone else may take over.
* On a clean end (the work returns, or ``run`` is cancelled) the leader releases the Lease:
  it clears ``holderIdentity`` (and sets a 1 s duration), so a candidate takes over at its
  next retry instead of waiting out the lease.
* Defaults are upstream's: 15 s lease, 10 s renew deadline, 2 s retry. All waiting uses
  the injectable clock; ``acquireTime``/``renewTime`` come from its wall time.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kybernetes.api import REGISTRY, ResourceInfo
from kybernetes.client._clock import Clock
from kybernetes.client._errors import ClientError, NotFound
from kybernetes.client._rest import Object, RESTClient

log = logging.getLogger("kyb.client.leaderelection")

_LEASES = REGISTRY.get("coordination.k8s.io", "v1", "leases")
assert _LEASES is not None
LEASES: ResourceInfo = _LEASES


def default_identity() -> str:
    """``hostname_<uuid>``: unique per process, readable in ``kubectl get lease``."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


def micro_time(moment: datetime) -> str:
    """A MicroTime as the API writes it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeadershipLost(ClientError):
    """The leader could not renew its Lease within the renew deadline and stepped down."""


@dataclass(frozen=True)
class LeaderElectionConfig:
    name: str
    namespace: str = "kube-system"
    identity: str = field(default_factory=default_identity)
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    #: Clear the Lease when leading ends cleanly, so another candidate takes over at once.
    release_on_cancel: bool = True

    def __post_init__(self) -> None:
        if not self.name or not self.identity:
            raise ValueError("leader election needs a lease name and an identity")
        if not self.lease_duration > self.renew_deadline > self.retry_period > 0:
            raise ValueError(
                "leader election needs lease_duration > renew_deadline > retry_period > 0 "
                f"(got {self.lease_duration}, {self.renew_deadline}, {self.retry_period})"
            )


class LeaderElector:
    def __init__(
        self,
        client: RESTClient,
        config: LeaderElectionConfig,
        *,
        on_started_leading: Callable[[], None] | None = None,
        on_stopped_leading: Callable[[], None] | None = None,
        on_new_leader: Callable[[str], None] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.client = client
        self.config = config
        self._clock = clock or client.clock
        self._on_started = on_started_leading
        self._on_stopped = on_stopped_leading
        self._on_new_leader = on_new_leader
        self._observed: tuple[Any, ...] | None = None
        self._observed_at = 0.0
        self._leader = ""
        self._leading = False

    @property
    def identity(self) -> str:
        return self.config.identity

    def is_leader(self) -> bool:
        return self._leading

    @property
    def leader(self) -> str:
        """The holder last seen on the Lease ("" if none)."""
        return self._leader

    async def run(self, work: Callable[[], Awaitable[None]]) -> None:
        """Campaign until leading, then run ``work()`` while leading.

        Returns when ``work`` returns (after releasing the Lease); raises
        :class:`LeadershipLost` if renewal failed (``work`` is cancelled first); when
        cancelled, cancels ``work``, releases the Lease, and re-raises.
        """
        await self._acquire()
        self._leading = True
        log.info("%s: leading %s/%s", self.identity, self.config.namespace, self.config.name)
        self._call(self._on_started)
        work_task = asyncio.ensure_future(work())
        renew_task = asyncio.ensure_future(self._renew_loop())
        lost = False
        try:
            await asyncio.wait({work_task, renew_task}, return_when=asyncio.FIRST_COMPLETED)
            lost = renew_task.done()
        finally:
            for task in (work_task, renew_task):
                task.cancel()
            await asyncio.gather(work_task, renew_task, return_exceptions=True)
            self._leading = False
            self._call(self._on_stopped)
            if not lost and self.config.release_on_cancel:
                await self._release()
        if lost:
            renew_task.result()  # raises LeadershipLost
        if not work_task.cancelled():
            work_task.result()  # re-raises what the work raised

    def _call(self, callback: Callable[[], None] | None) -> None:
        if callback is not None:
            try:
                callback()
            except Exception:
                log.exception("%s: leader election callback failed", self.identity)

    async def _acquire(self) -> None:
        while not await self._try_acquire_or_renew(self.config.renew_deadline):
            await self._clock.sleep(self.config.retry_period)

    async def _renew_loop(self) -> None:
        last_renew = self._clock.now()
        while True:
            await self._clock.sleep(self.config.retry_period)
            while True:
                remaining = last_renew + self.config.renew_deadline - self._clock.now()
                if remaining > 0 and await self._try_acquire_or_renew(remaining):
                    last_renew = self._clock.now()
                    break
                if self._clock.now() - last_renew >= self.config.renew_deadline:
                    log.error(
                        "%s: could not renew lease %s/%s for %.1fs; stepping down",
                        self.identity,
                        self.config.namespace,
                        self.config.name,
                        self.config.renew_deadline,
                    )
                    raise LeadershipLost(f"lost lease {self.config.namespace}/{self.config.name}")
                await self._clock.sleep(self.config.retry_period)

    def _observe(self, spec: dict[str, Any]) -> None:
        record = tuple(
            spec.get(k)
            for k in (
                "holderIdentity",
                "leaseDurationSeconds",
                "acquireTime",
                "renewTime",
                "leaseTransitions",
            )
        )
        if record != self._observed:
            self._observed = record
            self._observed_at = self._clock.now()
        holder = str(spec.get("holderIdentity") or "")
        if holder != self._leader:
            self._leader = holder
            if holder and self._on_new_leader is not None:
                try:
                    self._on_new_leader(holder)
                except Exception:
                    log.exception("%s: on_new_leader failed", self.identity)

    async def _try_acquire_or_renew(self, budget: float) -> bool:
        cfg = self.config
        now = micro_time(self._clock.wall())
        try:
            lease = await self.client.get(LEASES, cfg.name, namespace=cfg.namespace, timeout=budget)
        except NotFound:
            return await self._create(now, budget)
        except ClientError as e:
            log.warning(
                "%s: cannot read lease %s/%s: %s", self.identity, cfg.namespace, cfg.name, e
            )
            return False
        spec: dict[str, Any] = lease.get("spec") or {}
        self._observe(spec)
        holder = str(spec.get("holderIdentity") or "")
        duration = spec.get("leaseDurationSeconds") or cfg.lease_duration
        expired = self._observed_at + float(duration) <= self._clock.now()
        if holder and holder != self.identity and not expired:
            return False  # somebody else holds a lease that has not expired
        new_spec = dict(spec)
        if holder != self.identity:
            new_spec["acquireTime"] = now
            new_spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
        new_spec["holderIdentity"] = self.identity
        new_spec["leaseDurationSeconds"] = round(cfg.lease_duration)
        new_spec["renewTime"] = now
        return await self._update(lease, new_spec, budget)

    async def _create(self, now: str, budget: float) -> bool:
        cfg = self.config
        spec: Object = {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": round(cfg.lease_duration),
            "acquireTime": now,
            "renewTime": now,
            "leaseTransitions": 0,
        }
        body = {
            "apiVersion": LEASES.api_version,
            "kind": LEASES.kind,
            "metadata": {"name": cfg.name, "namespace": cfg.namespace},
            "spec": spec,
        }
        try:
            created = await self.client.create(LEASES, body, timeout=budget)
        except ClientError as e:
            log.info("%s: cannot create lease %s/%s: %s", self.identity, cfg.namespace, cfg.name, e)
            return False
        self._observe(created.get("spec") or {})
        return True

    async def _update(self, lease: Object, spec: Object, budget: float) -> bool:
        body = copy.deepcopy(lease)
        body["spec"] = spec
        try:
            updated = await self.client.update(LEASES, body, timeout=budget)
        except ClientError as e:
            log.info("%s: cannot update lease: %s", self.identity, e)
            return False
        self._observe(updated.get("spec") or {})
        return True

    async def _release(self) -> None:
        cfg = self.config
        budget = cfg.retry_period
        try:
            lease = await self.client.get(LEASES, cfg.name, namespace=cfg.namespace, timeout=budget)
            spec: dict[str, Any] = dict(lease.get("spec") or {})
            if spec.get("holderIdentity") != self.identity:
                return
            now = micro_time(self._clock.wall())
            spec.pop("holderIdentity", None)
            spec.update(leaseDurationSeconds=1, acquireTime=now, renewTime=now)
            if await self._update(lease, spec, budget):
                log.info("%s: released lease %s/%s", self.identity, cfg.namespace, cfg.name)
        except ClientError as e:
            log.warning("%s: could not release lease: %s", self.identity, e)
