"""Rate limiters: a token bucket, and the per-item limiters the work queue requeues with.

Theory of operation:

* :class:`TokenBucket` holds at most ``burst`` tokens and gains ``qps`` per second.
  :meth:`TokenBucket.reserve` always takes a token, possibly going into debt, and returns
  how long the caller must wait before using it; so N callers arriving together are spaced
  ``1/qps`` apart once the burst is spent, in arrival order, and nobody starves.
* A :class:`RateLimiter` answers ``when(item)`` (how long to wait before retrying it),
  ``forget(item)`` (it succeeded: reset its history) and ``num_requeues(item)``.
  :class:`ItemExponentialFailureRateLimiter` doubles a per-item delay from ``base_delay`` to
  at most ``max_delay``; :class:`BucketRateLimiter` spaces all items by one bucket;
  :class:`MaxOfRateLimiter` waits for the longest of several.
  :func:`default_controller_rate_limiter` is upstream's default: 5 ms doubling to 1000 s
  per item, and 10 qps with a burst of 100 overall.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar

from kybernetes.client._clock import REAL_CLOCK, Clock

T = TypeVar("T", bound=Hashable)
T_contra = TypeVar("T_contra", bound=Hashable, contravariant=True)


class TokenBucket:
    def __init__(self, qps: float, burst: int, *, clock: Clock = REAL_CLOCK) -> None:
        if qps <= 0 or burst < 1:
            raise ValueError(f"a token bucket needs qps > 0 and burst >= 1 (got {qps}, {burst})")
        self.qps = qps
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock.now()

    def _refill(self) -> None:
        now = self._clock.now()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now

    def reserve(self) -> float:
        """Take one token; return the seconds to wait before it may be used (0: now)."""
        self._refill()
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    def try_take(self) -> bool:
        """Take a token only if one is available right now."""
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    async def acquire(self) -> None:
        """Wait for a token."""
        delay = self.reserve()
        if delay > 0:
            await self._clock.sleep(delay)


class RateLimiter(Protocol[T_contra]):
    def when(self, item: T_contra) -> float:
        """Seconds to wait before ``item`` is processed again (records a failure)."""
        ...

    def forget(self, item: T_contra) -> None:
        """``item`` succeeded: drop what was recorded about it."""
        ...

    def num_requeues(self, item: T_contra) -> int: ...


class ItemExponentialFailureRateLimiter(Generic[T]):
    def __init__(self, base_delay: float = 0.005, max_delay: float = 1000.0) -> None:
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._failures: dict[T, int] = {}

    def when(self, item: T) -> float:
        failures = self._failures.get(item, 0)
        self._failures[item] = failures + 1
        # Beyond 2**64 the float would overflow long after the cap was reached anyway.
        if failures >= 64:
            return self.max_delay
        return min(self.base_delay * float(2**failures), self.max_delay)

    def forget(self, item: T) -> None:
        self._failures.pop(item, None)

    def num_requeues(self, item: T) -> int:
        return self._failures.get(item, 0)


class BucketRateLimiter(Generic[T]):
    def __init__(self, qps: float = 10.0, burst: int = 100, *, clock: Clock = REAL_CLOCK) -> None:
        self.bucket = TokenBucket(qps, burst, clock=clock)

    def when(self, item: T) -> float:
        return self.bucket.reserve()

    def forget(self, item: T) -> None:
        pass

    def num_requeues(self, item: T) -> int:
        return 0


class MaxOfRateLimiter(Generic[T]):
    def __init__(self, *limiters: RateLimiter[T]) -> None:
        if not limiters:
            raise ValueError("MaxOfRateLimiter needs at least one limiter")
        self.limiters = limiters

    def when(self, item: T) -> float:
        # Every limiter records the attempt (the bucket spends a token even if the
        # per-item delay is longer), as upstream does.
        return max([limiter.when(item) for limiter in self.limiters])

    def forget(self, item: T) -> None:
        for limiter in self.limiters:
            limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return max(limiter.num_requeues(item) for limiter in self.limiters)


def default_controller_rate_limiter(clock: Clock = REAL_CLOCK) -> MaxOfRateLimiter[Hashable]:
    """5 ms doubling to 1000 s per item, combined with 10 qps (burst 100) overall."""
    return MaxOfRateLimiter(
        ItemExponentialFailureRateLimiter(0.005, 1000.0),
        BucketRateLimiter(10.0, 100, clock=clock),
    )
