"""The DIAN rule catalogue: what each ``Regla`` of a DIAN answer checks and how to fix it.

DIAN answers carry ``ErrorMessage`` strings such as ``Regla: FAD06, Rechazo: Valor del
CUFE no está calculado correctamente.`` (parsed into :class:`RuleMessage` by
:mod:`fe_tui.dian.messages`). This module explains them to a support agent: what DIAN
checked, which element (XPath), the usual fix, and whether the meaning is confirmed
(SPEC §10.1–10.2, §15.6).

The catalogue lives in the package data file ``fe_tui/data/rules.json``; it is loaded
once and cached. Each entry keeps DIAN's message text in ``dian_text``; when SPEC gives
no literal text, the entry carries a faithful wording and ``dian_text_literal`` is false.
:func:`explain` never replaces the text DIAN actually sent: it only adds the explanation.

:func:`message` builds the :class:`RuleMessage` DIAN would send for a rule; the local DIAN
simulator uses it.
"""

from __future__ import annotations

import json
import re
import string
import unicodedata
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from fe_tui.dian.messages import RuleMessage

Kind = Literal["Rechazo", "Notificación"]

#: Document type codes (SPEC §1.1) a rule may apply to.
DOCUMENT_TYPES = frozenset({"01", "02", "03", "04", "05", "91", "92", "95", "96"})
#: Roots an XPath may start with; ``*`` is for rules that apply to several roots.
XPATH_ROOTS = frozenset({"Invoice", "CreditNote", "DebitNote", "ApplicationResponse", "*"})
#: Placeholders :func:`message` cannot fill because they are its own parameter names.
_RESERVED_PLACEHOLDERS = frozenset({"code", "kind"})

_REGLA_PREFIX = re.compile(r"^regla\b\s*:?\s*", re.IGNORECASE)
_KIND_ORDER = {"Rechazo": 0, None: 1, "Notificación": 2}


class Rule(BaseModel):
    """One entry of the catalogue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[A-Za-z0-9]+$")  #: as DIAN writes it, e.g. "FAD09e", "90"
    kind: Kind  #: the usual severity
    documents: tuple[str, ...] = Field(min_length=1)  #: document type codes (SPEC §1.1)
    dian_text: str = Field(min_length=1)  #: DIAN's text; may hold ``{placeholders}``
    dian_text_literal: bool  #: False: wording in DIAN's style, not DIAN's literal text
    explanation: str = Field(min_length=1)  #: Spanish, for a support agent
    xpath: str  #: the element checked
    fix: str = Field(min_length=1)  #: Spanish, the usual fix
    confirmed: bool  #: False where SPEC marks the meaning UNCONFIRMED
    source: str = Field(min_length=1)  #: SPEC source tag(s)

    @field_validator("documents")
    @classmethod
    def _known_documents(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - DOCUMENT_TYPES)
        if unknown:
            raise ValueError(f"tipos de documento desconocidos: {unknown}")
        if len(set(value)) != len(value):
            raise ValueError("tipos de documento repetidos")
        return value

    @field_validator("xpath")
    @classmethod
    def _rooted_xpath(cls, value: str) -> str:
        parts = value.split("/")
        if not value.startswith("/") or len(parts) < 2 or parts[1] not in XPATH_ROOTS:
            raise ValueError(f"la XPath debe empezar por /{{{', '.join(sorted(XPATH_ROOTS))}}}")
        return value

    @field_validator("dian_text")
    @classmethod
    def _valid_placeholders(cls, value: str) -> str:
        names = _placeholders(value)
        bad = [n for n in names if not n.isidentifier() or n in _RESERVED_PLACEHOLDERS]
        if bad:
            raise ValueError(f"marcadores inválidos en el texto: {bad}")
        return value

    @property
    def placeholders(self) -> tuple[str, ...]:
        """Names of the ``{placeholders}`` in :attr:`dian_text`, in order."""
        return _placeholders(self.dian_text)


class ExplainedRule(BaseModel):
    """What the UI and the CLI show for each message of a DIAN answer."""

    model_config = ConfigDict(frozen=True)

    code: str | None  #: as it came; None when the message has no rule code
    kind: str | None  #: as it came: "Rechazo", "Notificación" or None
    dian_text: str  #: DIAN's literal text as it came (never replaced)
    known: bool  #: the code is in the catalogue
    explanation: str | None
    xpath: str | None
    fix: str | None
    confirmed: bool | None


def _placeholders(text: str) -> tuple[str, ...]:
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:  # unbalanced braces
        raise ValueError(f"texto con llaves mal formadas: {exc}") from None
    return tuple(fields)


def _key(code: str) -> str:
    """Lookup key: case-insensitive, without a leading "Regla" / "Regla:"."""
    return _REGLA_PREFIX.sub("", code.strip()).strip().casefold()


def _fold(text: str) -> str:
    """Case- and accent-insensitive form of ``text`` with whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


@cache
def _rules() -> tuple[Rule, ...]:
    data = resources.files("fe_tui").joinpath("data/rules.json").read_text(encoding="utf-8")
    rules = TypeAdapter(tuple[Rule, ...]).validate_python(json.loads(data))
    seen: set[str] = set()
    for rule in rules:
        key = _key(rule.code)
        if key in seen:
            raise ValueError(f"Regla repetida en el catálogo: {rule.code}")
        seen.add(key)
    return rules


@cache
def _index() -> dict[str, Rule]:
    return {_key(rule.code): rule for rule in _rules()}


@cache
def _haystacks() -> tuple[tuple[Rule, str, tuple[str, str]], ...]:
    return tuple(
        (rule, _fold(rule.code), (_fold(rule.dian_text), _fold(rule.explanation)))
        for rule in _rules()
    )


def catalogue() -> dict[str, Rule]:
    """All rules, keyed by code as DIAN writes it, in catalogue order (a fresh dict)."""
    return {rule.code: rule for rule in _rules()}


def get(code: str) -> Rule | None:
    """The rule for ``code``: case-insensitive; also accepts "Regla 90" / "Regla: 90" / "90"."""
    key = _key(code)
    return _index().get(key) if key else None


def explain(message: RuleMessage) -> ExplainedRule:
    """Explain one message; DIAN's text is kept as it came, unknown codes are marked unknown."""
    rule = get(message.code) if message.code else None
    return ExplainedRule(
        code=message.code,
        kind=message.kind,
        dian_text=message.text,
        known=rule is not None,
        explanation=rule.explanation if rule else None,
        xpath=rule.xpath if rule else None,
        fix=rule.fix if rule else None,
        confirmed=rule.confirmed if rule else None,
    )


def explain_all(messages: Iterable[RuleMessage]) -> list[ExplainedRule]:
    """Explain every message: rejections first, then messages without a kind, then
    notifications; the order DIAN gave is kept within each group."""
    explained = [explain(m) for m in messages]
    return sorted(explained, key=lambda e: _KIND_ORDER.get(e.kind, 1))


def _kind(kind: str) -> Kind:
    folded = _fold(kind)
    if folded == "rechazo":
        return "Rechazo"
    if folded == "notificacion":
        return "Notificación"
    raise ValueError(f"Tipo de mensaje desconocido: {kind!r} (use Rechazo o Notificación).")


def message(code: str, kind: str | None = None, **values: str) -> RuleMessage:
    """The :class:`RuleMessage` DIAN would send for ``code`` (used by the local simulator).

    ``text`` is the rule's ``dian_text`` filled with ``values``; ``kind`` defaults to the
    rule's usual severity. Raises KeyError for an unknown code or a placeholder without a
    value, and ValueError for a kind other than Rechazo/Notificación.
    """
    rule = get(code)
    if rule is None:
        raise KeyError(f"Regla desconocida: {code!r}")
    missing = [name for name in rule.placeholders if name not in values]
    if missing:
        raise KeyError(f"La regla {rule.code} necesita valores para: {', '.join(missing)}")
    resolved: Kind = rule.kind if kind is None else _kind(kind)
    text = rule.dian_text.format(**values)
    return RuleMessage(
        code=rule.code, kind=resolved, text=text, raw=f"Regla: {rule.code}, {resolved}: {text}"
    )


def search(text: str) -> list[Rule]:
    """Rules whose code, DIAN text or explanation contain ``text`` (case- and
    accent-insensitive); code matches first, then text matches, each in catalogue order.
    An empty query returns the whole catalogue."""
    query = _fold(text)
    if not query:
        return list(_rules())
    by_code = [rule for rule, code, _ in _haystacks() if query in code]
    by_text = [
        rule
        for rule, code, texts in _haystacks()
        if query not in code and any(query in t for t in texts)
    ]
    return by_code + by_text
