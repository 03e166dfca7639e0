"""The DIAN rule catalogue: what each ``Regla`` of a DIAN answer checks and how to fix it.

DIAN answers carry ``ErrorMessage`` strings such as ``Regla: FAD06, Rechazo: Valor del
CUFE no está calculado correctamente.`` (parsed into :class:`RuleMessage` by
:mod:`fe_tui.dian.messages`). This module explains them to a support agent: what DIAN
checked, which element (XPath), the usual fix, and whether the meaning is confirmed
(SPEC §10.1–10.2, §15.6).

The catalogue lives in the package data file ``fe_tui/data/rules.json``; it is loaded
once and cached. Each entry keeps DIAN's message text in ``dian_text``; when SPEC gives
no literal text, the entry carries a faithful wording and ``dian_text_literal`` is false.
:func:`explain` never replaces the text DIAN actually sent (it only collapses whitespace)
and adds the explanation; a code without an entry is explained from its invoice twin
(:func:`mirror`: CAJ24 → FAJ24) or from its family letters (:func:`family`, SPEC §10.1).
:func:`matches_literal` compares a text with a literal entry, whitespace aside.

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
    dian_text: str  #: DIAN's text as it came, whitespace collapsed (never replaced)
    known: bool  #: the code itself is in the catalogue
    explanation: str | None
    xpath: str | None
    fix: str | None
    confirmed: bool | None
    #: The catalogue entry the explanation comes from when the code is a note or event
    #: variant of it (CAJ24 → FAJ24); None when the code is itself an entry or unknown.
    derived_from: str | None = None
    #: What the code's family says (document, group), for every code that has one.
    family: str | None = None


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


def normalise(text: str) -> str:
    """``text`` with runs of whitespace collapsed to one space (pretty-printed answers)."""
    return " ".join(text.split())


def matches_literal(rule: Rule, text: str) -> bool:
    """``text`` (as DIAN sent it) is the rule's literal text, whitespace aside.

    Rules whose text has ``{placeholders}`` match with any value in their place.
    """
    if not rule.placeholders:
        return normalise(rule.dian_text) == normalise(text)
    pattern = re.escape(normalise(rule.dian_text))
    for name in rule.placeholders:
        pattern = pattern.replace(re.escape("{" + name + "}"), ".*?")
    return re.fullmatch(pattern, normalise(text)) is not None


#: Document family of a code's first letters (SPEC §10.1).
_DOCUMENTS = (
    ("DS", "documento soporte"),
    ("NS", "nota de ajuste del documento soporte"),
    ("F", "factura electrónica"),
    ("C", "nota crédito"),
    ("D", "nota débito"),
    ("A", "evento (ApplicationResponse)"),
)
#: Group letter after the document letter and "A"/"B" (FAJ → J). SPEC §10.1 calls these
#: approximate; the names come from the element groups of annex 1.9's tables.
_GROUPS = {
    "AA": "encabezado del evento",
    "AB": "extensiones DIAN (sts:DianExtensions)",
    "AD": "datos básicos del encabezado (ID, UUID, fechas, tipo)",
    "AE": "periodo de facturación (cac:InvoicePeriod)",
    "AF": "referencia a orden de compra",
    "AG": "referencias a otros documentos",
    "AH": "referencias adicionales / partes del evento",
    "AI": "valores del evento",
    "AJ": "emisor (cac:AccountingSupplierParty)",
    "AK": "adquiriente (cac:AccountingCustomerParty)",
    "AL": "documentos referenciados",
    "AM": "entrega (cac:Delivery)",
    "AN": "medios de pago (cac:PaymentMeans)",
    "AQ": "cargos y descuentos (cac:AllowanceCharge)",
    "AR": "tasa de cambio (cac:PaymentExchangeRate)",
    "AS": "tributos del encabezado (cac:TaxTotal)",
    "AT": "retenciones (cac:WithholdingTaxTotal)",
    "AU": "totales (cac:LegalMonetaryTotal)",
    "AV": "líneas",
    "AW": "cantidades y valores de línea",
    "AX": "tributos de línea (cac:TaxTotal de la línea)",
    "AY": "cargos y descuentos de línea",
    "AZ": "artículo de la línea (cac:Item)",
    "BB": "precio de la línea (cac:Price)",
    "BE": "concepto de la nota (cac:DiscrepancyResponse)",
    "BF": "concepto de la nota (cac:DiscrepancyResponse)",
    "BG": "referencia a la factura (cac:BillingReference)",
}
_CROSS = {
    "ZB": "estructura: validación contra el esquema XSD",
    "ZD": "certificado digital de la firma",
    "ZE": "firma electrónica (XAdES)",
    "CTG": "contingencia",
    "VLR": "valores del documento",
    "RUT": "estado del RUT",
    "SIM": "regla propia del simulador local (la DIAN no la emite)",
}
_FAMILY_CODE = re.compile(r"^(?P<doc>DS|NS|[FCDA])(?P<group>[A-Z]{2})(?P<rest>\d+[a-z]?)$")


def family(code: str) -> str | None:
    """What a code's letters say (SPEC §10.1): document and group, in Spanish; None if no family.

    ``FAJ99`` → "Factura electrónica · emisor (cac:AccountingSupplierParty)". Status codes
    (``90``, ``89``…) answer "código de estado del servicio".
    """
    key = _REGLA_PREFIX.sub("", code.strip())
    if key.isdigit():
        return "código de estado del servicio web de la DIAN"
    for prefix, meaning in _CROSS.items():
        if key.upper().startswith(prefix):
            return f"Transversal · {meaning}"
    m = _FAMILY_CODE.match(key)
    if m is None:
        return None
    document = dict(_DOCUMENTS)[m.group("doc")]
    group = _GROUPS.get(m.group("group"))
    head = document[0].upper() + document[1:]
    return f"{head} · {group}" if group else head


def mirror(code: str) -> Rule | None:
    """The catalogue entry a note/event/support variant derives from (CAJ24 → FAJ24).

    DIAN numbers the rules of notes, events and support documents like the
    invoice's, with another first letter; the invoice (or credit-note) entry
    explains them. None when the code is itself an entry or has no such base.
    """
    key = _REGLA_PREFIX.sub("", code.strip())
    if get(key) is not None:
        return None
    m = _FAMILY_CODE.match(key)
    if m is None or m.group("doc") == "F":
        return None
    tail = m.group("group") + m.group("rest")
    return get("F" + tail) or get("C" + tail)


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
    base = mirror(message.code) if message.code and rule is None else None
    fam = family(message.code) if message.code else None
    if rule is not None:
        explanation: str | None = rule.explanation
    elif base is not None:
        head = fam.split(" · ")[0] if fam else "otro documento"
        what = head[:1].lower() + head[1:]
        explanation = f"Variante de {base.code} para {what}: {base.explanation}"
    elif fam is not None:
        explanation = (
            f"Regla aún no catalogada; por su código es de: {fam}. Lea el texto de la DIAN "
            "para saber qué elemento revisar."
        )
    else:
        explanation = None
    source = rule or base
    xpath = source.xpath if source else None
    if base is not None and xpath is not None and rule is None:
        xpath = _retarget(xpath, message.code or "")
    return ExplainedRule(
        code=message.code,
        kind=message.kind,
        dian_text=normalise(message.text),
        known=rule is not None,
        explanation=explanation,
        xpath=xpath,
        fix=source.fix if source else None,
        confirmed=source.confirmed if source else None,
        derived_from=base.code if base is not None else None,
        family=fam,
    )


_ROOT_OF = {"C": "CreditNote", "D": "DebitNote", "A": "ApplicationResponse"}
_LINE_OF = {"C": "CreditNoteLine", "D": "DebitNoteLine"}


def _retarget(xpath: str, code: str) -> str:
    """The invoice XPath of a mirrored rule, rooted where the variant applies."""
    letter = code.strip()[:1].upper()
    root = _ROOT_OF.get(letter)
    base = next((r for r in ("/Invoice", "/CreditNote") if xpath.startswith(r + "/")), None)
    if root is None or base is None:
        return xpath
    out = "/" + root + xpath[len(base) :]
    if letter in _LINE_OF:
        out = out.replace("cac:InvoiceLine", "cac:" + _LINE_OF[letter])
        out = out.replace(
            "cbc:InvoicedQuantity",
            "cbc:" + ("CreditedQuantity" if letter == "C" else "DebitedQuantity"),
        )
        if letter == "D":
            out = out.replace("cac:LegalMonetaryTotal", "cac:RequestedMonetaryTotal")
    return out


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


def render(code: str, kind: str | None = None, text: str | None = None) -> RuleMessage:
    """DIAN's message for ``code`` as it would be written, for any code.

    ``text`` (a variant the caller knows) wins; then the catalogue entry, then the
    invoice twin a note/event code mirrors (CAU02 → FAU02's text), then a neutral
    "Validación no superada.". ``kind`` defaults to the rule's usual severity.
    """
    base = get(code) or mirror(code)
    resolved: Kind = _kind(kind) if kind else (base.kind if base is not None else "Rechazo")
    if text is None:
        text = base.dian_text if base is not None and not base.placeholders else None
    body = text or "Validación no superada."
    return RuleMessage(
        code=code, kind=resolved, text=body, raw=f"Regla: {code}, {resolved}: {body}"
    )
