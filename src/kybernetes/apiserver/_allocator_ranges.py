"""The ranges services draw cluster IPs and node ports from, as pure values.

A :class:`Space` is a range of allocatable values numbered by *offset* ``0 .. size-1``:

* :func:`ip_space` of a service CIDR (default ``10.96.0.0/12``): every address but the
  network address (and, for IPv4, the broadcast address), so offset 0 is ``10.96.0.1``.
  Offset 0 is never handed out at random: it belongs to the ``kubernetes`` service, which
  asks for it by address.
* :func:`port_space` of a node port range (default ``30000-32767``).

Random allocation prefers the upper part of a range and falls back to the lower part, as
upstream does, so that values users ask for explicitly (usually low ones) rarely collide
with random ones: the lower band is ``min(max(lo, size/step), hi)`` values long (16..256 of
every 16 IPs; 16..128 of every 32 ports); ranges of at most ``lo`` values have no lower band.
:meth:`Space.bands` lists the bands in the order to try them. The messages of
:class:`NotInRange` and :data:`ALLOCATED_*`/:data:`RANGE_FULL` are upstream's.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

DEFAULT_SERVICE_CIDR = "10.96.0.0/12"
DEFAULT_NODE_PORT_RANGE = "30000-32767"

ALLOCATED_IP = "provided IP is already allocated"
ALLOCATED_PORT = "provided port is already allocated"
RANGE_FULL = "range is full"


class NotInRange(ValueError):
    """A requested value outside the range; ``str()`` is upstream's message."""


def _lower_band(total: int, lo: int, hi: int, step: int) -> int:
    if total <= lo:
        return 0
    return min(max(lo, total // step), hi)


@dataclass(frozen=True, slots=True)
class Space:
    """Allocatable values ``first .. first+size-1`` (as integers) and how to name them."""

    kind: str  # "ip" or "port"
    first: int
    size: int
    #: Offsets ``0 .. lower-1`` are the band random allocation tries last.
    lower: int
    #: Offsets random allocation never picks (the kubernetes service's IP).
    reserved: frozenset[int]
    #: How upstream describes the range in errors (the CIDR, or ``30000-32767``).
    description: str
    ipv6: bool = False

    def name(self, offset: int) -> str:
        """The value at ``offset`` as it appears in objects and keys."""
        value = self.first + offset
        if self.kind == "ip":
            address = ipaddress.IPv6Address(value) if self.ipv6 else ipaddress.IPv4Address(value)
            return str(address)
        return str(value)

    def offset(self, value: str | int) -> int:
        """The offset of a requested value; :class:`NotInRange` outside the range, and
        :class:`ValueError` for something that is not an IP address (ranges of IPs)."""
        if self.kind == "ip":
            address = ipaddress.ip_address(str(value))
            number = int(address)
            inside = (address.version == 6) == self.ipv6
            if not inside or not self.first <= number < self.first + self.size:
                raise NotInRange(
                    f"the provided IP ({value}) is not in the valid range. "
                    f"The range of valid IPs is {self.description}"
                )
            return number - self.first
        number = int(value)
        if not self.first <= number < self.first + self.size:
            raise NotInRange(
                "provided port is not in the valid range. "
                f"The range of valid ports is {self.description}"
            )
        return number - self.first

    def bands(self) -> list[tuple[int, int]]:
        """Half-open offset ranges to draw random values from, most preferred first."""
        upper = (self.lower, self.size)
        lower = (0, self.lower)
        return [(lo, hi) for lo, hi in (upper, lower) if hi > lo]

    @property
    def allocated_message(self) -> str:
        return ALLOCATED_IP if self.kind == "ip" else ALLOCATED_PORT


def ip_space(cidr: str = DEFAULT_SERVICE_CIDR) -> Space:
    """The service IP range of ``cidr``; ValueError when it is not a usable CIDR."""
    network = ipaddress.ip_network(cidr, strict=True)
    total = network.num_addresses
    # The network address never; IPv4's broadcast address never either.
    size = total - (2 if network.version == 4 else 1)
    if size < 1:
        raise ValueError(f"service CIDR {cidr} has no allocatable addresses")
    return Space(
        kind="ip",
        first=int(network.network_address) + 1,
        size=size,
        lower=min(_lower_band(total, 16, 256, 16), size),
        reserved=frozenset({0}),
        description=str(network),
        ipv6=network.version == 6,
    )


def port_space(ports: str = DEFAULT_NODE_PORT_RANGE) -> Space:
    """The node port range ``"BASE-LAST"`` (or one port ``"N"``); ValueError if malformed."""
    base_text, _, last_text = ports.partition("-")
    base = int(base_text)
    last = int(last_text) if last_text else base
    if not 0 < base <= last <= 65535:
        raise ValueError(f"invalid port range {ports!r}")
    size = last - base + 1
    return Space(
        kind="port",
        first=base,
        size=size,
        lower=min(_lower_band(size, 16, 128, 32), size),
        reserved=frozenset(),
        description=f"{base}-{last}",
    )
