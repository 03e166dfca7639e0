"""The DIAN rule catalogue (fe_tui/data/rules.json) and its helpers (fe_tui.dian.rules)."""

from __future__ import annotations

import json
import re
import unicodedata
from importlib import resources
from pathlib import Path

import pytest
from pydantic import ValidationError

from fe_tui.dian import rules
from fe_tui.dian.messages import RuleMessage
from fe_tui.dian.rules import ExplainedRule, Rule

# The codes of SPEC §10.2's table (hard-coded: the tests must not need ../shared).
SPEC_10_2 = [
    "ZB01", "ZE02", "ZD04", "ZD06", "90",
    "FAD05a", "FAD05d", "FAD05e", "FAD06", "CAD06", "DAD06", "DSAD06", "AAD06",
    "FAD09e", "CAD09e", "DAD09e",
    "FAB05b", "FAB05c", "FAB07b", "FAB08b", "FAB10b", "FAB11b", "FAB12b", "FAB19b", "FAB22",
    "FAB24b", "FAB24c", "FAB27b",
    "FAJ21", "FAJ24", "FAK24", "FAJ26", "FAK26", "FAJ43b", "FAJ44b", "FAJ47", "FAK47",
    "FAS01a", "FAS01b", "FAS04", "FAS07",
    "FAU02", "FAU04", "FAU06", "FAU08", "FAU14",
    "FAV01", "FAW01", "FAZ02", "VLR01", "IA04",
    "CBG02", "DBG02", "CBG04a", "CBG04b", "CBG06", "CBF03a", "CAE02", "CAE04",
    "CTG01", "AAG01e", "NOTREFPLGNS", "SIGNPLGNS",
    # just below the table: seen in annex 1.9 §7.9.3 examples, meaning UNCONFIRMED
    "AC38b", "AA08d", "AA09",
]  # fmt: skip
# Other codes SPEC names (§2.3, §8.1, §15.1, §15.6, §2.13).
SPEC_OTHER = [
    "FAD03", "FAD05", "FAD05b", "FAD05c", "FAB05", "FAB05a", "FAB07a", "FAB10", "FAB11",
    "FAB12", "FAB27", "FAJ10", "FAJ71", "FAK61", "FAZ09", "FAM02",
]  # fmt: skip
# Where SPEC marks the meaning UNCONFIRMED (or only groups the code with others).
UNCONFIRMED = {
    "FAJ47", "FAK47", "FAU08", "AC38b", "AA08d", "AA09",
    "FAD05b", "FAD05c", "FAB05a", "FAB07a", "FAB11", "FAB12",
}  # fmt: skip
# Literal DIAN texts SPEC quotes, DIAN's validator writes and real answers carry.
LITERAL = {
    "90": "Documento con CUFE '{key}' procesado anteriormente.",
    "ZB01": "Fallo en el esquema XML del archivo",
    "ZE02": "Valor de la firma inválido.",
    "FAB27b": "Huella no corresponde a un software autorizado para este OFE.",
    "FAD06": "Valor del CUFE no está calculado correctamente.",
    "FAS01b": "Tributo IVA (01), INC (04) informado no coincide, revisar Porcentaje, Nombre y ID.",
}
ROOT_DOCUMENTS = {
    "Invoice": {"01", "02", "03", "04", "05"},
    "CreditNote": {"91", "95"},
    "DebitNote": {"92"},
    "ApplicationResponse": {"96"},
}
FIELDS = {
    "code", "kind", "documents", "dian_text", "dian_text_literal", "explanation", "xpath",
    "fix", "confirmed", "source",
}  # fmt: skip


def _raw_entries() -> list[dict[str, object]]:
    text = resources.files("fe_tui").joinpath("data/rules.json").read_text(encoding="utf-8")
    data = json.loads(text)
    assert isinstance(data, list)
    return data


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


# -- the JSON file -------------------------------------------------------------------------------
def test_json_loads_and_every_entry_validates() -> None:
    entries = _raw_entries()
    assert len(entries) >= 60
    for entry in entries:
        assert set(entry) == FIELDS, entry.get("code")
        Rule.model_validate(entry)
    assert len(rules.catalogue()) == len(entries)


def test_no_duplicate_codes() -> None:
    codes = [str(e["code"]).casefold() for e in _raw_entries()]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize("code", SPEC_10_2 + SPEC_OTHER)
def test_spec_codes_are_present(code: str) -> None:
    assert code in rules.catalogue()


def test_xpaths_start_with_a_known_root_matching_the_documents() -> None:
    for rule in rules.catalogue().values():
        assert rule.xpath.startswith("/"), rule.code
        root = rule.xpath.split("/")[1]
        assert root in {*ROOT_DOCUMENTS, "*"}, rule.code
        if root != "*":
            assert set(rule.documents) <= ROOT_DOCUMENTS[root], rule.code
        else:  # the wildcard root is for rules spanning several roots
            roots = {r for r, docs in ROOT_DOCUMENTS.items() if docs & set(rule.documents)}
            assert len(roots) > 1, rule.code


def test_note_and_event_variants_use_their_own_root() -> None:
    cat = rules.catalogue()
    assert cat["FAD06"].xpath == "/Invoice/cbc:UUID"
    assert cat["CAD06"].xpath == "/CreditNote/cbc:UUID" and cat["CAD06"].documents == ("91",)
    assert cat["DAD06"].xpath == "/DebitNote/cbc:UUID" and cat["DAD06"].documents == ("92",)
    assert cat["AAD06"].xpath.startswith("/ApplicationResponse/")
    assert cat["CAD09e"].xpath == "/CreditNote/cbc:IssueDate"
    assert cat["DAD09e"].xpath == "/DebitNote/cbc:IssueDate"
    assert cat["DBG02"].xpath.startswith("/DebitNote/cac:BillingReference")
    assert "800197268" in cat["AAG01e"].explanation


def test_unconfirmed_meanings_are_marked_and_said() -> None:
    for rule in rules.catalogue().values():
        if rule.code in UNCONFIRMED:
            assert rule.confirmed is False, rule.code
        if not rule.confirmed:
            assert "no está confirmad" in rule.explanation, rule.code


def test_literal_texts_are_spec_quotes_and_the_rest_say_so() -> None:
    cat = rules.catalogue()
    for code, text in LITERAL.items():
        assert cat[code].dian_text == text
        assert cat[code].dian_text_literal is True
    literal = {r.code for r in cat.values() if r.dian_text_literal}
    assert set(LITERAL) <= literal
    for code in literal:  # a literal text names where it was read
        assert cat[code].source.strip(), code


def test_usual_severity() -> None:
    cat = rules.catalogue()
    for code in ("FAB10b", "FAJ43b", "FAJ44b"):
        assert cat[code].kind == "Notificación"
    for code in ("FAD06", "FAD09e", "ZE02", "90", "FAB27b", "CBG04a"):
        assert cat[code].kind == "Rechazo"


def test_fad06_fix_is_concrete() -> None:
    fix = rules.catalogue()["FAD06"].fix
    assert "trunc" in fix and "fe-tui cufe" in fix and "clave técnica" in fix


def test_rule_model_rejects_bad_entries() -> None:
    good = rules.catalogue()["FAD06"].model_dump()
    cases: list[dict[str, object]] = [
        {"xpath": "Invoice/cbc:UUID"},
        {"xpath": "/Factura/cbc:UUID"},
        {"documents": ["07"]},
        {"documents": []},
        {"kind": "Error"},
        {"dian_text": "Valor {} inválido"},
        {"dian_text": "Valor {kind} inválido"},
        {"extra": "x"},
    ]
    for bad in cases:
        with pytest.raises(ValidationError):
            Rule.model_validate({**good, **bad})


def test_catalogue_is_a_fresh_dict() -> None:
    first = rules.catalogue()
    first.pop("FAD06")
    assert "FAD06" in rules.catalogue()


# -- get -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("FAD06", "FAD06"),
        ("fad06", "FAD06"),
        (" FAD09E ", "FAD09e"),
        ("90", "90"),
        ("Regla 90", "90"),
        ("regla: 90", "90"),
        ("Regla: FAB27b", "FAB27b"),
        ("signplgns", "SIGNPLGNS"),
    ],
)
def test_get(query: str, code: str) -> None:
    rule = rules.get(query)
    assert rule is not None and rule.code == code


@pytest.mark.parametrize("query", ["", "  ", "Regla", "XYZ99", "FAD0"])
def test_get_unknown(query: str) -> None:
    assert rules.get(query) is None


# -- explain -------------------------------------------------------------------------------------
def test_explain_keeps_dian_literal_text_and_adds_the_explanation() -> None:
    # DIAN's text as it arrives differs from our catalogue wording: it must be kept verbatim.
    raw = "Regla: FAD09e, Rechazo: La fecha de generación de la factura es diferente a la fecha de firma, verificar. "  # noqa: E501
    explained = rules.explain(RuleMessage.parse(raw))
    assert explained == ExplainedRule(
        code="FAD09e",
        kind="Rechazo",
        dian_text=(
            "La fecha de generación de la factura es diferente a la fecha de firma, verificar."
        ),
        known=True,
        explanation=rules.catalogue()["FAD09e"].explanation,
        xpath="/Invoice/cbc:IssueDate",
        fix=rules.catalogue()["FAD09e"].fix,
        confirmed=True,
        family="Factura electrónica · datos básicos del encabezado (ID, UUID, fechas, tipo)",
    )


def test_explain_duplicate_rule_90() -> None:
    key = "8bb918b19ba22a694f1da11c643b5e9de39adf60311cf179179e9b33381030bcd4c3c3f156c506ed5908f9276f5bd9b4"  # noqa: E501
    raw = f"Regla: 90, Rechazo: Documento con CUFE '{key}' procesado anteriormente."
    explained = rules.explain(RuleMessage.parse(raw))
    assert explained.known and explained.code == "90"
    assert explained.dian_text == f"Documento con CUFE '{key}' procesado anteriormente."
    assert explained.fix is not None and "GetStatus" in explained.fix


def test_explain_is_case_insensitive_but_shows_the_code_as_it_came() -> None:
    explained = rules.explain(RuleMessage.parse("Regla: fad06, Rechazo: Valor del CUFE malo."))
    assert explained.known and explained.code == "fad06"
    assert explained.xpath == "/Invoice/cbc:UUID"


def test_explain_unknown_code() -> None:
    raw = "Regla: XYZ99, Notificación: Una regla nueva que aún no conocemos."
    explained = rules.explain(RuleMessage.parse(raw))
    assert explained == ExplainedRule(
        code="XYZ99",
        kind="Notificación",
        dian_text="Una regla nueva que aún no conocemos.",
        known=False,
        explanation=None,
        xpath=None,
        fix=None,
        confirmed=None,
    )


def test_explain_message_without_rule_code() -> None:
    raw = "Error descomprimiendo el archivo ZIP: No fue encontrado ningun documento XML valido."
    explained = rules.explain(RuleMessage.parse(raw))
    assert explained.code is None and explained.kind is None
    assert explained.known is False and explained.explanation is None
    assert explained.dian_text == raw


def test_explain_unconfirmed_rule_says_so() -> None:
    explained = rules.explain(RuleMessage.parse("Regla: FAJ47, Rechazo: Texto de la DIAN."))
    assert explained.known and explained.confirmed is False
    assert explained.dian_text == "Texto de la DIAN."


def test_explain_all_puts_rejections_first_and_keeps_order() -> None:
    raws = [
        "Regla: FAJ43b, Notificación: Nombre no coincide con el RUT.",
        "Regla: FAD06, Rechazo: Valor del CUFE no está calculado correctamente.",
        "Texto sin regla",
        "Regla: FAB10b, Notificación: Prefijo distinto.",
        "Regla: ZE02, Rechazo: Valor de la firma inválido.",
    ]
    explained = rules.explain_all(RuleMessage.parse(r) for r in raws)
    assert [e.code for e in explained] == ["FAD06", "ZE02", None, "FAJ43b", "FAB10b"]
    assert [e.kind for e in explained] == [
        "Rechazo", "Rechazo", None, "Notificación", "Notificación",
    ]  # fmt: skip
    assert rules.explain_all([]) == []


# -- message -------------------------------------------------------------------------------------
def test_message_90_round_trips() -> None:
    m = rules.message("90", key="abc")
    assert m.code == "90" and m.kind == "Rechazo"
    assert m.text == "Documento con CUFE 'abc' procesado anteriormente."
    assert m.raw == "Regla: 90, Rechazo: Documento con CUFE 'abc' procesado anteriormente."
    assert RuleMessage.parse(m.raw) == m
    assert m.render() == m.raw


def test_message_accepts_regla_prefix_and_normalizes_code() -> None:
    assert rules.message("Regla 90", key="k").code == "90"
    assert rules.message("fad06").code == "FAD06"


def test_message_kind_defaults_to_rule_and_can_be_overridden() -> None:
    assert rules.message("FAB10b").kind == "Notificación"
    assert rules.message("FAD06").kind == "Rechazo"
    assert rules.message("FAD06", kind="Notificación").kind == "Notificación"
    assert rules.message("FAD06", kind="notificacion").kind == "Notificación"
    assert rules.message("FAB10b", "RECHAZO").kind == "Rechazo"
    with pytest.raises(ValueError):
        rules.message("FAD06", kind="Error")


def test_message_errors() -> None:
    with pytest.raises(KeyError):
        rules.message("XYZ99")
    with pytest.raises(KeyError):
        rules.message("90")  # {key} needs a value


def test_every_rule_message_round_trips_through_the_parser() -> None:
    for rule in rules.catalogue().values():
        values = {name: f"valor-{name}" for name in rule.placeholders}
        m = rules.message(rule.code, **values)
        assert RuleMessage.parse(m.raw) == m, rule.code
        explained = rules.explain(m)
        assert explained.known and explained.dian_text == m.text


# -- search --------------------------------------------------------------------------------------
def test_search_finds_cufe() -> None:
    found = [r.code for r in rules.search("CUFE")]
    assert "FAD06" in found and "90" in found
    assert found == [r.code for r in rules.search("cufe")]


def test_search_is_accent_insensitive() -> None:
    found = rules.search("notificacion")
    assert "FAB10b" in [r.code for r in found]
    for rule in found:
        assert "notificacion" in _fold(rule.code + rule.dian_text + rule.explanation)
    assert [r.code for r in rules.search("POLITICA DE FIRMA")] == ["ZE02"]
    assert [r.code for r in rules.search("política de firma")] == ["ZE02"]


def test_search_by_literal_dian_text_and_code() -> None:
    assert [r.code for r in rules.search("Huella no corresponde")] == ["FAB27b"]
    assert rules.search("fad06")[0].code == "FAD06"
    assert rules.search("procesado anteriormente")[0].code == "90"


def test_search_misses_and_empty_query() -> None:
    assert rules.search("zzz-no-existe") == []
    assert len(rules.search("")) == len(rules.catalogue())


# -- coverage over the repository's fixtures ------------------------------------------------------
FIXTURES = Path(__file__).parent / "data"
_REGLA = re.compile(r"Regla:\s*([A-Za-z0-9]+)\s*,\s*(Rechazo|Notificaci[oó]n)\s*:\s*([^<]*)", re.S)


def _fixture_rules() -> list[tuple[str, str, str, str]]:
    found = []
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file() and path.suffix in {".xml", ".json", ".txt"}:
            text = path.read_text(encoding="utf-8", errors="replace")
            found += [(path.name, m[0], m[1], m[2]) for m in _REGLA.findall(text)]
    return found


def test_fixtures_carry_rules() -> None:
    assert len({code for _, code, _, _ in _fixture_rules()}) >= 20


def test_every_rule_code_in_the_fixtures_has_an_entry() -> None:
    missing = sorted({code for _, code, _, _ in _fixture_rules() if rules.get(code) is None})
    assert missing == []


def test_literal_flags_match_the_texts_of_real_answers() -> None:
    for name, code, _, text in _fixture_rules():
        rule = rules.get(code)
        assert rule is not None
        if rule.dian_text_literal:
            assert rules.matches_literal(rule, text), (name, code, text)


def test_fab27b_and_fad06_are_literal_with_dian_s_full_text() -> None:
    fab27b, fad06 = rules.get("FAB27b"), rules.get("FAD06")
    assert fab27b is not None and fad06 is not None
    assert fab27b.dian_text_literal and fad06.dian_text_literal
    assert rules.matches_literal(
        fab27b, "Huella no corresponde a un software\n      autorizado para este OFE.  "
    )
    assert not rules.matches_literal(fab27b, "Huella no corresponde a un software autorizado")


def test_matches_literal_fills_placeholders() -> None:
    rule = rules.get("90")
    assert rule is not None
    assert rules.matches_literal(rule, "Documento con CUFE 'abc' procesado anteriormente.")
    assert not rules.matches_literal(rule, "Documento procesado anteriormente.")


def test_explain_normalises_whitespace() -> None:
    raw = "Regla: FAD06,\n   Rechazo:\n   Valor del CUFE no está\n   calculado correctamente.\n"
    explained = rules.explain(RuleMessage.parse(raw))
    assert explained.dian_text == "Valor del CUFE no está calculado correctamente."


def test_issue_rules_are_explained() -> None:
    for code in ("FAJ08", "FAJ28", "FAJ40", "FAK08", "FAS02", "FAB31", "FAB34", "FAN02"):
        explained = rules.explain(RuleMessage.parse(f"Regla: {code}, Rechazo: x"))
        assert explained.known and explained.explanation and explained.xpath, code


@pytest.mark.parametrize(
    ("code", "base", "root"),
    [
        ("CAJ24", "FAJ24", "/CreditNote/"),
        ("DAJ24", "FAJ24", "/DebitNote/"),
        ("AAJ24", "FAJ24", "/ApplicationResponse/"),
        ("DBG04a", "CBG04a", "/DebitNote/"),
        ("CAX05", "FAX05", "/CreditNote/cac:CreditNoteLine/"),
    ],
)
def test_note_and_event_variants_are_explained_from_their_invoice_rule(
    code: str, base: str, root: str
) -> None:
    explained = rules.explain(RuleMessage.parse(f"Regla: {code}, Rechazo: Texto."))
    assert not explained.known and explained.derived_from == base
    assert explained.explanation and base in explained.explanation
    assert explained.xpath and explained.xpath.startswith(root)
    assert explained.fix


def test_unknown_code_is_explained_from_its_family() -> None:
    explained = rules.explain(RuleMessage.parse("Regla: FAJ99, Rechazo: Texto nuevo."))
    assert not explained.known and explained.derived_from is None
    assert explained.family == "Factura electrónica · emisor (cac:AccountingSupplierParty)"
    assert explained.explanation and "no catalogada" in explained.explanation
    assert rules.family("ZD99") == "Transversal · certificado digital de la firma"
    assert rules.family("89") == "código de estado del servicio web de la DIAN"
    assert rules.family("XYZ99") is None
