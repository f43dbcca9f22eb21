"""Field selectors: parsing, escaping, per-resource support and matching, as upstream's ``fields``.

Promises:

- :func:`parse_field_selector` accepts exactly what upstream's ``fields.ParseSelector``
  accepts: comma-separated ``field=value``, ``field==value`` or ``field!=value`` terms; in a
  value ``\\,`` ``\\=`` ``\\\\`` are escapes and a bare ``,`` or ``=`` is an error; nothing is
  trimmed. Errors are :class:`SelectorError` with upstream's messages.
- Terms are kept sorted by their text, as upstream does, so ``str()`` (upstream's
  ``String()``, values re-escaped) is canonical and ``parse(str(s)) == s``.
- :meth:`FieldSelector.for_resource` checks every field against the resource's supported
  labels (raising upstream's ``field label not supported: foo`` or its per-kind variant, which
  the API server answers as a 400) and returns a selector that reads fields the way the
  resource's ``ToSelectableFields`` does. An unbound selector reads plain dotted paths.
- Matching never raises; a field the object lacks reads ``""``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Literal

from kybernetes.api._fieldlabels import FieldLabels, field_labels_for, field_value
from kybernetes.api._labels import SelectorError

FieldOperator = Literal["=", "!="]

# "==" before "=" so "a==b" does not leave "=b" as the value.
_TERM_OPERATORS = ("!=", "==", "=")


def escape_field_value(value: str) -> str:
    """Escape ``value`` for use on the right of a field selector term."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def unescape_field_value(text: str) -> str:
    """Undo :func:`escape_field_value`; raise :class:`SelectorError` on a bad sequence."""
    if not any(c in text for c in "\\,="):
        return text
    out: list[str] = []
    escaped = False
    for ch in text:
        if escaped:
            if ch not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{ch}")
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in ",=":
            # Upstream prints the rune with %v, i.e. its code point as a number.
            raise SelectorError(f"invalid field selector: unescaped character in value: {ord(ch)}")
        else:
            out.append(ch)
    if escaped:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _split_terms(text: str) -> list[str]:
    # Split on commas that are not escaped; the backslashes stay in the terms.
    terms: list[str] = []
    start = 0
    escaped = False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    # The first operator occurrence splits; the field part cannot be escaped.
    for i in range(len(term)):
        for op in _TERM_OPERATORS:
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op) :]
    return None


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    """``field = value`` or ``field != value`` (``==`` parses as ``=``)."""

    field: str
    operator: FieldOperator
    value: str

    def matches_value(self, actual: str) -> bool:
        return (actual == self.value) == (self.operator == "=")

    def __str__(self) -> str:
        return f"{self.field}{self.operator}{escape_field_value(self.value)}"


@dataclass(frozen=True, slots=True)
class FieldSelector:
    """An AND of field requirements. ``FieldSelector()`` matches everything."""

    requirements: tuple[FieldRequirement, ...] = ()
    #: The resource's field rules once bound by :meth:`bind`; None reads plain dotted paths.
    field_labels: FieldLabels | None = dataclass_field(default=None, compare=False, repr=False)

    @property
    def empty(self) -> bool:
        return not self.requirements

    def for_resource(self, group: str, resource: str) -> FieldSelector:
        """Check and bind to a built-in resource; raise :class:`SelectorError` if unsupported."""
        return self.bind(field_labels_for(group, resource))

    def bind(self, labels: FieldLabels) -> FieldSelector:
        """Check every field against ``labels`` (aliases rewritten) and read fields by them."""
        converted = [
            FieldRequirement(labels.convert(r.field), r.operator, r.value)
            for r in self.requirements
        ]
        return FieldSelector(tuple(sorted(converted, key=str)), labels)

    def matches(self, obj: Mapping[str, Any]) -> bool:
        """Whether the JSON-shaped ``obj`` satisfies every requirement."""
        rules = self.field_labels
        for r in self.requirements:
            actual = rules.value(obj, r.field) if rules is not None else field_value(obj, r.field)
            if not r.matches_value(actual):
                return False
        return True

    def matches_fields(self, fields: Mapping[str, str]) -> bool:
        """Match against precomputed fields (missing reads ``""``), e.g. ``FieldLabels.fields``."""
        return all(r.matches_value(fields.get(r.field, "")) for r in self.requirements)

    def requires_exact_match(self, field_label: str) -> str | None:
        """The value the first ``=`` requirement on ``field_label`` demands, if any."""
        for r in self.requirements:
            if r.field == field_label and r.operator == "=":
                return r.value
        return None

    def exact_matches(self) -> dict[str, str]:
        """Every ``field -> value`` a match must have, for index lookups before matching."""
        out: dict[str, str] = {}
        for r in self.requirements:
            if r.operator == "=":
                out.setdefault(r.field, r.value)
        return out

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def parse_field_selector(text: str) -> FieldSelector:
    """Parse the string form (``?fieldSelector=``); raise :class:`SelectorError`.

    The empty string (or only commas) is the selector that matches everything.
    """
    requirements: list[FieldRequirement] = []
    # Sorted first so the error reported is that of the same term upstream reports.
    for term in sorted(_split_terms(text)):
        if not term:
            continue
        split = _split_term(term)
        if split is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
        name, op, raw = split
        value = unescape_field_value(raw)
        requirements.append(FieldRequirement(name, "!=" if op == "!=" else "=", value))
    # Upstream sorts the raw terms; sorting the rendered ones differs only where "==" was
    # written, and makes the string form a fixed point.
    return FieldSelector(tuple(sorted(requirements, key=str)))
