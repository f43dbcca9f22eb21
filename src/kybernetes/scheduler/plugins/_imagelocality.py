"""ImageLocality: prefer nodes that already have the pod's images.

Score, as upstream: the sum over the pod's containers of (image size x fraction of nodes
that have the image), clamped to [23 MiB, 1000 MiB x containers] and scaled to 0..100.
Spreading by the fraction keeps one node holding a popular image from attracting everything.
"""

from __future__ import annotations

from collections.abc import Sequence

from kybernetes.scheduler._framework import MAX_NODE_SCORE, CycleState
from kybernetes.scheduler._handle import Handle
from kybernetes.scheduler._nodeinfo import NodeInfo
from kybernetes.scheduler._podinfo import PodInfo
from kybernetes.scheduler._status import SKIP, Status

NAME = "ImageLocality"
_MB = 1024 * 1024
MIN_THRESHOLD = 23 * _MB
MAX_CONTAINER_THRESHOLD = 1000 * _MB
_PRE_SCORE_KEY = "PreScore" + NAME


def calculate_priority(sum_scores: int, num_containers: int) -> int:
    max_threshold = MAX_CONTAINER_THRESHOLD * num_containers
    clamped = min(max(sum_scores, MIN_THRESHOLD), max_threshold)
    return MAX_NODE_SCORE * (clamped - MIN_THRESHOLD) // (max_threshold - MIN_THRESHOLD)


class ImageLocality:
    name = NAME

    def __init__(self, args: object = None, handle: Handle | None = None) -> None:
        self.handle = handle

    def pre_score(
        self, state: CycleState, pod: PodInfo, nodes: Sequence[NodeInfo]
    ) -> Status | None:
        if self.handle is None or not pod.images:
            return SKIP
        snapshot = self.handle.snapshot
        total = len(snapshot.list())
        spread = {
            image: count / total
            for image in set(pod.images)
            if total and (count := snapshot.image_node_count(image))
        }
        # No node has any of the images: every node scores 0, so the plugin cannot change
        # the choice; skip its per-node calls.
        if not spread:
            return SKIP
        state.write(_PRE_SCORE_KEY, spread)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        spread: dict[str, float] = state.read(_PRE_SCORE_KEY)
        images = node.images
        total = 0
        for image in pod.images:
            fraction = spread.get(image)
            if fraction is not None and image in images:
                total += int(images[image] * fraction)
        return calculate_priority(total, len(pod.images))
