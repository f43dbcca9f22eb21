"""Building blocks of Table printers: columns, ages, and the small formats upstream uses.

Pure, no I/O. Every helper takes plain JSON-shaped objects and tolerates missing fields
(a printer must never fail on an object the API accepted).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kybernetes.api import load_schema

Obj = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Column:
    """One column definition. ``doc`` is a literal description, or ``(definition, field)``
    naming the schema field whose description upstream shows (resolved on first use)."""

    name: str
    type: str = "string"
    doc: str | tuple[str, str] = ""
    priority: int = 0
    format: str = ""

    def definition(self) -> dict[str, Any]:
        doc = self.doc if isinstance(self.doc, str) else field_doc(*self.doc)
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": doc,
            "priority": self.priority,
        }


Cells = Callable[[Obj, datetime], list[Any]]


@dataclass(frozen=True, slots=True)
class Printer:
    """The columns of a kind and how to fill a row of them from an object at ``now``."""

    columns: tuple[Column, ...]
    cells: Cells
    #: Optional row conditions (upstream marks finished pods ``Completed``).
    conditions: Callable[[Obj], list[dict[str, str]]] | None = None


@functools.cache
def field_doc(definition: str, field: str) -> str:
    """The description of ``field`` in ``definition`` (short names like ``core.v1.PodSpec``
    and ``meta.v1.ObjectMeta`` are expanded), or "" if the schema has none."""
    if definition.startswith("meta."):
        definition = "io.k8s.apimachinery.pkg.apis." + definition
    elif not definition.startswith("io."):
        definition = "io.k8s.api." + definition
    node = load_schema().definitions.get(definition, {})
    prop = (node.get("properties") or {}).get(field) or {}
    return str(prop.get("description", ""))


NAME = Column("Name", doc=("meta.v1.ObjectMeta", "name"), format="name")
AGE = Column("Age", doc=("meta.v1.ObjectMeta", "creationTimestamp"))
CREATED_AT = Column("Created At", type="date", doc=("meta.v1.ObjectMeta", "creationTimestamp"))
CONTAINERS = Column("Containers", doc="Names of each container in the template.", priority=1)
IMAGES = Column("Images", doc="Images referenced by each container in the template.", priority=1)


# -- getters --------------------------------------------------------------------------------


def get(obj: Any, *path: str) -> Any:
    """``obj[path[0]][path[1]]...``, or None where any step is missing or not a mapping."""
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def text(obj: Any, *path: str) -> str:
    value = get(obj, *path)
    return value if isinstance(value, str) else ""


def number(obj: Any, *path: str, default: int = 0) -> int:
    value = get(obj, *path)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def items(obj: Any, *path: str) -> list[Any]:
    value = get(obj, *path)
    return value if isinstance(value, list) else []


def mapping(obj: Any, *path: str) -> Mapping[str, Any]:
    value = get(obj, *path)
    return value if isinstance(value, Mapping) else {}


def name(obj: Obj) -> str:
    return text(obj, "metadata", "name")


# -- time -----------------------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp (``Time`` or ``MicroTime``) as an aware datetime, else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def human_duration(d: timedelta) -> str:
    """Upstream's ``duration.HumanDuration``: about two significant figures, e.g. ``45s``,
    ``3m20s``, ``15m``, ``5h10m``, ``2d3h``, ``45d``, ``3y12d``."""
    seconds = math.trunc(d.total_seconds())
    # Clocks disagree a little: up to a second in the future still reads as now.
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        s = seconds % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def since(value: Any, now: datetime) -> str:
    """How long ago ``value`` (a timestamp string) was, or ``<unknown>``."""
    when = parse_time(value)
    return "<unknown>" if when is None else human_duration(now - when)


def age(obj: Obj, now: datetime) -> str:
    return since(get(obj, "metadata", "creationTimestamp"), now)


def created_at(obj: Obj) -> str:
    when = parse_time(get(obj, "metadata", "creationTimestamp"))
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else "<unknown>"


# -- formats --------------------------------------------------------------------------------


def format_labels(labels: Any) -> str:
    """``a=1,b=2`` sorted by key, or ``<none>``."""
    if not isinstance(labels, Mapping) or not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def containers_and_images(pod_spec: Any) -> tuple[str, str]:
    containers = items(pod_spec, "containers")
    return (
        ",".join(text(c, "name") for c in containers),
        ",".join(text(c, "image") for c in containers),
    )


def or_none(value: str) -> str:
    return value or "<none>"


def join_limited(values: Sequence[str], total: int, limit: int = 3) -> str:
    """The first ``limit`` values and ``+ N more...`` for the rest of ``total``."""
    shown = ",".join(values[:limit])
    return f"{shown} + {total - limit} more..." if total > limit else shown


def int_or_string(value: Any) -> str:
    return str(value) if value is not None else ""


def condition_status(obj: Obj, kind: str) -> str | None:
    """The status (``True``/``False``/``Unknown``) of the condition of type ``kind``."""
    for cond in items(obj, "status", "conditions"):
        if isinstance(cond, Mapping) and cond.get("type") == kind:
            status = cond.get("status")
            return status if isinstance(status, str) else None
    return None


def bool_ptr(value: Any) -> str:
    if value is None:
        return "<unset>"
    return "True" if value else "False"


def simple_cells(*cells: Any) -> Cells:
    """Cells: the name, then each of ``cells`` (a field path tuple, or a function of the
    object), then the age."""

    def fill(obj: Obj, now: datetime) -> list[Any]:
        row: list[Any] = [name(obj)]
        for cell in cells:
            row.append(cell(obj) if callable(cell) else get(obj, *cell))
        row.append(age(obj, now))
        return row

    return fill


def count_of(*fields: str) -> Callable[[Obj], int]:
    """The number of entries in the given top-level map or list fields, together."""

    def count(obj: Obj) -> int:
        return sum(len(v) for f in fields if isinstance(v := obj.get(f), Mapping | list))

    return count
