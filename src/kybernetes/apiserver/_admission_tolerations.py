"""The DefaultTolerationSeconds admission plugin: pods ride out short node outages.

:class:`DefaultTolerationSeconds` adds, to every pod created or updated (the pods resource
itself, not subresources), NoExecute tolerations of ``node.kubernetes.io/not-ready`` and
``node.kubernetes.io/unreachable`` for 300 seconds, unless the pod already tolerates those
taints (a toleration with an empty key or empty effect counts). The rule itself is
:func:`kybernetes.api._defaults_pod.default_tolerations`; this is its admission wrapper.
Running on updates too (as upstream does) makes a PUT of the original manifest keep the
tolerations the create added.
"""

from __future__ import annotations

from typing import Any

from kybernetes.api._defaults_pod import default_tolerations
from kybernetes.apiserver._admission import CREATE, UPDATE, Attributes
from kybernetes.apiserver._admission_mutating import is_resource

Obj = dict[str, Any]


class DefaultTolerationSeconds:
    """Mutating only."""

    async def mutate(self, attrs: Attributes) -> Obj | None:
        if attrs.operation not in (CREATE, UPDATE) or not is_resource(attrs, "", "pods"):
            return None
        pod = attrs.obj
        if pod is None:
            return None
        out = default_tolerations(pod)
        return None if out is pod else out
