"""DIAN code lists (genericode ``.gc`` files shipped as package data).

The lists live in ``fe_tui/data/codelists``; they are DIAN's genericode files
(annex 1.7/1.8 era, as redistributed by FACHO). They are our own trusted
package data, so the stdlib ``xml.etree`` parser is adequate here (untrusted
XML goes through :mod:`fe_tui.xmlsafe` instead).

Where the current annex (1.9, see ``dian/SPEC.md``) differs from the shipped
file, the named accessor below supplements or overrides the file in code, with
a comment citing the SPEC section. Generic access: :func:`codelist`; the
accessors (:func:`tipo_id_fiscal`, :func:`municipio`…) are what the rest of the
code should use.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from types import MappingProxyType

__all__ = [
    "VALID_RESPONSIBILITIES",
    "CodeList",
    "codelist",
    "codigo_descuento",
    "codigo_postal",
    "codigo_precio_referencia",
    "concepto_nota_credito",
    "concepto_nota_debito",
    "departamentos",
    "formas_pago",
    "medios_pago",
    "municipio",
    "paises",
    "tipo_ambiente",
    "tipo_codigo_producto",
    "tipo_documento",
    "tipo_id_fiscal",
    "tipo_impuesto",
    "tipo_moneda",
    "tipo_operacion_f",
    "tipo_operacion_nc",
    "tipo_operacion_nd",
    "tipo_organizacion",
    "tipo_responsabilidad",
    "unidades_medida",
]

#: The only fiscal responsibilities (TaxLevelCode) still valid in annex 1.9
#: (SPEC §2.4, table 13.2.6.1). Anything else is rejected by FAJ26/FAK26.
VALID_RESPONSIBILITIES: tuple[str, ...] = ("O-13", "O-15", "O-23", "O-47", "R-99-PN")


@dataclass(frozen=True)
class CodeList:
    """One code list: an ordered, read-only mapping of code → name.

    ``name`` is the list's short name (e.g. ``"Municipio"``). Names may be
    empty for lists with a single column (``CodigoPostal1``).
    """

    name: str
    entries: Mapping[str, str] = field(repr=False)

    @property
    def codes(self) -> tuple[str, ...]:
        """All codes, in the order of the source file."""
        return tuple(self.entries)

    def name_of(self, code: str) -> str | None:
        """Name of ``code``, or ``None`` when the code is not in the list."""
        return self.entries.get(code)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def with_changes(
        self,
        add: Mapping[str, str] | None = None,
        remove: tuple[str, ...] = (),
    ) -> CodeList:
        """A copy with ``add`` merged in (overriding names) and ``remove`` dropped."""
        merged = {k: v for k, v in self.entries.items() if k not in remove}
        merged.update(add or {})
        return CodeList(self.name, MappingProxyType(merged))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse(data: bytes, name: str) -> CodeList:
    root = ET.fromstring(data)
    # Which column holds the code: the first Key's ColumnRef when it names a
    # real column (Idioma's key points at a "code" column that does not exist),
    # else "code", else the first column.
    columns = [el.get("Id", "") for el in root.iter() if _local(el.tag) == "Column"]
    key_ref = next(
        (
            ref.get("Ref", "")
            for key in root.iter()
            if _local(key.tag) == "Key"
            for ref in key
            if _local(ref.tag) == "ColumnRef"
        ),
        "",
    )
    if key_ref in columns:
        code_col = key_ref
    elif "code" in columns or not columns:
        code_col = "code"
    else:
        code_col = columns[0]
    name_col = "name" if "name" in columns else ("description" if "description" in columns else "")

    entries: dict[str, str] = {}
    for row in root.iter():
        if _local(row.tag) != "Row":
            continue
        values: dict[str, str] = {}
        for value in row:
            if _local(value.tag) != "Value":
                continue
            simple = next((c for c in value if _local(c.tag) == "SimpleValue"), None)
            values[value.get("ColumnRef", "")] = (
                (simple.text or "").strip() if simple is not None else ""
            )
        code = values.get(code_col, "")
        if code:
            entries[code] = values.get(name_col, "") if name_col else ""
    return CodeList(name, MappingProxyType(entries))


@functools.cache
def codelist(name: str) -> CodeList:
    """Load the shipped list ``name`` exactly as the file has it (cached).

    ``name`` is the file stem with or without the ``-2.1`` suffix:
    ``"Municipio"``, ``"Municipio-2.1"``, ``"CodigoPostal1"``,
    ``"TipoImpuesto-2.1.custom"``. Raises :class:`KeyError` for an unknown list.
    Prefer the named accessors, which apply the annex 1.9 corrections.
    """
    folder = files("fe_tui") / "data" / "codelists"
    for candidate in (f"{name}.gc", f"{name}-2.1.gc"):
        resource = folder / candidate
        if resource.is_file():
            short = name.removesuffix("-2.1")
            return _parse(resource.read_bytes(), short)
    raise KeyError(f"lista de códigos desconocida: {name}")


# --- Named accessors -------------------------------------------------------------


@functools.cache
def tipo_id_fiscal() -> CodeList:
    """Identification types (``schemeName`` of party ids), annex 1.9."""
    # SPEC §12: annex 1.9 adds 47 PEP and 48 PPT; 91 NUIP is already in the file
    # (with a stray asterisk in its name).
    return codelist("TipoIdFiscal").with_changes(
        add={
            "47": "Permiso especial de permanencia (PEP)",
            "48": "Permiso por protección temporal (PPT)",
            "91": "NUIP",
        }
    )


@functools.cache
def tipo_organizacion() -> CodeList:
    """Organization type (``AdditionalAccountID``): 1 jurídica, 2 natural."""
    return codelist("TipoOrganizacion")


@functools.cache
def tipo_responsabilidad() -> CodeList:
    """Fiscal responsibilities (``TaxLevelCode``): exactly the five valid in 1.9."""
    # SPEC §2.4: only O-13, O-15, O-23, O-47 and R-99-PN remain valid; the file
    # lacks R-99-PN (and the .custom file holds the obsolete long list).
    base = codelist("TipoResponsabilidad").with_changes(add={"R-99-PN": "No aplica – Otros"})
    return CodeList(
        base.name,
        MappingProxyType({code: base.entries.get(code, code) for code in VALID_RESPONSIBILITIES}),
    )


@functools.cache
def tipo_impuesto() -> CodeList:
    """Tributos (``TaxScheme/ID``), annex 1.9 table 13.2.2."""
    # SPEC §2.6: annex 1.9 adds 30, 32–36 (UNCONFIRMED beyond a public summary,
    # ODOO confirms 32 and 34), ZA for the party tax scheme, and names ZZ
    # "No aplica" (SPEC §2.4) where the file has a placeholder text.
    return codelist("TipoImpuesto").with_changes(
        add={
            "30": "IC datos",
            "32": "ICL",
            "33": "INPP",
            "34": "IBUA",
            "35": "ICUI",
            "36": "ADV",
            "ZA": "IVA e INC",
            "ZZ": "No aplica",
        }
    )


@functools.cache
def medios_pago() -> CodeList:
    """Payment means (``PaymentMeansCode``), e.g. 10 Efectivo, 42 Consignación."""
    return codelist("MediosPago")


@functools.cache
def formas_pago() -> CodeList:
    """Payment form (``PaymentMeans/ID``): 1 Contado, 2 Crédito."""
    return codelist("FormasPago")


@functools.cache
def unidades_medida() -> CodeList:
    """Units of measure (UN/ECE Rec 20 as published by DIAN; 94 = unidad)."""
    return codelist("UnidadesMedida")


@functools.cache
def municipio() -> CodeList:
    """DIVIPOLA municipalities (5-digit codes, e.g. 11001 Bogotá)."""
    return codelist("Municipio")


@functools.cache
def departamentos() -> CodeList:
    """DIVIPOLA departments (2-digit codes, e.g. 05 Antioquia)."""
    return codelist("Departamentos")


@functools.cache
def codigo_postal() -> CodeList:
    """Colombian 6-digit postal codes (list ``CodigoPostal1``; codes only)."""
    return codelist("CodigoPostal1")


@functools.cache
def paises() -> CodeList:
    """Countries, ISO 3166-1 alpha-2, Spanish names."""
    return codelist("Paises")


@functools.cache
def tipo_moneda() -> CodeList:
    """Currencies, ISO 4217."""
    return codelist("TipoMoneda")


@functools.cache
def concepto_nota_credito() -> CodeList:
    """Credit-note concepts (``DiscrepancyResponse/ResponseCode``), annex 1.9."""
    # SPEC §2.10 / §15.1: annex 1.9 removed 5 "Otros" and uses 1–6 as below.
    return codelist("ConceptoNotaCredito").with_changes(
        add={
            "1": "Devolución parcial de los bienes y/o no aceptación parcial del servicio",
            "2": "Anulación de factura electrónica",
            "3": "Rebaja o descuento parcial o total",
            "4": "Ajuste de precio",
            "5": "Descuento comercial por pronto pago",
            "6": "Descuento comercial por volumen de ventas",
        }
    )


@functools.cache
def concepto_nota_debito() -> CodeList:
    """Debit-note concepts: 1 Intereses, 2 Gastos por cobrar, 3 Cambio del valor, 4 Otros."""
    return codelist("ConceptoNotaDebito")


@functools.cache
def tipo_operacion_f() -> CodeList:
    """Invoice operation types (``CustomizationID``), annex 1.9."""
    # SPEC §1.2: annex 1.9 adds 12 Transporte and 13 Cambiario. The shipped
    # ".custom" file is an old APIDIAN list (it reuses 12) and is ignored.
    return codelist("TipoOperacionF").with_changes(
        add={"10": "Estándar", "12": "Transporte", "13": "Cambiario"}
    )


@functools.cache
def tipo_operacion_nc() -> CodeList:
    """Credit-note operation types: 20 with reference, 22 without, 23 legacy."""
    return codelist("TipoOperacionNC")


@functools.cache
def tipo_operacion_nd() -> CodeList:
    """Debit-note operation types: 30 with reference, 32 without, 33 legacy."""
    return codelist("TipoOperacionND")


@functools.cache
def tipo_ambiente() -> CodeList:
    """Environment (``ProfileExecutionID``): 1 Producción, 2 Pruebas."""
    return codelist("TipoAmbiente")


@functools.cache
def codigo_descuento() -> CodeList:
    """Discount reason codes: 00 no condicionado, 01 condicionado."""
    return codelist("CodigoDescuento")


@functools.cache
def codigo_precio_referencia() -> CodeList:
    """Reference price types for free lines: 01 comercial, 02 inventarios, 03 otro."""
    return codelist("CodigoPrecioReferencia")


@functools.cache
def tipo_codigo_producto() -> CodeList:
    """Item identification schemes (``StandardItemIdentification/@schemeID``)."""
    # SPEC §2.9 / §12: 020 Partida arancelaria is missing from the file.
    return codelist("TipoCodigoProducto").with_changes(add={"020": "Partida arancelaria"})


@functools.cache
def tipo_documento() -> CodeList:
    """Document type codes (01, 02, 03, 04, 91, 92)."""
    # SPEC §1.1: type 04 (contingencia DIAN) is missing from the file.
    return codelist("TipoDocumento").with_changes(
        add={"04": "Factura electrónica de venta - tipo 04 (contingencia DIAN)"}
    )
