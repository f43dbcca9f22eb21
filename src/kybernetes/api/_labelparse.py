"""The label selector string grammar: a lexer and recursive-descent parser matching upstream's.

Promises: :func:`parse_label_selector` accepts and rejects the same strings as upstream's
``labels.Parse`` and reports the same messages (``unable to parse requirement: ...``,
``found 'x', expected: ...``). Grammar::

    selector    ::= "" | requirement ("," requirement)*
    requirement ::= ["!"] KEY [ ("in" | "notin") "(" [VALUE ("," VALUE)*] ")"
                              | ("=" | "==" | "!=" | ">" | "<") [VALUE] ]

Blanks (space, tab, CR, LF) separate tokens and are otherwise ignored. ``in`` and ``notin``
are keywords only where an operator is expected, so ``in in (in)`` is a valid selector.
Like upstream's lexer, a NUL character reads as the end of the input.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kybernetes.api._errors import go_quote
from kybernetes.api._labels import (
    LabelOperator,
    LabelRequirement,
    LabelSelector,
    SelectorError,
    invalid_value,
)
from kybernetes.api._names import is_qualified_name


class _Tok(enum.Enum):
    ERROR = enum.auto()
    END = enum.auto()
    CLOSE_PAR = enum.auto()
    COMMA = enum.auto()
    NOT = enum.auto()
    DOUBLE_EQUALS = enum.auto()
    EQUALS = enum.auto()
    GREATER = enum.auto()
    IDENT = enum.auto()
    IN = enum.auto()
    LESS = enum.auto()
    NOT_EQUALS = enum.auto()
    NOT_IN = enum.auto()
    OPEN_PAR = enum.auto()


_LITERALS = {
    ")": _Tok.CLOSE_PAR,
    ",": _Tok.COMMA,
    "!": _Tok.NOT,
    "==": _Tok.DOUBLE_EQUALS,
    "=": _Tok.EQUALS,
    ">": _Tok.GREATER,
    "in": _Tok.IN,
    "<": _Tok.LESS,
    "!=": _Tok.NOT_EQUALS,
    "notin": _Tok.NOT_IN,
    "(": _Tok.OPEN_PAR,
}
_SPECIAL = frozenset("=!(),><")
_BLANK = frozenset(" \t\r\n")
_END = "\0"

_BINARY_OPS = {
    _Tok.IN: LabelOperator.IN,
    _Tok.NOT_IN: LabelOperator.NOT_IN,
    _Tok.EQUALS: LabelOperator.EQUALS,
    _Tok.DOUBLE_EQUALS: LabelOperator.DOUBLE_EQUALS,
    _Tok.NOT_EQUALS: LabelOperator.NOT_EQUALS,
    _Tok.GREATER: LabelOperator.GREATER_THAN,
    _Tok.LESS: LabelOperator.LESS_THAN,
}
_EXPECTED_OPS = "in, notin, =, ==, !=, gt, lt"


@dataclass(frozen=True, slots=True)
class _Item:
    tok: _Tok
    text: str


class _Lexer:
    def __init__(self, text: str) -> None:
        self._s = text
        self._pos = 0

    def _read(self) -> str:
        # Past the end reads NUL without moving, exactly as upstream's byte lexer does.
        if self._pos < len(self._s):
            ch = self._s[self._pos]
            self._pos += 1
            return ch
        return _END

    def _unread(self) -> None:
        self._pos -= 1

    def lex(self) -> _Item:
        ch = self._read()
        while ch in _BLANK:
            ch = self._read()
        if ch == _END:
            return _Item(_Tok.END, "")
        self._unread()
        return self._symbol() if ch in _SPECIAL else self._word()

    def _word(self) -> _Item:
        chars: list[str] = []
        while True:
            ch = self._read()
            if ch == _END:
                break
            if ch in _SPECIAL or ch in _BLANK:
                self._unread()
                break
            chars.append(ch)
        text = "".join(chars)
        return _Item(_LITERALS.get(text, _Tok.IDENT), text)

    def _symbol(self) -> _Item:
        # Longest run of symbol characters that still spells an operator ("!=" over "!").
        buf = ""
        best: _Item | None = None
        while True:
            ch = self._read()
            if ch == _END:
                break
            if ch not in _SPECIAL:
                self._unread()
                break
            buf += ch
            tok = _LITERALS.get(buf)
            if tok is not None:
                best = _Item(tok, buf)
            elif best is not None:
                self._unread()
                break
        return best or _Item(_Tok.ERROR, f"error expected: keyword found '{buf}'")


class _Parser:
    def __init__(self, text: str) -> None:
        lexer = _Lexer(text)
        self._items: list[_Item] = []
        while True:
            item = lexer.lex()
            self._items.append(item)
            if item.tok is _Tok.END:
                break
        self._pos = 0

    def _peek(self, as_value: bool = True) -> _Item:
        return self._as(self._items[self._pos], as_value)

    def _next(self, as_value: bool = True) -> _Item:
        item = self._items[self._pos]
        self._pos += 1
        return self._as(item, as_value)

    @staticmethod
    def _as(item: _Item, as_value: bool) -> _Item:
        # Where a value or key is expected, the keywords are ordinary identifiers.
        if as_value and item.tok in (_Tok.IN, _Tok.NOT_IN):
            return _Item(_Tok.IDENT, item.text)
        return item

    def parse(self) -> list[LabelRequirement]:
        out: list[LabelRequirement] = []
        while True:
            item = self._peek()
            if item.tok is _Tok.END:
                return out
            if item.tok not in (_Tok.IDENT, _Tok.NOT):
                raise SelectorError(
                    f"found '{item.text}', expected: !, identifier, or 'end of string'"
                )
            try:
                out.append(self._requirement())
            except SelectorError as err:
                raise SelectorError(f"unable to parse requirement: {err}") from None
            after = self._next()
            if after.tok is _Tok.END:
                return out
            if after.tok is not _Tok.COMMA:
                raise SelectorError(f"found '{after.text}', expected: ',' or 'end of string'")
            following = self._peek()
            if following.tok not in (_Tok.IDENT, _Tok.NOT):
                raise SelectorError(f"found '{following.text}', expected: identifier after ','")

    def _requirement(self) -> LabelRequirement:
        negated = False
        item = self._next()
        if item.tok is _Tok.NOT:
            negated = True
            item = self._next()
        if item.tok is not _Tok.IDENT:
            raise SelectorError(f"found '{item.text}', expected: identifier")
        key = item.text
        key_errs = is_qualified_name(key)
        if key_errs:
            # Upstream validates here with a nil field path, which prints as "<nil>".
            raise SelectorError("<nil>: " + invalid_value(go_quote(key), "; ".join(key_errs)))
        if negated:
            return LabelRequirement.create(key, LabelOperator.DOES_NOT_EXIST)
        if self._peek().tok in (_Tok.END, _Tok.COMMA):
            return LabelRequirement.create(key, LabelOperator.EXISTS)
        op_item = self._next(as_value=False)
        op = _BINARY_OPS.get(op_item.tok)
        if op is None:
            raise SelectorError(f"found '{op_item.text}', expected: {_EXPECTED_OPS}")
        if op in (LabelOperator.IN, LabelOperator.NOT_IN):
            values = self._value_set()
        else:
            values = {self._exact_value()}
        return LabelRequirement.create(key, op, sorted(values))

    def _value_set(self) -> set[str]:
        item = self._next()
        if item.tok is not _Tok.OPEN_PAR:
            raise SelectorError(f"found '{item.text}' expected: '('")
        first = self._peek()
        if first.tok is _Tok.CLOSE_PAR:
            self._next()
            return {""}
        if first.tok not in (_Tok.IDENT, _Tok.COMMA):
            raise SelectorError(f"found '{first.text}', expected: ',', ')' or identifier")
        values = self._identifiers()
        if self._next().tok is not _Tok.CLOSE_PAR:
            # Upstream reports the token after "(" here, not the offending one.
            raise SelectorError(f"found '{first.text}', expected: ')'")
        return values

    def _identifiers(self) -> set[str]:
        # Empty entries are the empty value: "(,a)", "(a,)" and "(a,,b)" all contain "".
        values: set[str] = set()
        while True:
            item = self._next()
            if item.tok is _Tok.IDENT:
                values.add(item.text)
                after = self._peek()
                if after.tok is _Tok.CLOSE_PAR:
                    return values
                if after.tok is not _Tok.COMMA:
                    raise SelectorError(f"found '{after.text}', expected: ',' or ')'")
            elif item.tok is _Tok.COMMA:
                if not values:
                    values.add("")
                after = self._peek()
                if after.tok is _Tok.CLOSE_PAR:
                    values.add("")
                    return values
                if after.tok is _Tok.COMMA:
                    self._next()
                    values.add("")
            else:
                raise SelectorError(f"found '{item.text}', expected: ',', or identifier")

    def _exact_value(self) -> str:
        if self._peek().tok in (_Tok.END, _Tok.COMMA):
            return ""
        item = self._next()
        if item.tok is not _Tok.IDENT:
            raise SelectorError(f"found '{item.text}', expected: identifier")
        return item.text


def parse_label_selector(text: str) -> LabelSelector:
    """Parse the string form (``?labelSelector=``, ``kubectl -l``); raise :class:`SelectorError`.

    The empty string (or only blanks) is the selector that matches everything.
    """
    return LabelSelector.of(_Parser(text).parse())
