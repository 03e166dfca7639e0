"""Pydantic models of a document request: issuer, customer, lines, documents.

These models are the validated edge of fe-tui: the JSON given to
``fe-tui build`` (see ``examples/``) and the TUI forms both end up here, and
the UBL builder reads only validated models.

Numbers: every amount, quantity, percentage and rate is a :class:`Decimal`,
never a float (DESIGN invariant 7). JSON must therefore be read with
``json.loads(..., parse_float=Decimal)``; :func:`load_document_request` does
that. The models accept ``str``, ``int`` and ``Decimal`` for numbers and
*reject* Python floats, so a float can never sneak in from code either.
Amounts take at most 2 decimals (SPEC §11: "stick to 2"), quantities at most 6,
percentages at most 3. Do not feed JSON text to ``model_validate_json``:
pydantic would read numbers as floats first.

Errors: every check raises a Spanish message; :func:`format_validation_error`
renders a :class:`pydantic.ValidationError` as ``campo.ruta: mensaje`` lines.
Checks that involve several fields are written as model validators that name
the field they blame (see :func:`_error`).

Times: ``issue_at`` is an aware datetime; a naive one is Colombian wall-clock
time. :attr:`DocumentBase.issue_at_colombia` converts to the fixed ``-05:00``
offset (Colombia has no DST) without looking at the machine's time zone.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from fe_tui.domain import codelists, tax_rates
from fe_tui.domain.codelists import VALID_RESPONSIBILITIES, CodeList
from fe_tui.domain.colombia import COLOMBIA_TZ
from fe_tui.domain.nit import nit_check_digit
from fe_tui.domain.totals import DocumentTotals, compute, line_totals
from fe_tui.errors import InputError

__all__ = [
    "COLOMBIA_TZ",
    "Address",
    "AllowanceCharge",
    "BillingReference",
    "CreditNote",
    "Customer",
    "DebitNote",
    "Document",
    "DocumentBase",
    "DocumentRequest",
    "Environment",
    "Invoice",
    "InvoicePeriod",
    "Issuer",
    "Line",
    "LineTax",
    "PaymentMeans",
    "Resolution",
    "Software",
    "TaxScheme",
    "Withholding",
    "format_validation_error",
    "load_document_request",
]


#: Final consumer identification (SPEC §2.4).
FINAL_CONSUMER_ID = "222222222222"


# --- Error helper ------------------------------------------------------------------


def _error(message: str, path: str | None = None) -> PydanticCustomError:
    """A validation error with a Spanish ``message``.

    ``path`` (dotted, relative to the model raising it) names the field a
    model-level check blames; :func:`format_validation_error` appends it to the
    error's location. The message travels in the context so that braces in it
    are never interpreted as a template.
    """
    ctx: dict[str, Any] = {"mensaje": message}
    if path:
        ctx["ruta"] = path
    return PydanticCustomError("fe_tui", "{mensaje}", ctx)


# --- Reusable field types ----------------------------------------------------------


def _exact_number(value: Any) -> Any:
    """Reject floats and bools before pydantic parses a Decimal."""
    if isinstance(value, bool | float):
        raise _error(
            'use un número exacto (entero o texto, p. ej. "1234.50"); no se aceptan floats'
        )
    return value


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


#: Integer digits any amount may have (a value, and also a line's quantity × price or a
#: document total: DIAN's amounts are 15 integer digits at most).
MAX_INTEGER_DIGITS = 15


def _decimal_check(
    *, places: int, positive: bool = False, maximum: Decimal | None = None, quantize: bool = False
) -> Callable[[Decimal], Decimal]:
    def check(value: Decimal) -> Decimal:
        if value < 0:
            raise _error(f"no se permiten valores negativos (regla VLR01); se recibió {value}")
        if positive and value == 0:
            raise _error("debe ser mayor que 0")
        if maximum is not None and value > maximum:
            raise _error(f"debe ser como máximo {maximum}")
        if value.adjusted() >= MAX_INTEGER_DIGITS:
            raise _error(f"tiene demasiados dígitos (máximo {MAX_INTEGER_DIGITS} enteros)")
        if _places(value) > places:
            raise _error(f"admite como máximo {places} decimales; se recibió {value}")
        if quantize:
            return value.quantize(Decimal(1).scaleb(-places))
        return value

    return check


#: Money: ≥ 0, at most 2 decimals, stored with exactly 2 (``Decimal("1500.00")``).
Money = Annotated[
    Decimal,
    BeforeValidator(_exact_number),
    AfterValidator(_decimal_check(places=2, quantize=True)),
]
#: Quantity: > 0, at most 6 decimals.
Quantity = Annotated[
    Decimal,
    BeforeValidator(_exact_number),
    AfterValidator(_decimal_check(places=6, positive=True)),
]
#: Percentage: 0–100, at most 3 decimals (per-mil ICA rates such as 0.966).
Percent = Annotated[
    Decimal,
    BeforeValidator(_exact_number),
    AfterValidator(_decimal_check(places=3, maximum=Decimal(100))),
]
#: Exchange rate: > 0, at most 6 decimals.
Rate = Annotated[
    Decimal,
    BeforeValidator(_exact_number),
    AfterValidator(_decimal_check(places=6, positive=True)),
]


def _as_code(width: int = 0) -> Callable[[Any], Any]:
    """Accept an int for a code (``1`` → ``"1"``, or ``"01"`` with ``width=2``)."""

    def convert(value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value).zfill(width)
        if isinstance(value, str):
            return value.strip()
        return value

    return convert


def _matches(pattern: str, message: str) -> Callable[[str], str]:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise _error(message)
        return value

    return check


def _in_list(getter: Callable[[], CodeList], label: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in getter():
            raise _error(f"el código '{value}' no existe en la lista DIAN {label}")
        return value

    return check


def _no_int(value: Any) -> Any:
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        raise _error("escríbalo como texto entre comillas (los ceros a la izquierda cuentan)")
    return value


Text = Annotated[str, Field(min_length=1, max_length=450)]
ShortText = Annotated[str, Field(min_length=1, max_length=100)]
Digits = Annotated[
    str,
    BeforeValidator(_as_code()),
    AfterValidator(
        _matches(r"\d{1,20}", "debe contener solo dígitos (sin puntos, guiones ni espacios)")
    ),
]
NitNumber = Annotated[
    str,
    BeforeValidator(_as_code()),
    AfterValidator(
        _matches(r"\d{5,10}", "el NIT debe tener de 5 a 10 dígitos, sin puntos, guiones ni DV")
    ),
]
CheckDigit = Annotated[
    str,
    BeforeValidator(_as_code()),
    AfterValidator(_matches(r"\d", "el dígito de verificación es un solo dígito (0–9)")),
]
Prefix = Annotated[
    str,
    AfterValidator(
        _matches(r"[A-Za-z0-9]{0,4}", "el prefijo tiene de 0 a 4 letras o dígitos, sin espacios")
    ),
]
OrganizationType = Annotated[
    Literal["1", "2"],
    BeforeValidator(_as_code()),
]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise _error("correo electrónico no válido (se espera algo como nombre@dominio.co)")
    return value


Email = Annotated[str, AfterValidator(_email)]
Phone = Annotated[str, Field(min_length=1, max_length=50)]


def _responsibilities(rule: str) -> Callable[[list[str]], list[str]]:
    def check(values: list[str]) -> list[str]:
        for code in values:
            if code not in VALID_RESPONSIBILITIES:
                raise _error(
                    f"responsabilidad fiscal '{code}' no válida en el anexo 1.9 (regla {rule}); "
                    f"use una o varias de: {', '.join(VALID_RESPONSIBILITIES)}"
                )
        if len(set(values)) != len(values):
            raise _error("hay responsabilidades fiscales repetidas")
        return values

    return check


# --- Enumerations ------------------------------------------------------------------


def _strip_accents(text: str) -> str:
    return "".join(
        ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn"
    )


class Environment(IntEnum):
    """DIAN environment (``ProfileExecutionID``): 1 producción, 2 habilitación (pruebas)."""

    PRODUCCION = 1
    HABILITACION = 2

    @property
    def label(self) -> str:
        """Spanish label."""
        return "producción" if self is Environment.PRODUCCION else "habilitación"


def _environment(value: Any) -> Any:
    names = {"1": 1, "2": 2, "produccion": 1, "habilitacion": 2, "pruebas": 2}
    if isinstance(value, str):
        key = _strip_accents(value.strip().lower())
        if key in names:
            return names[key]
    elif isinstance(value, int) and not isinstance(value, bool) and value in (1, 2):
        return value
    raise _error('use 1 o "produccion" (producción), 2 o "habilitacion" (habilitación)')


class TaxScheme(StrEnum):
    """Party-level tax scheme (``PartyTaxScheme/TaxScheme``), SPEC §2.4."""

    IVA = "01"
    INC = "04"
    IVA_E_INC = "ZA"
    NO_APLICA = "ZZ"

    @property
    def label(self) -> str:
        """``cbc:Name`` DIAN expects: "IVA", "INC", "IVA e INC" or "No aplica"."""
        return {"01": "IVA", "04": "INC", "ZA": "IVA e INC", "ZZ": "No aplica"}[self.value]


def _tax_scheme(value: Any) -> Any:
    value = _as_code(2)(value)
    if isinstance(value, str):
        value = value.upper()
        if value not in {m.value for m in TaxScheme}:
            raise _error(
                "esquema tributario no válido; use 01 (IVA), 04 (INC), ZA (IVA e INC) "
                "o ZZ (No aplica)"
            )
    return value


PartyTaxScheme = Annotated[TaxScheme, BeforeValidator(_tax_scheme)]


#: Characters XML 1.0 cannot carry (C0 controls but tab/LF/CR, surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class _Model(BaseModel):
    """Common configuration: unknown fields are rejected, text is stripped and XML-safe."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _xml_safe_text(cls, data: Any) -> Any:
        """Refuse text that cannot go into an XML document, naming the field and character.

        Nested models check their own fields; this looks at strings and lists
        of strings given to this model.
        """
        if not isinstance(data, dict):
            return data
        for key, value in data.items():
            items = value if isinstance(value, list) else [value]
            for index, item in enumerate(items):
                if isinstance(item, str) and (bad := _NOT_XML.search(item)):
                    where = f"{key}[{index}]" if isinstance(value, list) else str(key)
                    raise _error(
                        f"contiene un carácter de control que no puede ir en un XML "
                        f"(U+{ord(bad.group()):04X}, posición {bad.start() + 1}); bórrelo "
                        "(suele venir de copiar y pegar)",
                        where,
                    )
        return data


# --- Parties -----------------------------------------------------------------------


class Address(_Model):
    """A postal address. Colombian ones are DIVIPOLA-coded (SPEC §2.4).

    For ``country_code == "CO"`` the municipality is required and must exist;
    city, department code and name and country name are filled from the code
    lists when omitted, and checked when given. Foreign addresses need
    ``city_name`` and must not carry Colombian codes.
    """

    line: Text
    country_code: Annotated[
        str,
        BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
        AfterValidator(_in_list(codelists.paises, "Paises (ISO 3166-1 alfa-2)")),
    ] = "CO"
    country_name: ShortText | None = None
    municipality_code: (
        Annotated[
            str,
            BeforeValidator(_as_code(5)),
            AfterValidator(_matches(r"\d{5}", "el código de municipio DIVIPOLA tiene 5 dígitos")),
        ]
        | None
    ) = None
    city_name: ShortText | None = None
    department_code: (
        Annotated[
            str,
            BeforeValidator(_as_code(2)),
            AfterValidator(_matches(r"\d{2}", "el código de departamento tiene 2 dígitos")),
        ]
        | None
    ) = None
    department_name: ShortText | None = None
    postal_code: (
        Annotated[
            str,
            BeforeValidator(_as_code()),
            AfterValidator(
                _matches(r"[A-Za-z0-9 -]{1,10}", "código postal no válido (hasta 10 caracteres)")
            ),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _check_codes(self) -> Self:
        if self.is_colombian:
            self._check_colombian()
        else:
            for name in ("municipality_code", "department_code"):
                if getattr(self, name) is not None:
                    raise _error("solo aplica a direcciones en Colombia (country_code CO)", name)
            if self.city_name is None:
                raise _error("obligatorio para direcciones fuera de Colombia", "city_name")
        if self.country_name is None:
            self.country_name = codelists.paises().name_of(self.country_code)
        return self

    def _check_colombian(self) -> None:
        code = self.municipality_code
        if code is None:
            raise _error(
                "obligatorio para direcciones en Colombia (código DIVIPOLA de 5 dígitos, "
                "p. ej. 11001 Bogotá)",
                "municipality_code",
            )
        city = codelists.municipio().name_of(code)
        if city is None:
            raise _error(
                f"el municipio {code} no existe en la lista DIVIPOLA de la DIAN (Municipio)",
                "municipality_code",
            )
        if self.department_code is None:
            self.department_code = code[:2]
        elif self.department_code != code[:2]:
            raise _error(
                f"el departamento {self.department_code} no corresponde al municipio {code} "
                f"(debe ser {code[:2]}; regla FAJ10)",
                "department_code",
            )
        if self.city_name is None:
            self.city_name = city
        if self.department_name is None:
            self.department_name = codelists.departamentos().name_of(self.department_code)
        if self.postal_code is not None:
            postal = self.postal_code
            if not re.fullmatch(r"\d{6}", postal):
                raise _error("el código postal colombiano tiene 6 dígitos", "postal_code")
            if postal not in codelists.codigo_postal():
                raise _error(
                    f"el código postal {postal} no existe en la lista DIAN CodigoPostal",
                    "postal_code",
                )
            if postal[:2] != self.department_code:
                raise _error(
                    f"el código postal {postal} no corresponde al departamento "
                    f"{self.department_code}",
                    "postal_code",
                )

    @property
    def is_colombian(self) -> bool:
        """``True`` for addresses in Colombia."""
        return self.country_code == "CO"

    @property
    def city(self) -> str:
        """``cbc:CityName`` (never ``None`` after validation)."""
        return self.city_name or ""

    @property
    def subentity(self) -> str:
        """``cbc:CountrySubentity`` (department or state name; may be empty abroad)."""
        return self.department_name or ""

    @property
    def subentity_code(self) -> str:
        """``cbc:CountrySubentityCode`` (2-digit department; empty abroad)."""
        return self.department_code or ""

    @property
    def country(self) -> str:
        """``cac:Country/cbc:Name`` (Spanish)."""
        return self.country_name or self.country_code


def _check_dv(nit: str, dv: str, field: str) -> None:
    """Raise the field's Spanish error unless ``dv`` is the check digit of ``nit``."""
    expected = nit_check_digit(nit)
    if dv != expected:
        raise _error(f"dígito de verificación incorrecto: para el NIT {nit} es {expected}", field)


class Issuer(_Model):
    """The invoicing company or person (``AccountingSupplierParty``)."""

    nit: NitNumber
    dv: CheckDigit
    registration_name: Text
    trade_name: Text | None = None
    organization_type: OrganizationType
    tax_responsibilities: Annotated[
        list[str], Field(min_length=1), AfterValidator(_responsibilities("FAJ26"))
    ]
    tax_scheme: PartyTaxScheme = TaxScheme.IVA
    address: Address
    email: Email
    phone: Phone | None = None
    commercial_registration: ShortText | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_dv(self.nit, self.dv, "dv")
        if self.trade_name is None:
            self.trade_name = self.registration_name
        return self

    @property
    def id_type(self) -> str:
        """Identification type of the issuer: always ``"31"`` (NIT)."""
        return "31"

    @property
    def id_number(self) -> str:
        """Same as :attr:`nit` (uniform with :class:`Customer`)."""
        return self.nit

    @property
    def tax_level_code(self) -> str:
        """``cbc:TaxLevelCode``: responsibilities joined with ``;``."""
        return ";".join(self.tax_responsibilities)


#: Customer identification types accepted (annex 1.9, SPEC §12).
CUSTOMER_ID_TYPES = ("11", "12", "13", "21", "22", "31", "41", "42", "47", "48", "50", "91")

# id_type → (pattern, Spanish description of the shape)
_ID_SHAPES: dict[str, tuple[str, str]] = {
    "11": (r"\d{3,15}", "de 3 a 15 dígitos"),
    "12": (r"\d{3,15}", "de 3 a 15 dígitos"),
    "13": (r"\d{3,10}", "de 3 a 10 dígitos"),
    "21": (r"[A-Za-z0-9]{3,20}", "de 3 a 20 letras o dígitos"),
    "22": (r"[A-Za-z0-9]{3,20}", "de 3 a 20 letras o dígitos"),
    "31": (r"\d{3,10}", "de 3 a 10 dígitos, sin DV"),
    "41": (r"[A-Za-z0-9]{3,20}", "de 3 a 20 letras o dígitos"),
    "42": (r"[A-Za-z0-9-]{3,20}", "de 3 a 20 letras, dígitos o guiones"),
    "47": (r"\d{3,15}", "de 3 a 15 dígitos"),
    "48": (r"\d{3,15}", "de 3 a 15 dígitos"),
    "50": (r"[A-Za-z0-9-]{3,20}", "de 3 a 20 letras, dígitos o guiones"),
    "91": (r"\d{3,15}", "de 3 a 15 dígitos"),
}


def _customer_id_type(value: str) -> str:
    if value not in CUSTOMER_ID_TYPES:
        raise _error(
            f"tipo de identificación '{value}' no válido; use uno de: "
            f"{', '.join(CUSTOMER_ID_TYPES)} (lista TipoIdFiscal)"
        )
    return value


class Customer(_Model):
    """The buyer (``AccountingCustomerParty``).

    ``organization_type`` defaults to ``"1"`` (jurídica) for a NIT and ``"2"``
    (natural) otherwise. ``dv`` is required, and checked, for NIT (31) only.
    """

    id_type: Annotated[str, BeforeValidator(_as_code()), AfterValidator(_customer_id_type)]
    id_number: Annotated[str, Field(min_length=1, max_length=20)]
    dv: CheckDigit | None = None
    name: Text
    organization_type: OrganizationType | None = None
    tax_responsibilities: Annotated[
        list[str], Field(min_length=1), AfterValidator(_responsibilities("FAK26"))
    ] = Field(default_factory=lambda: ["R-99-PN"])
    tax_scheme: PartyTaxScheme = TaxScheme.NO_APLICA
    address: Address | None = None
    email: Email | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        pattern, shape = _ID_SHAPES[self.id_type]
        if not (self.is_final_consumer or re.fullmatch(pattern, self.id_number)):
            type_name = codelists.tipo_id_fiscal().name_of(self.id_type) or self.id_type
            raise _error(
                f"para el tipo {self.id_type} ({type_name}) el número debe tener {shape}, "
                "sin puntos ni espacios",
                "id_number",
            )
        if self.id_type == "31":
            expected = nit_check_digit(self.id_number)
            if self.dv is None:
                raise _error(
                    f"obligatorio cuando id_type es 31 (NIT); para el NIT {self.id_number} es "
                    f"{expected}",
                    "dv",
                )
            if self.dv != expected:
                raise _error(
                    f"dígito de verificación incorrecto: para el NIT {self.id_number} es "
                    f"{expected}",
                    "dv",
                )
        elif self.dv is not None:
            raise _error("solo aplica cuando id_type es 31 (NIT)", "dv")
        if self.organization_type is None:
            self.organization_type = "1" if self.id_type == "31" else "2"
        return self

    @classmethod
    def final_consumer(cls) -> Customer:
        """The anonymous buyer: 222222222222, type 13, "Consumidor final" (SPEC §2.4)."""
        return cls(
            id_type="13",
            id_number=FINAL_CONSUMER_ID,
            name="Consumidor final",
            organization_type="2",
            tax_responsibilities=["R-99-PN"],
            tax_scheme=TaxScheme.NO_APLICA,
        )

    @property
    def is_final_consumer(self) -> bool:
        """``True`` for the 222222222222 final consumer."""
        return self.id_number == FINAL_CONSUMER_ID

    @property
    def tax_level_code(self) -> str:
        """``cbc:TaxLevelCode``: responsibilities joined with ``;``."""
        return ";".join(self.tax_responsibilities)

    @property
    def id_type_name(self) -> str:
        """Spanish name of :attr:`id_type`."""
        return codelists.tipo_id_fiscal().name_of(self.id_type) or self.id_type


# --- Lines -------------------------------------------------------------------------

#: Withholding tributos: never on a line's taxes (they go in ``withholdings``).
WITHHOLDING_SCHEMES = ("05", "06", "07")
#: Per-unit tributos (need BaseUnitMeasure + PerUnitAmount): not supported yet.
_PER_UNIT_SCHEMES = ("22", "32", "33", "34")


def _line_tax_scheme(value: str) -> str:
    if value in WITHHOLDING_SCHEMES or value == "08":
        raise _error(
            "las retenciones (05 ReteIVA, 06 ReteFuente, 07 ReteICA) van en 'withholdings' "
            "del documento, no en los impuestos de la línea"
        )
    if value in ("ZA", "ZZ", "ZY"):
        raise _error(f"'{value}' es un esquema de la parte, no un tributo de línea")
    if value in _PER_UNIT_SCHEMES:
        name = codelists.tipo_impuesto().name_of(value)
        raise _error(f"el tributo {value} ({name}) se liquida por unidad; fe-tui aún no lo soporta")
    if value not in codelists.tipo_impuesto():
        raise _error(f"el tributo '{value}' no existe en la lista DIAN TipoImpuesto")
    return value


class LineTax(_Model):
    """One tax of a line: tributo code and percentage.

    IVA (01): 0 (exento), 5 or 19. INC (04): 8 or 16. Other percentage
    tributos: any rate ≥ 0 with up to 3 decimals.
    """

    scheme: Annotated[str, BeforeValidator(_as_code(2)), AfterValidator(_line_tax_scheme)]
    percent: Percent

    @model_validator(mode="after")
    def _check_rate(self) -> Self:
        """The rate must exist for this tributo at some date; the document checks its date."""
        if tax_rates.regulated(self.scheme) and not any(
            r.scheme == self.scheme and r.percent == self.percent for r in tax_rates.table()
        ):
            today = tax_rates.rates_on(self.scheme, date.today())
            raise _error(
                f"tarifa de {self.name} no válida: {self.percent.normalize():f}; "
                f"use {tax_rates.describe(today)}",
                "percent",
            )
        return self

    def check_in_force(self, day: date) -> str | None:
        """Spanish error when this rate is not in force on ``day`` (the issue date)."""
        if not tax_rates.regulated(self.scheme):
            return None
        in_force = tax_rates.rates_on(self.scheme, day)
        if any(r.percent == self.percent for r in in_force):
            return None
        return (
            f"la tarifa de {self.name} de {self.percent.normalize():f} % no está vigente el {day}; "
            f"vigentes: {tax_rates.describe(in_force)}"
        )

    @property
    def exempt(self) -> bool:
        """IVA at 0 %: exento (reported with Percent 0.00, unlike an excluded line)."""
        return self.scheme == "01" and self.percent == 0

    @property
    def name(self) -> str:
        """Tributo name (``cbc:Name``), e.g. ``"IVA"``."""
        return codelists.tipo_impuesto().name_of(self.scheme) or self.scheme


class AllowanceCharge(_Model):
    """A discount (``is_charge`` false) or charge: fixed ``amount`` or ``percent``.

    With ``percent``, the amount is ``round2(base × percent / 100)``; the base
    is the line's gross amount (line level) or Σ line extensions (document
    level). ``reason_code`` (00 no condicionado / 01 condicionado) applies to
    discounts only.
    """

    is_charge: bool = False
    amount: Money | None = None
    percent: Percent | None = None
    reason: Annotated[str, Field(max_length=450)] = ""
    reason_code: (
        Annotated[
            str,
            BeforeValidator(_as_code(2)),
            AfterValidator(_in_list(codelists.codigo_descuento, "CodigoDescuento")),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (self.amount is None) == (self.percent is None):
            raise _error(
                "indique 'amount' (valor) o 'percent' (porcentaje), uno de los dos", "amount"
            )
        if self.is_charge and self.reason_code is not None:
            raise _error("solo aplica a descuentos (is_charge false)", "reason_code")
        return self

    @property
    def reason_text(self) -> str:
        """``cbc:AllowanceChargeReason``: the given reason or "Descuento"/"Cargo"."""
        return self.reason or ("Cargo" if self.is_charge else "Descuento")


def _standard_scheme(value: str) -> str:
    if value not in codelists.tipo_codigo_producto():
        raise _error(
            f"esquema de código de producto '{value}' no válido; use 001 (UNSPSC), 010 (GTIN), "
            "020 (partida arancelaria) o 999 (estándar del contribuyente)"
        )
    return value


class Line(_Model):
    """One invoice / note line (SPEC §2.9).

    ``unit_price`` is the price of ``base_quantity`` units. A free-of-charge
    line (commercial sample) has ``unit_price`` 0, no allowances, and a
    ``reference_price`` per unit of ``quantity`` (its taxes are computed on
    ``reference_price × quantity``). ``excluded`` lines (excluidos de IVA)
    carry no taxes at all.
    """

    description: Text
    quantity: Quantity
    unit_code: Annotated[
        str,
        BeforeValidator(_as_code()),
        AfterValidator(_in_list(codelists.unidades_medida, "UnidadesMedida (UN/ECE Rec 20)")),
    ] = "94"
    unit_price: Money
    base_quantity: Quantity = Decimal(1)
    allowances_charges: list[AllowanceCharge] = Field(default_factory=list)
    taxes: list[LineTax] = Field(default_factory=list)
    excluded: bool = False
    standard_code: ShortText | None = None
    standard_scheme: Annotated[
        str, BeforeValidator(_as_code(3)), AfterValidator(_standard_scheme)
    ] = "999"
    seller_code: ShortText | None = None
    free_of_charge: bool = False
    reference_price: Money | None = None
    reference_price_code: Annotated[
        str,
        BeforeValidator(_as_code(2)),
        AfterValidator(_in_list(codelists.codigo_precio_referencia, "CodigoPrecioReferencia")),
    ] = "01"
    note: Text | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.excluded and self.taxes:
            raise _error(
                "una línea excluida (excluded true) no lleva impuestos; quítelos o use IVA 0 "
                "si el bien es exento",
                "taxes",
            )
        schemes = [t.scheme for t in self.taxes]
        if len(set(schemes)) != len(schemes):
            raise _error("un mismo tributo aparece dos veces en la línea", "taxes")
        if self.free_of_charge:
            if self.reference_price is None or self.reference_price == 0:
                raise _error(
                    "obligatorio y mayor que 0 cuando free_of_charge es true "
                    "(PricingReference, valor comercial de la muestra)",
                    "reference_price",
                )
            if self.unit_price != 0:
                raise _error("debe ser 0 en una línea gratuita (free_of_charge true)", "unit_price")
            if self.allowances_charges:
                raise _error(
                    "una línea gratuita no lleva descuentos ni cargos", "allowances_charges"
                )
        elif self.reference_price is not None:
            raise _error("solo aplica cuando free_of_charge es true", "reference_price")
        # Each amount passes the 15-digit cap, but their product may not (and would overflow
        # the rounding of the totals): refuse it here, naming the fields (issue 14, item 16).
        if self.free_of_charge:
            value, field = (self.reference_price or Decimal(0)) * self.quantity, "reference_price"
        else:
            value, field = self.quantity * self.unit_price / self.base_quantity, "unit_price"
        if value.adjusted() >= MAX_INTEGER_DIGITS:
            raise _error(
                f"cantidad × precio ({value:.6E}) supera el máximo de {MAX_INTEGER_DIGITS} "
                "dígitos enteros de un valor; revise la cantidad y el precio",
                field,
            )
        totals = line_totals(self)
        if totals.line_extension < 0:
            raise _error(
                f"los descuentos superan el valor de la línea ({totals.gross_amount}); el valor "
                "neto quedaría negativo (regla VLR01)",
                "allowances_charges",
            )
        return self


# --- Payment, resolution, software, references ---------------------------------------


class PaymentMeans(_Model):
    """``cac:PaymentMeans``: form (1 contado / 2 crédito), method, due date."""

    form: Annotated[
        str,
        BeforeValidator(_as_code()),
        AfterValidator(_in_list(codelists.formas_pago, "FormasPago")),
    ] = "1"
    method_code: Annotated[
        str,
        BeforeValidator(_as_code()),
        AfterValidator(_in_list(codelists.medios_pago, "MediosPago")),
    ] = "10"
    due_date: date | None = None
    payment_id: ShortText | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.form == "2" and self.due_date is None:
            raise _error(
                "la fecha de vencimiento es obligatoria en ventas a crédito (form 2; regla IA04)",
                "due_date",
            )
        return self

    @property
    def is_credit(self) -> bool:
        """``True`` for credit sales (form 2)."""
        return self.form == "2"


# ``Resolution`` has a field named ``date``: inside it, use this alias for the type.
_Date = date

_HEX_KEY = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")


class Resolution(_Model):
    """A DIAN numbering resolution (``sts:InvoiceControl``), SPEC §8.

    ``technical_key`` of an unusual shape (not 40 or 64 hex) is accepted and
    reported by :meth:`warnings`.
    """

    number: Digits
    date: _Date | None = None
    prefix: Prefix = ""
    from_number: Annotated[int, Field(ge=0)]
    to_number: Annotated[int, Field(ge=0)]
    valid_from: _Date
    valid_to: _Date
    technical_key: Annotated[
        str,
        BeforeValidator(_no_int),
        AfterValidator(
            _matches(r"\S{1,200}", "la clave técnica no puede estar vacía ni tener espacios")
        ),
    ]

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.from_number > self.to_number:
            raise _error(
                f"el rango termina ({self.to_number}) antes de empezar ({self.from_number})",
                "to_number",
            )
        if self.valid_from > self.valid_to:
            raise _error(
                f"la vigencia termina ({self.valid_to}) antes de empezar ({self.valid_from})",
                "valid_to",
            )
        return self

    def contains(self, number: int) -> bool:
        """``True`` when ``number`` is inside the authorized range."""
        return self.from_number <= number <= self.to_number

    def valid_on(self, d: _Date) -> bool:
        """``True`` when ``d`` is inside the validity period (both ends included)."""
        return self.valid_from <= d <= self.valid_to

    def warnings(self) -> list[str]:
        """Spanish warnings that do not make the resolution invalid."""
        if _HEX_KEY.fullmatch(self.technical_key):
            return []
        return [
            "resolution.technical_key: la clave técnica no tiene la forma habitual "
            "(40 o 64 caracteres hexadecimales); verifíquela con GetNumberingRange"
        ]


class Software(_Model):
    """The invoicing software as registered in the DIAN portal."""

    software_id: Annotated[
        str,
        AfterValidator(
            _matches(
                r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
                "el identificador del software es un GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
            )
        ),
    ]
    pin: Annotated[str, BeforeValidator(_no_int), Field(min_length=1, max_length=50)]
    provider_nit: NitNumber
    provider_dv: CheckDigit
    provider_name: Text | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_dv(self.provider_nit, self.provider_dv, "provider_dv")
        return self


class BillingReference(_Model):
    """The invoice a note refers to (``cac:BillingReference``)."""

    number: Annotated[
        str,
        AfterValidator(
            _matches(
                r"[A-Za-z0-9]{1,20}",
                "número de documento no válido: de 1 a 20 letras o dígitos, sin espacios ni "
                "guiones (regla FAD05a)",
            )
        ),
    ]
    uuid: Annotated[
        str,
        AfterValidator(
            _matches(r"[0-9a-fA-F]{96}", "el CUFE/CUDE tiene 96 caracteres hexadecimales")
        ),
        AfterValidator(str.lower),
    ]
    issue_date: date
    scheme_name: Literal["CUFE-SHA384", "CUDE-SHA384"] = "CUFE-SHA384"


class InvoicePeriod(_Model):
    """``cac:InvoicePeriod``: the period a document covers."""

    start_date: date
    end_date: date

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.end_date < self.start_date:
            raise _error(
                f"la fecha final ({self.end_date}) es anterior a la inicial ({self.start_date})",
                "end_date",
            )
        return self

    @property
    def within_one_month(self) -> bool:
        """``True`` when both dates fall in the same calendar month (CAE02/CAE04)."""
        return (self.start_date.year, self.start_date.month) == (
            self.end_date.year,
            self.end_date.month,
        )


class Withholding(_Model):
    """A withholding (05 ReteIVA, 06 ReteFuente, 07 ReteICA): informative only.

    Without ``taxable_amount`` the base is the IVA total for 05 and Σ line
    extensions for 06/07.
    """

    scheme: Annotated[Literal["05", "06", "07"], BeforeValidator(_as_code(2))]
    percent: Percent
    taxable_amount: Money | None = None

    @property
    def name(self) -> str:
        """Tributo name, e.g. ``"ReteIVA"``."""
        return codelists.tipo_impuesto().name_of(self.scheme) or self.scheme


# --- Documents ---------------------------------------------------------------------


def _colombian_if_naive(value: datetime) -> datetime:
    # A naive time is what a person in Colombia reads on the wall clock.
    return value.replace(tzinfo=COLOMBIA_TZ) if value.tzinfo is None else value


def _currency(value: str) -> str:
    value = value.upper()
    if value not in codelists.tipo_moneda():
        raise _error(f"moneda '{value}' no existe en la lista DIAN TipoMoneda (ISO 4217)")
    return value


class DocumentBase(_Model):
    """Fields shared by invoices and notes.

    ``number`` is the consecutive; the document ID is ``prefix + number``
    (:attr:`document_id`). ``issue_at`` is aware (naive = Colombian time).
    """

    number: Annotated[int, Field(ge=0)]
    prefix: Prefix = ""
    issue_at: Annotated[datetime, AfterValidator(_colombian_if_naive)]
    customer: Customer
    lines: Annotated[list[Line], Field(min_length=1)]
    payment: PaymentMeans = Field(default_factory=PaymentMeans)
    notes: list[Text] = Field(default_factory=list)
    order_reference: ShortText | None = None
    currency: Annotated[str, AfterValidator(_currency)] = "COP"
    exchange_rate: Rate | None = None
    allowances_charges: list[AllowanceCharge] = Field(default_factory=list)
    withholdings: list[Withholding] = Field(default_factory=list)
    prepaid_amount: Money = Decimal("0.00")

    @model_validator(mode="after")
    def _check_base(self) -> Self:
        if len(self.document_id) > 20:
            raise _error(
                f"el número completo {self.document_id} supera 20 caracteres (regla FAD05)",
                "number",
            )
        if self.currency != "COP" and self.exchange_rate is None:
            raise _error(
                f"obligatoria cuando la moneda no es COP ({self.currency}): tasa de cambio a "
                "pesos (PaymentExchangeRate)",
                "exchange_rate",
            )
        if self.currency == "COP" and self.exchange_rate is not None:
            raise _error("solo aplica cuando la moneda no es COP", "exchange_rate")
        for i, line in enumerate(self.lines):
            for j, tax in enumerate(line.taxes):
                problem = tax.check_in_force(self.issue_date)
                if problem:
                    raise _error(problem, f"lines.{i}.taxes.{j}.percent")
        due = self.payment.due_date
        if due is not None and due < self.issue_date:
            raise _error(
                f"la fecha de vencimiento ({due}) es anterior a la de expedición "
                f"({self.issue_date})",
                "payment.due_date",
            )
        totals = self.totals()
        largest = max(totals.tax_inclusive + totals.charge_total, totals.line_extension)
        if largest.adjusted() >= MAX_INTEGER_DIGITS:
            raise _error(
                f"el total del documento ({largest}) supera el máximo de {MAX_INTEGER_DIGITS} "
                "dígitos enteros de un valor; divida la venta en varios documentos",
                "lines",
            )
        if totals.payable < 0:
            raise _error(
                f"los descuentos del documento ({totals.allowance_total}) superan el total "
                f"({totals.tax_inclusive + totals.charge_total}); el valor a pagar quedaría "
                "negativo (regla VLR01)",
                "allowances_charges",
            )
        return self

    @property
    def document_id(self) -> str:
        """``cbc:ID``: prefix followed by the consecutive, e.g. ``SETP990000001``."""
        return f"{self.prefix}{self.number}"

    @property
    def issue_at_colombia(self) -> datetime:
        """``issue_at`` at the fixed ``-05:00`` offset, whatever the machine's zone."""
        return self.issue_at.astimezone(COLOMBIA_TZ)

    @property
    def issue_date(self) -> date:
        """``cbc:IssueDate``: the Colombian calendar date."""
        return self.issue_at_colombia.date()

    @property
    def issue_time(self) -> str:
        """``cbc:IssueTime``: ``HH:MM:SS-05:00`` (also the CUFE's HorFac)."""
        return self.issue_at_colombia.strftime("%H:%M:%S") + "-05:00"

    def totals(self) -> DocumentTotals:
        """All computed amounts (see :func:`fe_tui.domain.totals.compute`)."""
        return compute(self)


class Invoice(DocumentBase):
    """Factura electrónica de venta (type 01; 02 export and 04 contingency allowed)."""

    kind: Literal["invoice"]
    type_code: Annotated[Literal["01", "02", "04"], BeforeValidator(_as_code(2))] = "01"
    operation_type: Annotated[
        str,
        BeforeValidator(_as_code(2)),
        AfterValidator(_in_list(codelists.tipo_operacion_f, "TipoOperacionF (09, 10, 11, 12, 13)")),
    ] = "10"
    due_date: date | None = None

    @model_validator(mode="after")
    def _check_invoice(self) -> Self:
        if self.due_date is not None and self.due_date < self.issue_date:
            raise _error(
                f"la fecha de vencimiento ({self.due_date}) es anterior a la de expedición "
                f"({self.issue_date})",
                "due_date",
            )
        return self

    @property
    def effective_due_date(self) -> date | None:
        """``cbc:DueDate``: ``due_date``, else the payment's due date."""
        return self.due_date or self.payment.due_date


def _note_reference_checks(
    doc: CreditNote | DebitNote, with_reference: str, rule: str, period_rule: str
) -> None:
    if doc.operation_type == with_reference:
        if doc.billing_reference is None:
            raise _error(
                f"obligatoria cuando operation_type es {with_reference} (nota que referencia una "
                f"factura; regla {rule})",
                "billing_reference",
            )
        ref_date = doc.billing_reference.issue_date
        if doc.issue_date < ref_date:
            raise _error(
                f"la nota ({doc.issue_date}) no puede tener fecha anterior a la de la factura "
                f"referenciada ({ref_date}) (regla CBG06)",
                "issue_at",
            )
    else:
        if doc.billing_reference is not None:
            raise _error(
                f"no aplica cuando operation_type es {doc.operation_type} (nota sin referencia a "
                f"factura); use {with_reference} para referenciar una factura",
                "billing_reference",
            )
        if doc.invoice_period is None:
            raise _error(
                f"obligatorio cuando operation_type es {doc.operation_type} (nota sin referencia "
                f"a factura; regla {period_rule})",
                "invoice_period",
            )


class CreditNote(DocumentBase):
    """Nota crédito (type 91), CustomizationID 20 (with reference) or 22 (without)."""

    kind: Literal["credit_note"]
    operation_type: Annotated[Literal["20", "22"], BeforeValidator(_as_code(2))] = "20"
    billing_reference: BillingReference | None = None
    concept_code: Annotated[
        str,
        BeforeValidator(_as_code()),
        AfterValidator(
            _in_list(codelists.concepto_nota_credito, "ConceptoNotaCredito (1 a 6, anexo 1.9)")
        ),
    ]
    concept_description: Text | None = None
    invoice_period: InvoicePeriod | None = None

    @model_validator(mode="after")
    def _check_note(self) -> Self:
        if self.operation_type == "22" and self.concept_code == "2":
            raise _error(
                "el concepto 2 (anulación) exige una factura referenciada (operation_type 20; "
                "regla CBF03a)",
                "concept_code",
            )
        _note_reference_checks(self, "20", "CBG02", "CAE02")
        period = self.invoice_period
        if self.operation_type == "22" and period is not None and not period.within_one_month:
            raise _error(
                "el periodo de una nota sin referencia debe estar dentro de un mismo mes "
                "calendario (regla CAE04)",
                "invoice_period.end_date",
            )
        if self.concept_description is None:
            self.concept_description = codelists.concepto_nota_credito().name_of(self.concept_code)
        return self


class DebitNote(DocumentBase):
    """Nota débito (type 92), CustomizationID 30 (with reference) or 32 (without)."""

    kind: Literal["debit_note"]
    operation_type: Annotated[Literal["30", "32"], BeforeValidator(_as_code(2))] = "30"
    billing_reference: BillingReference | None = None
    concept_code: Annotated[
        str,
        BeforeValidator(_as_code()),
        AfterValidator(_in_list(codelists.concepto_nota_debito, "ConceptoNotaDebito (1 a 4)")),
    ]
    concept_description: Text | None = None
    invoice_period: InvoicePeriod | None = None

    @model_validator(mode="after")
    def _check_note(self) -> Self:
        _note_reference_checks(self, "30", "DBG02", "periodo de facturación")
        if self.concept_description is None:
            self.concept_description = codelists.concepto_nota_debito().name_of(self.concept_code)
        return self


#: Any document, discriminated by ``kind``.
Document = Annotated[Invoice | CreditNote | DebitNote, Field(discriminator="kind")]


class DocumentRequest(_Model):
    """Root of the JSON file given to ``fe-tui build``.

    ``resolution`` is required for invoices: the invoice prefix must be the
    resolution's, its number inside the range (FAD05d) and its issue date
    inside the validity period.
    """

    environment: Annotated[Environment, BeforeValidator(_environment)]
    issuer: Issuer
    software: Software
    resolution: Resolution | None = None
    document: Document
    signer_role: Literal["supplier", "third party"] = "supplier"

    @model_validator(mode="after")
    def _check_numbering(self) -> Self:
        doc = self.document
        if not isinstance(doc, Invoice):
            return self
        res = self.resolution
        if res is None:
            raise _error(
                "obligatoria para facturas: número, prefijo, rango, vigencia y clave técnica "
                "(InvoiceControl)",
                "resolution",
            )
        if doc.prefix != res.prefix:
            raise _error(
                f"el prefijo '{doc.prefix}' no es el de la resolución {res.number} "
                f"('{res.prefix}'; regla FAB10b)",
                "document.prefix",
            )
        if not res.contains(doc.number):
            raise _error(
                f"el número {doc.number} está fuera del rango autorizado por la resolución "
                f"{res.number} ({res.from_number} a {res.to_number}; regla FAD05d)",
                "document.number",
            )
        if not res.valid_on(doc.issue_date):
            raise _error(
                f"la fecha de expedición {doc.issue_date} está fuera de la vigencia de la "
                f"resolución {res.number} ({res.valid_from} a {res.valid_to})",
                "document.issue_at",
            )
        return self

    def warnings(self) -> list[str]:
        """Spanish warnings (``campo: mensaje``) that do not block the document."""
        result: list[str] = []
        if self.resolution is not None:
            result.extend(self.resolution.warnings())
            if (
                not isinstance(self.document, Invoice)
                and self.document.prefix == self.resolution.prefix
            ):
                result.append(
                    "document.prefix: use para las notas un prefijo distinto al de las facturas "
                    "(SPEC §2.10: DIAN confunde notas y facturas con el mismo número)"
                )
        return result


# --- Error rendering and loading -----------------------------------------------------

_TAGS = {"invoice", "credit_note", "debit_note"}
_SENSITIVE = {"pin", "technical_key"}


def _location(loc: tuple[int | str, ...], extra: str | None) -> str:
    parts: list[str] = []
    for i, item in enumerate(loc):
        if i == 1 and loc[0] == "document" and item in _TAGS:
            continue  # the discriminated-union branch is not a JSON key
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + item)
    if extra:
        parts.append(("." if parts else "") + extra)
    return "".join(parts) or "(documento)"


def _spanish_list(expected: str) -> str:
    return expected.replace(" or ", " o ")


def _message(err: Any) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "fe_tui":
        return str(ctx.get("mensaje", err["msg"]))
    if kind == "value_error":
        return str(ctx.get("error", err["msg"])).removeprefix("Value error, ")
    simple = {
        "missing": "campo obligatorio",
        "extra_forbidden": "campo desconocido (revise el nombre; no se admiten campos adicionales)",
        "string_type": "se espera un texto",
        "int_type": "se espera un número entero",
        "int_parsing": "se espera un número entero",
        "int_from_float": "se espera un número entero, sin decimales",
        "bool_type": "se espera true o false",
        "bool_parsing": "se espera true o false",
        "decimal_type": 'se espera un número (p. ej. 1234.50 o "1234.50")',
        "decimal_parsing": (
            "no es un número válido: use punto decimal y sin separador de miles (p. ej. 1234.50)"
        ),
        "finite_number": "se espera un número finito",
        "date_type": "se espera una fecha AAAA-MM-DD",
        "date_parsing": "fecha no válida; use el formato AAAA-MM-DD",
        "date_from_datetime_parsing": "fecha no válida; use el formato AAAA-MM-DD",
        "date_from_datetime_inexact": "se espera solo la fecha (AAAA-MM-DD), sin hora",
        "datetime_type": "se espera una fecha y hora AAAA-MM-DDTHH:MM:SS-05:00",
        "datetime_parsing": "fecha y hora no válida; use AAAA-MM-DDTHH:MM:SS-05:00",
        "datetime_from_date_parsing": "fecha y hora no válida; use AAAA-MM-DDTHH:MM:SS-05:00",
        "list_type": "se espera una lista [...]",
        "dict_type": "se espera un objeto {...}",
        "model_type": "se espera un objeto {...}",
        "model_attributes_type": "se espera un objeto {...}",
    }
    if kind in simple:
        return simple[kind]
    if kind == "string_too_short":
        return (
            "no puede estar vacío"
            if ctx.get("min_length") == 1
            else (f"debe tener al menos {ctx.get('min_length')} caracteres")
        )
    if kind == "string_too_long":
        return f"debe tener como máximo {ctx.get('max_length')} caracteres"
    if kind == "string_pattern_mismatch":
        return "formato no válido"
    if kind == "too_short":
        return f"debe tener al menos {ctx.get('min_length')} elemento(s)"
    if kind == "too_long":
        return f"admite como máximo {ctx.get('max_length')} elemento(s)"
    if kind == "greater_than":
        return f"debe ser mayor que {ctx.get('gt')}"
    if kind == "greater_than_equal":
        if str(ctx.get("ge")) == "0":
            return "no se permiten valores negativos (regla VLR01)"
        return f"debe ser mayor o igual a {ctx.get('ge')}"
    if kind == "less_than":
        return f"debe ser menor que {ctx.get('lt')}"
    if kind == "less_than_equal":
        return f"debe ser menor o igual a {ctx.get('le')}"
    if kind in ("literal_error", "enum"):
        return f"valor no permitido; use uno de: {_spanish_list(str(ctx.get('expected', '')))}"
    if kind == "union_tag_not_found":
        return "falta el campo 'kind' (invoice, credit_note o debit_note)"
    if kind == "union_tag_invalid":
        return (
            f"tipo de documento '{ctx.get('tag')}' desconocido; use invoice, credit_note o "
            "debit_note"
        )
    if kind in ("decimal_max_places", "decimal_max_digits", "decimal_whole_digits"):
        return "el número tiene demasiados dígitos o decimales"
    return f"valor no válido (detalle técnico: {kind})"


def format_validation_error(exc: ValidationError) -> str:
    """Render ``exc`` as one ``campo.ruta: mensaje en español`` line per error."""
    lines = []
    for err in exc.errors(include_url=False):
        ctx = err.get("ctx") or {}
        path = _location(tuple(err["loc"]), ctx.get("ruta") if err["type"] == "fe_tui" else None)
        message = _message(err)
        value = err.get("input")
        leaf = path.rsplit(".", 1)[-1]
        if (
            err["type"]
            in (
                "decimal_parsing",
                "int_parsing",
                "literal_error",
                "enum",
                "date_from_datetime_parsing",
                "datetime_from_date_parsing",
                "date_parsing",
                "datetime_parsing",
            )
            and isinstance(value, str | int)
            and len(str(value)) <= 40
            and leaf not in _SENSITIVE
        ):
            message += f" (se recibió {value!r})"
        lines.append(f"{path}: {message}")
    return "\n".join(lines)


_JSON_MESSAGES = {
    "Expecting value": "se esperaba un valor",
    "Expecting ',' delimiter": "falta una coma ','",
    "Expecting ':' delimiter": "falta ':' después del nombre del campo",
    "Expecting property name enclosed in double quotes": (
        "se esperaba un nombre de campo entre comillas dobles (¿coma sobrante?)"
    ),
    "Unterminated string starting at": "texto sin cerrar (falta la comilla final)",
    "Invalid control character at": "carácter de control no permitido dentro de un texto",
    "Invalid \\escape": "secuencia de escape no válida",
    "Extra data": "hay contenido después del final del JSON",
}


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"el campo '{key}' aparece repetido en el mismo objeto")
        result[key] = value
    return result


_TOO_DEEP = (
    "el JSON anida demasiados niveles de [ ] o { } (un documento tiene unos pocos); "
    "revise que sea el archivo correcto"
)


def _no_constant(name: str) -> Any:
    raise ValueError(f"valor {name} no permitido en el JSON")


def load_document_request(data: bytes | str) -> DocumentRequest:
    """Parse and validate the JSON of a document request.

    Numbers with a fraction are read as :class:`Decimal` (never float);
    ``NaN``/``Infinity`` and duplicate keys are refused. Raises
    :class:`~fe_tui.errors.InputError` with a Spanish message: the line and
    column for malformed JSON, or one ``campo.ruta: mensaje`` line per problem.
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"el archivo no está en UTF-8 (byte no válido en la posición {exc.start})"
            ) from exc
    else:
        text = data.removeprefix("\ufeff")
    try:
        raw = json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_no_constant,
            object_pairs_hook=_no_duplicates,
        )
    except json.JSONDecodeError as exc:
        reason = _JSON_MESSAGES.get(exc.msg, exc.msg)
        raise InputError(
            f"JSON mal formado en la línea {exc.lineno}, columna {exc.colno}: {reason}",
            line=exc.lineno,
            column=exc.colno,
        ) from exc
    except ValueError as exc:
        raise InputError(f"JSON no aceptado: {exc}") from exc
    except RecursionError:
        raise InputError(_TOO_DEEP) from None
    if not isinstance(raw, dict):
        raise InputError("el JSON debe ser un objeto {...} con environment, issuer, document…")
    return validate_document_request(raw)


def validate_document_request(raw: dict[str, Any], *, context: str = "") -> DocumentRequest:
    """Validate a parsed request (every model validator runs, dates included).

    ``context`` is put before the error count (e.g. ``"con la fecha de hoy, "``).
    """
    try:
        return DocumentRequest.model_validate(raw)
    except RecursionError:
        raise InputError(_TOO_DEEP) from None
    except ValidationError as exc:
        text_errors = format_validation_error(exc)
        raise InputError(
            f"{context}el documento tiene {exc.error_count()} error(es):\n{text_errors}",
            errors=exc.error_count(),
        ) from exc
