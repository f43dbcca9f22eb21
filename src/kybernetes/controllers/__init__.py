"""The controller manager: one level-triggered reconcile loop per module.

* :class:`ControllerManager` runs the enabled controllers (leader-elected on request).
* :data:`CONTROLLERS` maps each controller's name to its factory.
* :class:`Controller` is what a controller is (``name``, ``queue``, ``informers()``,
  ``sync(key)``); :func:`run_controller` runs one; :class:`Expectations` keeps a stale
  cache from causing double creations or deletions.

It depends on :mod:`kybernetes.api` and :mod:`kybernetes.client` only.
"""

from kybernetes.controllers._base import (
    Controller,
    ControllerContext,
    ControllerFactory,
    process_one,
    run_controller,
)
from kybernetes.controllers._deployment import DeploymentController
from kybernetes.controllers._endpoints import EndpointsController
from kybernetes.controllers._endpointslice import EndpointSliceController
from kybernetes.controllers._expectations import Expectations
from kybernetes.controllers._garbagecollector import GarbageCollector
from kybernetes.controllers._manager import LEASE_NAME, ControllerManager, enabled_controllers
from kybernetes.controllers._namespace import NamespaceController
from kybernetes.controllers._podgc import PodGCController
from kybernetes.controllers._replicaset import (
    ReplicaSetController,
    new_replicaset_controller,
    new_replication_controller,
)
from kybernetes.controllers._serviceaccount import ServiceAccountController

CONTROLLERS: dict[str, ControllerFactory] = {
    "replicaset": new_replicaset_controller,
    "replicationcontroller": new_replication_controller,
    "deployment": DeploymentController,
    "garbagecollector": GarbageCollector,
    "namespace": NamespaceController,
    "serviceaccount": ServiceAccountController,
    "endpoint": EndpointsController,
    "endpointslice": EndpointSliceController,
    "podgc": PodGCController,
}

__all__ = [
    "CONTROLLERS",
    "LEASE_NAME",
    "Controller",
    "ControllerContext",
    "ControllerFactory",
    "ControllerManager",
    "DeploymentController",
    "EndpointSliceController",
    "EndpointsController",
    "Expectations",
    "GarbageCollector",
    "NamespaceController",
    "PodGCController",
    "ReplicaSetController",
    "ServiceAccountController",
    "enabled_controllers",
    "process_one",
    "run_controller",
]
