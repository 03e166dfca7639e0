"""Tests of the domain layer: code lists, NIT check digit, models and the JSON loader."""

from __future__ import annotations

import copy
import json
import os
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from fe_tui.domain import codelists
from fe_tui.domain.models import (
    COLOMBIA_TZ,
    Address,
    AllowanceCharge,
    BillingReference,
    CreditNote,
    Customer,
    DocumentRequest,
    Environment,
    Invoice,
    Line,
    LineTax,
    Resolution,
    Software,
    TaxScheme,
    format_validation_error,
    load_document_request,
)
from fe_tui.domain.nit import is_valid_nit, nit_check_digit, split_nit, validate_nit
from fe_tui.errors import FieldError, InputError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example(name: str = "factura") -> dict[str, Any]:
    """An example request as a dict (numbers with a fraction as Decimal)."""
    return json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"), parse_float=Decimal)


def error_text(data: dict[str, Any] | str) -> str:
    """The Spanish message the loader raises for ``data`` (which must be invalid)."""
    text = data if isinstance(data, str) else json.dumps(data, default=str)
    with pytest.raises(InputError) as info:
        load_document_request(text)
    return info.value.message


def model_error(model: type[BaseModel], **data: Any) -> str:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return format_validation_error(info.value)


ADDRESS_BOG = {"line": "Calle 26 # 68-35", "municipality_code": "11001"}


# --- Code lists -------------------------------------------------------------------------


class TestCodeLists:
    def test_municipio_lookup(self) -> None:
        muni = codelists.municipio()
        assert len(muni) > 1000
        assert "11001" in muni
        assert (muni.name_of("11001") or "").startswith("Bogotá")
        assert muni.name_of("05001") == "Medellín"
        assert muni.name_of("99999") is None
        assert "99999" not in muni
        assert 11001 not in muni  # only text codes

    def test_departamentos_and_postal_codes(self) -> None:
        assert codelists.departamentos().name_of("05") == "Antioquia"
        postal = codelists.codigo_postal()
        assert "110231" in postal and "050021" in postal
        assert all(len(code) == 6 for code in postal.codes)

    def test_generic_loader_and_cache(self) -> None:
        assert codelists.codelist("Municipio") is codelists.codelist("Municipio")
        assert codelists.codelist("Municipio-2.1").name == "Municipio"
        # Idioma's code column is "iso-639-1", not "code".
        assert codelists.codelist("Idioma").name_of("es") == "Español, castellano"
        # A list with a "description" column still reads "name".
        assert codelists.codelist("TarifaImpuestoIVA").name_of("19.00") == "IVA"
        with pytest.raises(KeyError):
            codelists.codelist("NoExiste")

    def test_identification_types_annex_19(self) -> None:
        ids = codelists.tipo_id_fiscal()
        for code in ("11", "12", "13", "21", "22", "31", "41", "42", "47", "48", "50", "91"):
            assert code in ids, code
        assert ids.name_of("31") == "NIT"
        assert ids.name_of("91") == "NUIP"

    def test_responsibilities_exactly_five(self) -> None:
        assert codelists.tipo_responsabilidad().codes == (
            "O-13",
            "O-15",
            "O-23",
            "O-47",
            "R-99-PN",
        )
        assert codelists.tipo_responsabilidad().name_of("O-13") == "Gran contribuyente"

    def test_credit_note_concepts_annex_19(self) -> None:
        concepts = codelists.concepto_nota_credito()
        assert concepts.codes == ("1", "2", "3", "4", "5", "6")
        assert concepts.name_of("5") == "Descuento comercial por pronto pago"
        assert concepts.name_of("2") == "Anulación de factura electrónica"
        assert codelists.concepto_nota_debito().name_of("1") == "Intereses"

    def test_tributos_and_other_lists(self) -> None:
        taxes = codelists.tipo_impuesto()
        assert taxes.name_of("01") == "IVA" and taxes.name_of("04") == "INC"
        for code in ("30", "32", "33", "34", "35", "36", "ZA"):
            assert code in taxes
        assert taxes.name_of("ZZ") == "No aplica"
        assert {"09", "10", "11", "12", "13"} <= set(codelists.tipo_operacion_f().codes)
        assert "020" in codelists.tipo_codigo_producto()
        assert codelists.tipo_operacion_nc().codes[:2] == ("20", "22")
        assert codelists.tipo_operacion_nd().codes[:2] == ("30", "32")
        assert codelists.formas_pago().name_of("2") == "Crédito"
        assert codelists.medios_pago().name_of("10") == "Efectivo"
        assert "94" in codelists.unidades_medida() and "KGM" in codelists.unidades_medida()
        assert codelists.paises().name_of("CO") == "Colombia"
        assert "COP" in codelists.tipo_moneda()
        assert codelists.tipo_ambiente().name_of("2") == "Pruebas"
        assert codelists.codigo_descuento().codes == ("00", "01")
        assert codelists.codigo_precio_referencia().name_of("01") == "Valor comercial"
        assert codelists.tipo_organizacion().codes == ("1", "2")
        assert "04" in codelists.tipo_documento()


# --- NIT ----------------------------------------------------------------------------------

# Publicly known NIT/DV pairs.
KNOWN_NITS = [
    ("800197268", "4"),  # DIAN (SPEC §2.3)
    ("860034313", "7"),  # Banco Davivienda
    ("890903938", "8"),  # Bancolombia
    ("860002964", "4"),  # Banco de Bogotá
    ("899999063", "3"),  # Universidad Nacional de Colombia
    ("860003020", "1"),  # BBVA Colombia
]

_WEIGHTS = (3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71)


def _residue(nit: str) -> int:
    return sum(int(d) * w for d, w in zip(reversed(nit), _WEIGHTS, strict=False)) % 11


class TestNit:
    @pytest.mark.parametrize(("nit", "dv"), KNOWN_NITS)
    def test_known_vectors(self, nit: str, dv: str) -> None:
        assert nit_check_digit(nit) == dv
        assert is_valid_nit(nit, dv)
        assert is_valid_nit(nit, int(dv))
        validate_nit(nit, dv)

    def test_annex_example_nits(self) -> None:
        # NITs of the annex CUFE/CUDE vectors (SPEC §3.5).
        assert nit_check_digit("900373076") == "4"
        assert nit_check_digit("800199436") == "4"

    def test_wrong_dv_message(self) -> None:
        with pytest.raises(FieldError) as info:
            validate_nit("800197268", "5")
        assert info.value.field == "dv"
        assert (
            str(info.value) == "dv: dígito de verificación incorrecto: para el NIT 800197268 es 4"
        )
        assert not is_valid_nit("800197268", "5")

    @pytest.mark.parametrize("bad", ["", "80019726A", "800.197.268", "1234567890123456"])
    def test_malformed(self, bad: str) -> None:
        with pytest.raises(ValueError, match="dígitos"):
            nit_check_digit(bad)
        assert not is_valid_nit(bad, "0")

    def test_split(self) -> None:
        assert split_nit("800.197.268-4") == ("800197268", "4")
        assert split_nit("800197268") == ("800197268", None)
        assert split_nit("800 197 268-") == ("800197268", None)

    @given(st.from_regex(r"[0-9]{1,15}", fullmatch=True))
    def test_dv_is_one_digit(self, nit: str) -> None:
        dv = nit_check_digit(nit)
        assert len(dv) == 1 and dv.isdigit()

    @given(st.from_regex(r"[0-9]{1,10}", fullmatch=True), st.integers(0, 4))
    def test_leading_zeros_do_not_matter(self, nit: str, zeros: int) -> None:
        if len(nit) + zeros <= 15:
            assert nit_check_digit("0" * zeros + nit) == nit_check_digit(nit)

    @given(
        st.from_regex(r"[0-9]{1,15}", fullmatch=True),
        st.integers(0, 14),
        st.integers(1, 9),
    )
    def test_single_digit_change(self, nit: str, position: int, delta: int) -> None:
        # Every weight is coprime with 11 and a one-digit change is 1..9, so the
        # residue always changes; the DV then changes unless the residues are
        # exactly {1, 10}, the only two residues that share a DV ("1").
        position %= len(nit)
        changed = nit[:position] + str((int(nit[position]) + delta) % 10) + nit[position + 1 :]
        before, after = _residue(nit), _residue(changed)
        assert before != after
        if {before, after} != {1, 10}:
            assert nit_check_digit(nit) != nit_check_digit(changed)


# --- Examples and loader ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["factura", "nota-credito", "nota-debito", "factura-consumidor-final"]
)
def test_examples_load(name: str) -> None:
    request = load_document_request((EXAMPLES / f"{name}.json").read_bytes())
    assert request.environment is Environment.HABILITACION
    assert request.warnings() == []
    assert request.document.issue_time == "10:15:00-05:00"
    assert request.document.issue_date == date(2026, 11, 20)


def test_example_invoice_content() -> None:
    request = load_document_request((EXAMPLES / "factura.json").read_bytes())
    doc = request.document
    assert isinstance(doc, Invoice)
    assert doc.document_id == "SETP990000001"
    assert doc.lines[0].unit_price == Decimal("25000.00")
    assert isinstance(doc.lines[0].quantity, Decimal)
    assert request.issuer.address.city.startswith("Bogotá")
    assert request.issuer.address.subentity_code == "11"
    assert request.issuer.trade_name == "Café Andino"
    assert request.issuer.tax_level_code == "O-15"
    assert doc.customer.address is not None
    assert doc.customer.address.subentity == "Antioquia"
    assert doc.customer.tax_level_code == "O-13;O-23"
    assert doc.effective_due_date == date(2026, 12, 20)
    assert request.resolution is not None and request.resolution.contains(doc.number)


def test_json_numbers_become_decimal_not_float() -> None:
    data = example()
    text = json.dumps(data, default=str)
    # Write a JSON number (not a string) with a fraction that float cannot hold.
    text = text.replace('"unit_price": "25000.00"', '"unit_price": 0.1')
    text = text.replace('"quantity": "10"', '"quantity": 1.000001')
    request = load_document_request(text)
    line = request.document.lines[0]
    assert line.unit_price == Decimal("0.10")
    assert type(line.unit_price) is Decimal
    assert line.quantity == Decimal("1.000001")


def test_float_rejected_in_python() -> None:
    message = model_error(Line, description="x", quantity=1, unit_price=1.5)
    assert message == (
        'unit_price: use un número exacto (entero o texto, p. ej. "1234.50"); no se aceptan floats'
    )


def test_malformed_json_line_and_column() -> None:
    with pytest.raises(InputError) as info:
        load_document_request('{\n  "environment": 2,\n}')
    assert info.value.message == (
        "JSON mal formado en la línea 3, columna 1: se esperaba un nombre de campo entre "
        "comillas dobles (¿coma sobrante?)"
    )
    assert info.value.fields == {"line": 3, "column": 1}
    with pytest.raises(InputError, match="línea 1, columna 19: falta una coma"):
        load_document_request(b'{"environment": 2 "issuer": {}}')


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b'{"a": 1, "a": 2}', "el campo 'a' aparece repetido"),
        (b'{"a": NaN}', "valor NaN no permitido"),
        (b"[1, 2]", "debe ser un objeto"),
        (b'{"a": "\xff"}', "no está en UTF-8"),
    ],
)
def test_loader_rejects(payload: bytes, expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        load_document_request(payload)


def test_utf8_bom_accepted() -> None:
    data = b"\xef\xbb\xbf" + (EXAMPLES / "factura.json").read_bytes()
    assert load_document_request(data).document.number == 990000001


def test_extra_field_rejected() -> None:
    data = example()
    data["document"]["lines"][0]["colour"] = "rojo"
    text = error_text(data)
    assert "document.lines[0].colour: campo desconocido" in text
    assert text.startswith("el documento tiene 1 error(es):")


def test_missing_fields_are_named() -> None:
    data = example()
    del data["issuer"]["email"]
    del data["document"]["lines"][1]["unit_price"]
    text = error_text(data)
    assert "issuer.email: campo obligatorio" in text
    assert "document.lines[1].unit_price: campo obligatorio" in text


def test_unknown_kind() -> None:
    data = example()
    data["document"]["kind"] = "receipt"
    assert "document: tipo de documento 'receipt' desconocido" in error_text(data)
    del data["document"]["kind"]
    assert "document: falta el campo 'kind'" in error_text(data)


def test_no_english_in_messages() -> None:
    data = example()
    data["environment"] = 7
    data["issuer"]["nit"] = "abc"
    data["issuer"]["tax_responsibilities"] = []
    data["document"]["number"] = -3
    data["document"]["issue_at"] = "ayer"
    data["document"]["lines"][0]["quantity"] = "1,5"
    data["document"]["lines"][0]["excluded"] = "tal vez"
    data["document"]["lines"][1]["taxes"] = "IVA"
    data["document"]["notes"] = [""]
    data["document"]["type_code"] = "03"
    data["document"]["payment"]["due_date"] = "2026-02-30"
    data["document"]["customer"] = "Pedro"
    data["software"]["pin"] = 12345
    text = error_text(data)
    for english in ("Input should", "Field required", "Value error", "detalle técnico"):
        assert english not in text
    assert "environment: use 1" in text
    assert "issuer.nit: el NIT debe tener de 5 a 10 dígitos" in text
    assert "issuer.tax_responsibilities: debe tener al menos 1 elemento(s)" in text
    assert "document.number: no se permiten valores negativos (regla VLR01)" in text
    assert "document.issue_at: fecha y hora no válida" in text
    assert "document.lines[0].quantity: no es un número válido" in text
    assert "(se recibió '1,5')" in text
    assert "document.lines[0].excluded: se espera true o false" in text
    assert "document.lines[1].taxes: se espera una lista" in text
    assert "document.notes[0]: no puede estar vacío" in text
    assert "document.type_code: valor no permitido; use uno de: '01', '02' o '04'" in text
    assert "document.payment.due_date: fecha no válida" in text
    assert "document.customer: se espera un objeto" in text
    assert "software.pin: escríbalo como texto" in text


# --- Parties ----------------------------------------------------------------------------


class TestParties:
    def test_wrong_issuer_dv(self) -> None:
        data = example()
        data["issuer"]["dv"] = "7"
        assert error_text(data).endswith(
            "issuer.dv: dígito de verificación incorrecto: para el NIT 900373076 es 4"
        )

    def test_wrong_customer_dv_and_missing_dv(self) -> None:
        data = example()
        data["document"]["customer"]["dv"] = 9
        assert (
            "document.customer.dv: dígito de verificación incorrecto: para el NIT 800199436 es 4"
            in error_text(data)
        )
        del data["document"]["customer"]["dv"]
        assert "document.customer.dv: obligatorio cuando id_type es 31" in error_text(data)

    def test_unknown_municipality(self) -> None:
        data = example()
        data["document"]["customer"]["address"]["municipality_code"] = "99999"
        assert (
            "document.customer.address.municipality_code: el municipio 99999 no existe en la "
            "lista DIVIPOLA de la DIAN (Municipio)" in error_text(data)
        )

    def test_address_defaults_and_consistency(self) -> None:
        address = Address.model_validate({"line": "Cra 50 # 10-20", "municipality_code": 5001})
        assert address.municipality_code == "05001"
        assert address.department_code == "05"
        assert address.department_name == "Antioquia"
        assert address.city_name == "Medellín"
        assert address.country_name == "Colombia"
        assert address.is_colombian
        message = model_error(Address, **ADDRESS_BOG, department_code="05")
        assert message.startswith(
            "department_code: el departamento 05 no corresponde al municipio 11001"
        )
        assert model_error(Address, line="x").startswith(
            "municipality_code: obligatorio para direcciones en Colombia"
        )
        message = model_error(Address, **ADDRESS_BOG, postal_code="050021")
        assert message == ("postal_code: el código postal 050021 no corresponde al departamento 11")
        message = model_error(Address, **ADDRESS_BOG, postal_code="119999")
        assert "no existe en la lista DIAN CodigoPostal" in message
        assert "country_code: el código 'XX' no existe" in model_error(
            Address, line="x", country_code="XX"
        )

    def test_foreign_address(self) -> None:
        address = Address(line="5th Avenue 100", country_code="us", city_name="New York")
        assert address.country_code == "US"
        assert address.country == "Estados Unidos"
        assert address.subentity_code == ""
        assert model_error(Address, line="x", country_code="US") == (
            "city_name: obligatorio para direcciones fuera de Colombia"
        )
        assert (
            model_error(
                Address, line="x", country_code="US", city_name="Miami", municipality_code="11001"
            )
            == "municipality_code: solo aplica a direcciones en Colombia (country_code CO)"
        )

    def test_invalid_responsibility(self) -> None:
        data = example()
        data["issuer"]["tax_responsibilities"] = ["O-13", "O-99"]
        data["document"]["customer"]["tax_responsibilities"] = ["R-99-PN", "A-08"]
        text = error_text(data)
        assert (
            "issuer.tax_responsibilities: responsabilidad fiscal 'O-99' no válida en el anexo 1.9 "
            "(regla FAJ26); use una o varias de: O-13, O-15, O-23, O-47, R-99-PN" in text
        )
        assert "'A-08' no válida en el anexo 1.9 (regla FAK26)" in text

    def test_final_consumer(self) -> None:
        consumer = Customer.final_consumer()
        assert consumer.id_type == "13"
        assert consumer.id_number == "222222222222"
        assert consumer.name == "Consumidor final"
        assert consumer.tax_responsibilities == ["R-99-PN"]
        assert consumer.tax_scheme is TaxScheme.NO_APLICA
        assert consumer.tax_scheme.label == "No aplica"
        assert consumer.organization_type == "2"
        assert consumer.is_final_consumer
        assert consumer.address is None

    @pytest.mark.parametrize(
        ("id_type", "id_number", "ok"),
        [
            ("13", "1020304050", True),
            ("13", "10.203.040", False),
            ("13", "AB123456", False),
            ("41", "AB123456", True),
            ("41", "AB 123", False),
            ("22", "E123456", True),
            ("50", "12-3456789", True),
            ("48", "1234567", True),
            ("47", "PEP123", False),
            ("91", "1098765432", True),
        ],
    )
    def test_id_shapes(self, id_type: str, id_number: str, ok: bool) -> None:
        data = {"id_type": id_type, "id_number": id_number, "name": "Cliente"}
        if ok:
            customer = Customer.model_validate(data)
            assert customer.organization_type == "2"
            assert customer.tax_scheme is TaxScheme.NO_APLICA
        else:
            assert model_error(Customer, **data).startswith(f"id_number: para el tipo {id_type} (")

    def test_customer_type_and_dv_rules(self) -> None:
        customer = Customer.model_validate(
            {"id_type": 31, "id_number": "800197268", "dv": 4, "name": "DIAN"}
        )
        assert customer.organization_type == "1" and customer.dv == "4"
        assert model_error(Customer, id_type="99", id_number="1", name="x").startswith(
            "id_type: tipo de identificación '99' no válido"
        )
        assert model_error(Customer, id_type="13", id_number="123456", dv="1", name="x") == (
            "dv: solo aplica cuando id_type es 31 (NIT)"
        )
        assert "email: correo electrónico no válido" in model_error(
            Customer, id_type="13", id_number="123456", name="x", email="sin-arroba"
        )


# --- Lines, taxes, allowances ------------------------------------------------------------


class TestLines:
    def test_unknown_unit_code(self) -> None:
        data = example()
        data["document"]["lines"][0]["unit_code"] = "XYZ"
        assert (
            "document.lines[0].unit_code: el código 'XYZ' no existe en la lista DIAN "
            "UnidadesMedida" in error_text(data)
        )

    def test_negative_price(self) -> None:
        data = example()
        data["document"]["lines"][0]["unit_price"] = "-100"
        assert (
            "document.lines[0].unit_price: no se permiten valores negativos (regla VLR01); "
            "se recibió -100" in error_text(data)
        )

    def test_amount_decimals_and_zero_quantity(self) -> None:
        assert model_error(Line, description="x", quantity="1", unit_price="1.005") == (
            "unit_price: admite como máximo 2 decimales; se recibió 1.005"
        )
        assert model_error(Line, description="x", quantity="0", unit_price="1") == (
            "quantity: debe ser mayor que 0"
        )
        line = Line(description="x", quantity=Decimal("1.5"), unit_price=Decimal("100.000"))
        assert line.unit_price == Decimal("100.00")
        assert str(line.unit_price) == "100.00"
        assert line.unit_code == "94" and line.standard_scheme == "999"

    def test_discount_larger_than_line(self) -> None:
        message = model_error(
            Line,
            description="x",
            quantity="1",
            unit_price="100",
            allowances_charges=[{"amount": "150"}],
        )
        assert message.startswith("allowances_charges: los descuentos superan el valor")
        assert "VLR01" in message

    def test_excluded_line_with_taxes(self) -> None:
        message = model_error(
            Line,
            description="x",
            quantity="1",
            unit_price="100",
            excluded=True,
            taxes=[{"scheme": "01", "percent": "0"}],
        )
        assert message.startswith("taxes: una línea excluida (excluded true) no lleva impuestos")

    def test_tax_rates(self) -> None:
        assert LineTax(scheme="01", percent=Decimal(0)).exempt
        assert not LineTax(scheme="01", percent=Decimal(19)).exempt
        assert LineTax.model_validate({"scheme": 4, "percent": 8}).name == "INC"
        assert LineTax.model_validate({"scheme": "03", "percent": "0.966"}).name == "ICA"
        assert model_error(LineTax, scheme="01", percent="17") == (
            "percent: tarifa de IVA no válida: 17; use 0 (exento), 5 o 19"
        )
        assert model_error(LineTax, scheme="04", percent="4") == (
            "percent: tarifa de INC no válida: 4; use 8 o 16"
        )
        assert "van en 'withholdings'" in model_error(LineTax, scheme="06", percent="2.5")
        assert "se liquida por unidad" in model_error(LineTax, scheme="22", percent="0")
        assert "no existe en la lista DIAN TipoImpuesto" in model_error(
            LineTax, scheme="99", percent="1"
        )
        assert model_error(LineTax, scheme="03", percent="0.9666") == (
            "percent: admite como máximo 3 decimales; se recibió 0.9666"
        )
        assert model_error(LineTax, scheme="03", percent="101") == (
            "percent: debe ser como máximo 100"
        )

    def test_rates_are_checked_on_the_issue_date(self) -> None:
        """Rates are dated data (SPEC §15.5): IVA 16 % ended in 2016; ICUI rose each year."""
        data = example()
        data["document"]["lines"][0]["taxes"] = [{"scheme": "01", "percent": "16"}]
        assert error_text(data).endswith(
            "document.lines.0.taxes.0.percent: la tarifa de IVA de 16 % no está vigente "
            "el 2026-11-20; vigentes: 0 (exento), 5 o 19"
        )
        icui = {"scheme": "35", "percent": "15"}
        data["document"]["lines"][0]["taxes"] = [icui]
        assert "vigentes: 20" in error_text(data)
        data["document"]["issue_at"] = "2024-06-01T10:00:00-05:00"
        data["document"]["payment"]["due_date"] = "2024-07-01"
        request = load_document_request(json.dumps(data, default=str))  # 15 % was the 2024 rate
        assert request.document.lines[0].taxes[0].percent == 15

    def test_control_characters_are_refused_with_the_field(self) -> None:
        data = example()
        data["document"]["lines"][0]["description"] = "Café\x01 tostado"
        assert error_text(data).endswith(
            "document.lines[0].description: contiene un carácter de control que no puede ir en "
            "un XML (U+0001, posición 5); bórrelo (suele venir de copiar y pegar)"
        )

    def test_duplicate_tax(self) -> None:
        message = model_error(
            Line,
            description="x",
            quantity="1",
            unit_price="1",
            taxes=[{"scheme": "01", "percent": "19"}, {"scheme": "01", "percent": "5"}],
        )
        assert message == "taxes: un mismo tributo aparece dos veces en la línea"

    def test_allowance_rules(self) -> None:
        assert model_error(AllowanceCharge, amount="1", percent="1").startswith(
            "amount: indique 'amount' (valor) o 'percent'"
        )
        assert model_error(AllowanceCharge).startswith("amount: indique")
        assert model_error(AllowanceCharge, is_charge=True, amount="1", reason_code="00") == (
            "reason_code: solo aplica a descuentos (is_charge false)"
        )
        assert AllowanceCharge(amount=Decimal(1)).reason_text == "Descuento"
        assert AllowanceCharge(is_charge=True, amount=Decimal(1)).reason_text == "Cargo"

    def test_free_of_charge(self) -> None:
        assert model_error(
            Line, description="Muestra", quantity="1", unit_price="0", free_of_charge=True
        ).startswith("reference_price: obligatorio y mayor que 0 cuando free_of_charge es true")
        assert (
            model_error(
                Line,
                description="Muestra",
                quantity="1",
                unit_price="10",
                free_of_charge=True,
                reference_price="10",
            )
            == "unit_price: debe ser 0 en una línea gratuita (free_of_charge true)"
        )
        assert (
            model_error(Line, description="x", quantity="1", unit_price="10", reference_price="10")
            == "reference_price: solo aplica cuando free_of_charge es true"
        )


# --- Payment, resolution, software, references -------------------------------------------


def test_credit_sale_without_due_date() -> None:
    data = example()
    del data["document"]["payment"]["due_date"]
    assert (
        "document.payment.due_date: la fecha de vencimiento es obligatoria en ventas a crédito "
        "(form 2; regla IA04)" in error_text(data)
    )


def test_due_date_before_issue() -> None:
    data = example()
    data["document"]["payment"]["due_date"] = "2026-11-19"
    assert "document.payment.due_date: la fecha de vencimiento (2026-11-19) es anterior" in (
        error_text(data)
    )


class TestResolution:
    def test_number_outside_range(self) -> None:
        data = example()
        data["document"]["number"] = 995000001
        assert error_text(data).endswith(
            "document.number: el número 995000001 está fuera del rango autorizado por la "
            "resolución 18760000001 (990000000 a 995000000; regla FAD05d)"
        )

    def test_issue_date_outside_validity(self) -> None:
        data = example()
        data["document"]["issue_at"] = "2030-01-20T08:00:00-05:00"
        data["document"]["due_date"] = None
        data["document"]["payment"]["due_date"] = "2030-02-20"
        assert error_text(data).endswith(
            "document.issue_at: la fecha de expedición 2030-01-20 está fuera de la vigencia de "
            "la resolución 18760000001 (2019-01-19 a 2030-01-19)"
        )

    def test_prefix_mismatch_and_missing_resolution(self) -> None:
        data = example()
        data["document"]["prefix"] = "FE"
        assert "document.prefix: el prefijo 'FE' no es el de la resolución" in error_text(data)
        data = example()
        del data["resolution"]
        assert "resolution: obligatoria para facturas" in error_text(data)

    def test_methods_and_warnings(self) -> None:
        res = Resolution.model_validate(example()["resolution"])
        assert res.contains(990000000) and res.contains(995000000)
        assert not res.contains(989999999)
        assert res.valid_on(date(2030, 1, 19)) and not res.valid_on(date(2030, 1, 20))
        assert res.warnings() == []
        odd = res.model_copy(update={"technical_key": "clave-rara"})
        assert "no tiene la forma habitual" in odd.warnings()[0]
        data = example()["resolution"] | {"from_number": 10, "to_number": 5}
        assert model_error(Resolution, **data) == (
            "to_number: el rango termina (5) antes de empezar (10)"
        )
        data = example()["resolution"] | {"prefix": "SETPX"}
        assert model_error(Resolution, **data).startswith(
            "prefix: el prefijo tiene de 0 a 4 letras o dígitos"
        )


def test_software_checks() -> None:
    base = example()["software"]
    assert "software_id: el identificador del software es un GUID" in model_error(
        Software, **(base | {"software_id": "no-es-guid"})
    )
    assert model_error(Software, **(base | {"provider_dv": "1"})) == (
        "provider_dv: dígito de verificación incorrecto: para el NIT 900373076 es 4"
    )


def test_billing_reference() -> None:
    ref = BillingReference(number="SETP990000001", uuid="AB" * 48, issue_date=date(2026, 1, 1))
    assert ref.uuid == "ab" * 48 and ref.scheme_name == "CUFE-SHA384"
    assert model_error(
        BillingReference, number="SETP-1", uuid="a" * 96, issue_date="2026-01-01"
    ).startswith("number: número de documento no válido")
    assert (
        model_error(BillingReference, number="SETP1", uuid="a" * 95, issue_date="2026-01-01")
        == "uuid: el CUFE/CUDE tiene 96 caracteres hexadecimales"
    )


# --- Notes ------------------------------------------------------------------------------


class TestNotes:
    def test_credit_note_22_without_period(self) -> None:
        data = example("nota-credito")
        data["document"]["operation_type"] = "22"
        del data["document"]["billing_reference"]
        assert error_text(data).endswith(
            "document.invoice_period: obligatorio cuando operation_type es 22 (nota sin "
            "referencia a factura; regla CAE02)"
        )

    def test_credit_note_22_period_two_months(self) -> None:
        data = example("nota-credito")
        data["document"]["operation_type"] = "22"
        del data["document"]["billing_reference"]
        data["document"]["invoice_period"] = {"start_date": "2026-10-15", "end_date": "2026-11-14"}
        assert "document.invoice_period.end_date: el periodo de una nota sin referencia" in (
            error_text(data)
        )
        data["document"]["invoice_period"] = {"start_date": "2026-11-01", "end_date": "2026-11-30"}
        note = load_document_request(json.dumps(data, default=str)).document
        assert isinstance(note, CreditNote) and note.billing_reference is None

    def test_concept_2_requires_reference(self) -> None:
        data = example("nota-credito")
        data["document"]["operation_type"] = "22"
        data["document"]["concept_code"] = 2
        assert (
            "document.concept_code: el concepto 2 (anulación) exige una factura referenciada "
            "(operation_type 20; regla CBF03a)" in error_text(data)
        )

    def test_concepts(self) -> None:
        data = example("nota-credito")
        data["document"]["concept_code"] = "5"
        del data["document"]["concept_description"]
        note = load_document_request(json.dumps(data, default=str)).document
        assert isinstance(note, CreditNote)
        assert note.concept_description == "Descuento comercial por pronto pago"
        data["document"]["concept_code"] = "7"
        assert "document.concept_code: el código '7' no existe" in error_text(data)

    def test_reference_required_and_dates(self) -> None:
        data = example("nota-credito")
        del data["document"]["billing_reference"]
        assert "document.billing_reference: obligatoria cuando operation_type es 20" in (
            error_text(data)
        )
        data = example("nota-credito")
        data["document"]["billing_reference"]["issue_date"] = "2026-11-21"
        assert (
            "document.issue_at: la nota (2026-11-20) no puede tener fecha anterior a la de la "
            "factura referenciada (2026-11-21) (regla CBG06)" in error_text(data)
        )

    def test_debit_note_32(self) -> None:
        data = example("nota-debito")
        data["document"]["operation_type"] = "32"
        assert "document.billing_reference: no aplica cuando operation_type es 32" in (
            error_text(data)
        )
        del data["document"]["billing_reference"]
        assert "document.invoice_period: obligatorio cuando operation_type es 32" in (
            error_text(data)
        )
        data["document"]["concept_code"] = "5"
        assert "no existe en la lista DIAN ConceptoNotaDebito" in error_text(data)

    def test_note_prefix_warning(self) -> None:
        data = example("nota-credito")
        data["resolution"] = example()["resolution"]
        data["document"]["prefix"] = "SETP"
        request = load_document_request(json.dumps(data, default=str))
        assert request.warnings()[0].startswith("document.prefix: use para las notas un prefijo")


# --- Documents: time, currency, environment -------------------------------------------


def _invoice(**changes: Any) -> Invoice:
    data = copy.deepcopy(example()["document"])
    data.update(changes)
    return Invoice.model_validate(data)


def test_bogota_time_independent_of_machine_zone() -> None:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        naive = _invoice(issue_at="2026-11-20T20:30:00", due_date=None)
        assert naive.issue_at.tzinfo is not None
        local = naive.issue_at_colombia
        assert (local.hour, local.minute) == (20, 30)
        assert local.utcoffset() == timedelta(hours=-5)
        assert local.isoformat() == "2026-11-20T20:30:00-05:00"
        assert naive.issue_time == "20:30:00-05:00"

        aware = _invoice(issue_at="2026-11-21T01:00:00Z", due_date=None)
        converted = aware.issue_at_colombia
        assert converted.isoformat() == "2026-11-20T20:00:00-05:00"
        assert aware.issue_date == date(2026, 11, 20)
        assert aware.issue_time == "20:00:00-05:00"
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


def test_aware_datetime_object() -> None:
    moment = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)
    doc = _invoice(issue_at=moment, due_date=None)
    assert doc.issue_at_colombia == moment
    assert doc.issue_at_colombia.tzinfo == COLOMBIA_TZ


def test_currency_rules() -> None:
    with pytest.raises(ValidationError) as info:
        _invoice(currency="USD")
    assert format_validation_error(info.value).startswith(
        "exchange_rate: obligatoria cuando la moneda no es COP (USD)"
    )
    doc = _invoice(currency="usd", exchange_rate="4012.35")
    assert doc.currency == "USD" and doc.exchange_rate == Decimal("4012.35")
    with pytest.raises(ValidationError) as info:
        _invoice(currency="XXY")
    assert "currency: moneda 'XXY' no existe" in format_validation_error(info.value)


def test_environment_values() -> None:
    base = example()
    for value, expected in [
        (1, Environment.PRODUCCION),
        ("2", Environment.HABILITACION),
        ("producción", Environment.PRODUCCION),
        ("Habilitacion", Environment.HABILITACION),
    ]:
        request = DocumentRequest.model_validate(base | {"environment": value})
        assert request.environment is expected
    assert Environment.HABILITACION.label == "habilitación"
    base["environment"] = True
    assert error_text(base).endswith(
        'environment: use 1 o "produccion" (producción), 2 o "habilitacion" (habilitación)'
    )


def test_document_id_and_numbering_length() -> None:
    doc = _invoice()
    assert doc.document_id == "SETP990000001"
    with pytest.raises(ValidationError) as info:
        _invoice(number=10**17)
    assert "supera 20 caracteres (regla FAD05)" in format_validation_error(info.value)


def test_document_level_allowance_cannot_exceed_total() -> None:
    with pytest.raises(ValidationError) as info:
        _invoice(allowances_charges=[{"amount": "99999999"}])
    assert format_validation_error(info.value).startswith(
        "allowances_charges: los descuentos del documento (99999999.00) superan el total"
    )
