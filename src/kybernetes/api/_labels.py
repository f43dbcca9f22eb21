"""Label selectors: parsing, matching and the canonical string form, as upstream's ``labels``.

Promises:

- :func:`~kybernetes.api._labelparse.parse_label_selector` accepts exactly the strings
  upstream's ``labels.Parse`` accepts (``a=b``, ``a==b``, ``a!=b``, ``a in (x,y)``,
  ``a notin (x)``, ``a``, ``!a``, ``a>1``, ``a<1``, comma-separated, blanks around tokens
  ignored) and rejects the rest with :class:`SelectorError` carrying upstream's message
  (the API server answers it as a 400).
- A :class:`LabelSelector` is immutable. Its requirements are sorted by key (stably), and
  ``str()`` gives upstream's ``String()``, so ``parse(str(s)) == s`` for every parsed ``s``.
- The empty selector matches everything; :meth:`LabelSelector.nothing` (what a ``null`` API
  selector becomes) matches nothing. Neither ever raises while matching.

Pure functions over plain data; no I/O.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kybernetes.api._errors import aggregate_message, go_quote
from kybernetes.api._names import is_qualified_name, is_valid_label_value


class SelectorError(ValueError):
    """A label or field selector that cannot be parsed or is not supported (HTTP 400)."""


class LabelOperator(enum.StrEnum):
    """Upstream's ``selection.Operator`` values."""

    # In upstream's order, which its "supported values" message lists.
    IN = "in"
    NOT_IN = "notin"
    EQUALS = "="
    DOUBLE_EQUALS = "=="
    NOT_EQUALS = "!="
    GREATER_THAN = "gt"
    LESS_THAN = "lt"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"


_Op = LabelOperator
_SET_OPS = frozenset({_Op.IN, _Op.NOT_IN})
_EXACT_OPS = frozenset({_Op.EQUALS, _Op.DOUBLE_EQUALS, _Op.NOT_EQUALS})
_NUMERIC_OPS = frozenset({_Op.GREATER_THAN, _Op.LESS_THAN})
_UNARY_OPS = frozenset({_Op.EXISTS, _Op.DOES_NOT_EXIST})
_INFIX = {
    _Op.EQUALS: "=",
    _Op.DOUBLE_EQUALS: "==",
    _Op.NOT_EQUALS: "!=",
    _Op.IN: " in ",
    _Op.NOT_IN: " notin ",
    _Op.GREATER_THAN: ">",
    _Op.LESS_THAN: "<",
}

# strconv.ParseInt(s, 10, 64): optional sign, ASCII digits only, int64 range.
_GO_INT_RE = re.compile(r"[+-]?[0-9]+")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _parse_int64(text: str) -> int | None:
    if not _GO_INT_RE.fullmatch(text):
        return None
    value = int(text)
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def invalid_value(shown: str, detail: str) -> str:
    """The body of upstream's ``field.Invalid`` error for an already-printed bad value."""
    return f"Invalid value: {shown}: {detail}"


def _go_string_slice(values: list[str]) -> str:
    # How upstream's error body prints a []string bad value (%#v).
    return "[]string{" + ", ".join(go_quote(v) for v in values) + "}"


def _operator(operator: LabelOperator | str) -> LabelOperator | None:
    try:
        return LabelOperator(operator)
    except ValueError:
        return None


def _value_count_errors(op: LabelOperator, vals: list[str]) -> list[str]:
    """Upstream's per-operator checks on how many values there are (and Gt/Lt integers)."""
    bad = _go_string_slice(vals)
    if op in _SET_OPS and not vals:
        # LabelSelectorAsSelector hands NewRequirement a nil slice, printed as such.
        detail = "for 'in', 'notin' operators, values set can't be empty"
        return ["values: " + invalid_value("[]string(nil)", detail)]
    if op in _EXACT_OPS and len(vals) != 1:
        return [
            "values: " + invalid_value(bad, "exact-match compatibility requires one single value")
        ]
    if op in _UNARY_OPS and vals:
        detail = "values set must be empty for exists and does not exist"
        return ["values: " + invalid_value(bad, detail)]
    errs: list[str] = []
    if op in _NUMERIC_OPS:
        if len(vals) != 1:
            detail = "for 'Gt', 'Lt' operators, exactly one value is required"
            errs.append("values: " + invalid_value(bad, detail))
        for i, v in enumerate(vals):
            if _parse_int64(v) is None:
                detail = "for 'Gt', 'Lt' operators, the value must be an integer"
                errs.append(f"values[{i}]: " + invalid_value(go_quote(v), detail))
    return errs


@dataclass(frozen=True, slots=True)
class LabelRequirement:
    """One ``key op values`` term. Build validated ones with :meth:`create`."""

    key: str
    operator: LabelOperator
    values: tuple[str, ...] = ()

    @classmethod
    def create(
        cls, key: str, operator: LabelOperator | str, values: Iterable[str] = ()
    ) -> LabelRequirement:
        """Validate as upstream's ``NewRequirement``; raise :class:`SelectorError`."""
        vals = list(values)
        errs: list[str] = []
        key_errs = is_qualified_name(key)
        if key_errs:
            errs.append("key: " + invalid_value(go_quote(key), "; ".join(key_errs)))
        op = _operator(operator)
        if op is None:
            supported = ", ".join(go_quote(o.value) for o in LabelOperator)
            errs.append(
                f"operator: Unsupported value: {go_quote(str(operator))}: "
                f"supported values: {supported}"
            )
        else:
            errs.extend(_value_count_errors(op, vals))
        for i, v in enumerate(vals):
            value_errs = is_valid_label_value(v)
            if value_errs:
                errs.append(
                    f"values[{i}][{key}]: " + invalid_value(go_quote(v), "; ".join(value_errs))
                )
        if errs or op is None:
            raise SelectorError(aggregate_message(errs))
        return cls(key, op, tuple(vals))

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        present = self.key in labels
        if op in (_Op.IN, _Op.EQUALS, _Op.DOUBLE_EQUALS):
            return present and labels[self.key] in self.values
        if op in (_Op.NOT_IN, _Op.NOT_EQUALS):
            return not present or labels[self.key] not in self.values
        if op is _Op.EXISTS:
            return present
        if op is _Op.DOES_NOT_EXIST:
            return not present
        # Gt / Lt: both sides must be int64s; anything else simply does not match.
        if not present or len(self.values) != 1:
            return False
        have, want = _parse_int64(labels[self.key]), _parse_int64(self.values[0])
        if have is None or want is None:
            return False
        return have > want if op is _Op.GREATER_THAN else have < want

    def __str__(self) -> str:
        op = self.operator
        if op is _Op.EXISTS:
            return self.key
        if op is _Op.DOES_NOT_EXIST:
            return "!" + self.key
        # Several values print sorted (upstream normalises on output only) and, unlike
        # upstream, once each: its "a in (,,)" for ["", "", ""] does not parse back.
        shown = ",".join(sorted(set(self.values)))
        if op in _SET_OPS:
            shown = f"({shown})"
        return f"{self.key}{_INFIX[op]}{shown}"


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """An AND of requirements (sorted by key). ``LabelSelector()`` matches everything."""

    requirements: tuple[LabelRequirement, ...] = ()
    #: True only for :meth:`nothing`, the selector of a ``null`` API selector.
    matches_nothing: bool = False

    @classmethod
    def everything(cls) -> LabelSelector:
        return _EVERYTHING

    @classmethod
    def nothing(cls) -> LabelSelector:
        return _NOTHING

    @classmethod
    def of(cls, requirements: Iterable[LabelRequirement]) -> LabelSelector:
        """A selector of ``requirements``, sorted by key as upstream's ``Add`` does."""
        return cls(tuple(sorted(requirements, key=lambda r: r.key)))

    @classmethod
    def from_set(cls, labels: Mapping[str, str] | None) -> LabelSelector:
        """``key=value`` for every label (upstream's ``SelectorFromSet``; not validated)."""
        if not labels:
            return _EVERYTHING
        return cls.of(LabelRequirement(k, _Op.EQUALS, (v,)) for k, v in labels.items())

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything (the nothing selector is not)."""
        return not self.requirements and not self.matches_nothing

    def add(self, *requirements: LabelRequirement) -> LabelSelector:
        if self.matches_nothing:
            return self
        return LabelSelector.of((*self.requirements, *requirements))

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.matches_nothing:
            return False
        have = labels if labels is not None else {}
        return all(r.matches(have) for r in self.requirements)

    def requires_exact_match(self, key: str) -> str | None:
        """The one value ``key`` must have, judged by its first requirement (as upstream)."""
        for r in self.requirements:
            if r.key == key:
                exact = r.operator in (_Op.EQUALS, _Op.DOUBLE_EQUALS, _Op.IN)
                return r.values[0] if exact and len(r.values) == 1 else None
        return None

    def exact_matches(self) -> dict[str, str]:
        """Every ``key -> value`` a match must carry, for index lookups before matching."""
        out: dict[str, str] = {}
        for r in self.requirements:
            if r.key not in out:
                value = self.requires_exact_match(r.key)
                if value is not None:
                    out[r.key] = value
        return out

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


_EVERYTHING = LabelSelector()
_NOTHING = LabelSelector(matches_nothing=True)
