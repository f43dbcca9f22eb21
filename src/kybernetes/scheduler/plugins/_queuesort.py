"""PrioritySort: the queue order: higher ``spec.priority`` first, then earlier arrival."""

from __future__ import annotations

from typing import Any

from kybernetes.scheduler._podinfo import PodInfo

NAME = "PrioritySort"


class PrioritySort:
    name = NAME

    def sort_key(self, pod: PodInfo, timestamp: float) -> tuple[Any, ...]:
        return (-pod.priority, timestamp)
