"""DefaultBinder: binds the pod by POSTing a Binding (``pods/{name}/binding``).

A pod that turns out to be bound already (409 from the API server: another scheduler
instance, or our own earlier attempt, won) is reported as ``AlreadyBound`` to the binding
cycle, which then forgets its assumption instead of retrying.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kybernetes.scheduler._framework import CycleState
from kybernetes.scheduler._handle import Handle
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._status import Status

NAME = "DefaultBinder"


class DefaultBinder:
    name = NAME

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        self.handle = handle

    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        await self.handle.api.bind(pod.pod, node_name)
        return None
