"""The async Kubernetes client every kybernetes component talks to the cluster through.

* :class:`RESTClient`: the verbs (get, list, create, update, patch, delete, watch) for any
  :class:`~kybernetes.api.ResourceInfo`, from a kubeconfig (:func:`load_kubeconfig`),
  across several servers, rate limited, with typed errors (:class:`NotFound`, ...).
* :class:`Informer` / :class:`SharedInformerFactory`: list+watch into an indexed local
  :class:`Cache`, with event handlers and resync. Cached objects are shared: never mutate
  them (``KYB_CLIENT_FREEZE=1`` makes mutation raise :class:`CachedObjectMutation`).
* :class:`WorkQueue`: deduplicating, rate-limited, never two workers on one key.
* :class:`LeaderElector`: leader election on a coordination.k8s.io/v1 Lease.
* :class:`EventRecorder`: core/v1 Events with repeats aggregated into a count.
* :class:`Clock` / :class:`FakeClock`: every wait goes through an injectable clock.
* :class:`Transport`: the seam under the client (tests and in-process wiring plug in here).

It depends on :mod:`kybernetes.api` only.
"""

from kybernetes.client._cache import (
    NAMESPACE_INDEX,
    NODE_NAME_INDEX,
    OWNER_UID_INDEX,
    Cache,
    IndexFunc,
    object_key,
    split_key,
)
from kybernetes.client._clock import REAL_CLOCK, Clock, FakeClock, RealClock
from kybernetes.client._errors import (
    AlreadyExists,
    APIError,
    BadRequest,
    Cause,
    ClientError,
    Conflict,
    ConnectError,
    Expired,
    Forbidden,
    Gone,
    Invalid,
    MethodNotAllowed,
    NotFound,
    RequestTimeout,
    ServerError,
    TooManyRequests,
    TransportError,
    Unauthorized,
    WatchExpired,
)
from kybernetes.client._events import NORMAL, WARNING, EventRecorder, object_reference
from kybernetes.client._factory import SharedInformerFactory
from kybernetes.client._frozen import (
    CachedObjectMutation,
    cache_mutations,
    clear_cache_mutations,
    deep_freeze,
)
from kybernetes.client._informer import DeletedFinalStateUnknown, EventHandler, Informer
from kybernetes.client._kubeconfig import (
    SERVERS_EXTENSION,
    ClientConfig,
    KubeconfigError,
    config_from_dict,
    load_kubeconfig,
)
from kybernetes.client._leaderelection import (
    LeaderElectionConfig,
    LeaderElector,
    LeadershipLost,
)
from kybernetes.client._ratelimit import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    RateLimiter,
    TokenBucket,
    default_controller_rate_limiter,
)
from kybernetes.client._rest import Object, PatchType, RESTClient
from kybernetes.client._transport import (
    AiohttpTransport,
    BufferedResponse,
    Request,
    Response,
    Transport,
)
from kybernetes.client._watch import ADDED, BOOKMARK, DELETED, MODIFIED, WatchEvent
from kybernetes.client._workqueue import ShutDown, WorkQueue

__all__ = [
    "ADDED",
    "BOOKMARK",
    "DELETED",
    "MODIFIED",
    "NAMESPACE_INDEX",
    "NODE_NAME_INDEX",
    "NORMAL",
    "OWNER_UID_INDEX",
    "REAL_CLOCK",
    "SERVERS_EXTENSION",
    "WARNING",
    "APIError",
    "AiohttpTransport",
    "AlreadyExists",
    "BadRequest",
    "BucketRateLimiter",
    "BufferedResponse",
    "Cache",
    "CachedObjectMutation",
    "Cause",
    "ClientConfig",
    "ClientError",
    "Clock",
    "Conflict",
    "ConnectError",
    "DeletedFinalStateUnknown",
    "EventHandler",
    "EventRecorder",
    "Expired",
    "FakeClock",
    "Forbidden",
    "Gone",
    "IndexFunc",
    "Informer",
    "Invalid",
    "ItemExponentialFailureRateLimiter",
    "KubeconfigError",
    "LeaderElectionConfig",
    "LeaderElector",
    "LeadershipLost",
    "MaxOfRateLimiter",
    "MethodNotAllowed",
    "NotFound",
    "Object",
    "PatchType",
    "RESTClient",
    "RateLimiter",
    "RealClock",
    "Request",
    "RequestTimeout",
    "Response",
    "ServerError",
    "SharedInformerFactory",
    "ShutDown",
    "TokenBucket",
    "TooManyRequests",
    "Transport",
    "TransportError",
    "Unauthorized",
    "WatchEvent",
    "WatchExpired",
    "WorkQueue",
    "cache_mutations",
    "clear_cache_mutations",
    "config_from_dict",
    "deep_freeze",
    "default_controller_rate_limiter",
    "load_kubeconfig",
    "object_key",
    "object_reference",
    "split_key",
]
