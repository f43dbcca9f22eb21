"""What a plugin answers: ``None`` for success, else a :class:`Status` with a code and reasons.

Promises:

* Success is ``None`` (as upstream's nil ``*Status``): the hot path allocates nothing.
  :func:`is_success` also accepts an explicit ``Status(Code.SUCCESS)``.
* A :class:`Status` is immutable, so plugins may return shared constants; the framework
  records which plugin answered next to it (see :class:`~._fiterror.Diagnosis`), never in it.
* ``UNSCHEDULABLE`` means "another pod's removal (preemption) could help";
  ``UNSCHEDULABLE_AND_UNRESOLVABLE`` means preemption cannot help on that node; ``ERROR``
  is an internal failure (the pod is retried with backoff); ``SKIP`` from PreFilter or
  PreScore means "this plugin has nothing to say about this pod" (its Filter/Score is not
  called in this cycle); ``WAIT`` is a Permit plugin asking the binding cycle to wait.
"""

from __future__ import annotations

import enum
from typing import Final


class Code(enum.IntEnum):
    SUCCESS = 0
    ERROR = 1
    UNSCHEDULABLE = 2
    UNSCHEDULABLE_AND_UNRESOLVABLE = 3
    WAIT = 4
    SKIP = 5
    PENDING = 6


_REJECTED: Final = frozenset(
    {Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE, Code.PENDING}
)


class Status:
    """A non-success answer: a code and human-readable reasons (each one counted in the
    ``0/N nodes are available`` message)."""

    __slots__ = ("code", "reasons")

    code: Code
    reasons: tuple[str, ...]

    def __init__(self, code: Code, *reasons: str) -> None:
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "reasons", reasons)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Status is immutable")

    @property
    def message(self) -> str:
        return ", ".join(self.reasons)

    def is_rejected(self) -> bool:
        """Unschedulable (either kind) or pending: the pod does not fit, no internal error."""
        return self.code in _REJECTED

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Status):
            return NotImplemented
        return self.code == other.code and self.reasons == other.reasons

    def __hash__(self) -> int:
        return hash((self.code, self.reasons))

    def __repr__(self) -> str:
        return f"Status({self.code.name}, {self.message!r})"


def is_success(status: Status | None) -> bool:
    return status is None or status.code == Code.SUCCESS


def unschedulable(*reasons: str) -> Status:
    return Status(Code.UNSCHEDULABLE, *reasons)


def unresolvable(*reasons: str) -> Status:
    return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, *reasons)


def error(message: str) -> Status:
    return Status(Code.ERROR, message)


SKIP: Final = Status(Code.SKIP)
WAIT: Final = Status(Code.WAIT)


class PluginError(Exception):
    """Raised by a plugin (or the framework) for an internal failure; becomes ``ERROR``."""


class ConfigError(ValueError):
    """A scheduler configuration (file, profile, plugin args) that cannot be used."""
