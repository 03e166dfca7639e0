"""docs/invoice-json.md and examples/*.json must agree with the code.

What is checked, so that the reference cannot drift from the models:

* every ```json block of the document is verified, one way or another:

  - a complete request (``environment`` at the top level) is accepted by
    :func:`load_document_request`, without warnings, and ``fe-tui build`` turns it into XML;
  - a ``document`` object (``kind`` at the top level) is accepted inside the document's
    first complete request (the minimal example);
  - a block after ``<!-- modelo: Name -->`` validates as that model;
  - a block after ``<!-- errores -->`` is merged into the minimal example, ``fe-tui build``
    must refuse it (exit code 2) and print exactly the ```text block that follows;
  - any other ```json block fails the test;

* the ```text block after ``<!-- totales del ejemplo anterior -->`` holds the totals of the
  complete request just before it;
* the table of every object section names exactly the model's fields, says "sí" in the
  *obligatorio* column exactly for the required ones and gives each simple default value
  as "Por defecto `value`";
* every ``examples/*.json`` loads and is listed in the document, and every example file the
  document names exists.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from fe_tui.cli import main
from fe_tui.domain import models
from fe_tui.domain.models import load_document_request

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "invoice-json.md"
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))

#: Object sections of the document, by heading word (``### Issuer (`issuer`)``).
SECTIONS = (
    "DocumentRequest",
    "Issuer",
    "Address",
    "Customer",
    "Line",
    "LineTax",
    "AllowanceCharge",
    "PaymentMeans",
    "Resolution",
    "Software",
    "DocumentBase",
    "Invoice",
    "CreditNote",
    "DebitNote",
    "BillingReference",
    "InvoicePeriod",
    "Withholding",
)
#: Sections that list only their own fields (the common ones are under DocumentBase).
DOCUMENT_KINDS = ("Invoice", "CreditNote", "DebitNote")
#: Names in the totals block → attributes of ``DocumentTotals``.
TOTALS = {
    "LineExtensionAmount": "line_extension",
    "TaxExclusiveAmount": "tax_exclusive",
    "TaxInclusiveAmount": "tax_inclusive",
    "AllowanceTotalAmount": "allowance_total",
    "ChargeTotalAmount": "charge_total",
    "PrepaidAmount": "prepaid",
    "PayableAmount": "payable",
}
TOTALS_MARKER = "totales del ejemplo anterior"


# --- Reading the document ----------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A fenced block: language, content, 1-based line of the opening fence, marker comment."""

    lang: str
    text: str
    line: int
    marker: str

    @property
    def id(self) -> str:
        return f"linea{self.line}"


_MARKER = re.compile(r"<!--\s*(.*?)\s*-->")


def _blocks(text: str) -> list[Block]:
    """Fenced blocks in order; ``marker`` is an HTML comment on the last line before the fence."""
    blocks: list[Block] = []
    lines = text.splitlines()
    previous = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            start = i
            i += 1
            body: list[str] = []
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            marker = _MARKER.fullmatch(previous.strip())
            blocks.append(
                Block(line[3:].strip(), "\n".join(body), start + 1, marker[1] if marker else "")
            )
            previous = ""
        elif line.strip():
            previous = line
        i += 1
    return blocks


def _tables(text: str) -> dict[str, list[list[str]]]:
    """Rows (cells) of the first table after each object-section heading."""
    tables: dict[str, list[list[str]]] = {}
    current: str | None = None
    in_fence = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        heading = re.match(r"#{2,4} (\w+)", line)
        if heading:
            current = heading[1] if heading[1] in SECTIONS else None
            continue
        if current is None:
            continue
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            tables.setdefault(current, []).append(cells)
        elif current in tables:
            current = None  # the section's first table has ended
    return {name: rows[2:] for name, rows in tables.items()}  # without header and separator


DOC_TEXT = DOC.read_text(encoding="utf-8")
BLOCKS = _blocks(DOC_TEXT)
JSON_BLOCKS = [b for b in BLOCKS if b.lang == "json"]
TABLES = _tables(DOC_TEXT)


def _parse(block: Block) -> Any:
    return json.loads(block.text, parse_float=Decimal)


def _is_request(block: Block) -> bool:
    if block.lang != "json" or block.marker:
        return False
    data = _parse(block)
    return isinstance(data, dict) and "environment" in data


REQUESTS = [b for b in JSON_BLOCKS if _is_request(b)]


def _minimal() -> dict[str, Any]:
    assert REQUESTS, "el documento no tiene ninguna solicitud completa (con 'environment')"
    data = _parse(REQUESTS[0])
    assert isinstance(data, dict)
    return data


def _dumps(value: Any) -> str:
    """JSON text that keeps every Decimal exactly as it was written (never through float)."""
    if isinstance(value, dict):
        items = (f"{json.dumps(k)}: {_dumps(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dumps(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _merge(base: Any, patch: Any) -> Any:
    """``patch`` over ``base``: objects merge field by field, anything else is replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    return patch


def _build(tmp_path: Path, text: str) -> tuple[Any, Path]:
    source = tmp_path / "documento.json"
    source.write_text(text, encoding="utf-8")
    output = tmp_path / "documento.xml"
    result = CliRunner().invoke(main, ["build", str(source), "-o", str(output)])
    return result, output


# --- JSON blocks -------------------------------------------------------------------------


def test_document_has_examples() -> None:
    assert len(REQUESTS) >= 1
    assert any(b.marker == "errores" for b in JSON_BLOCKS)
    assert any(b.marker == TOTALS_MARKER for b in BLOCKS)


@pytest.mark.parametrize("block", REQUESTS, ids=lambda b: b.id)
def test_complete_request_loads_and_builds(block: Block, tmp_path: Path) -> None:
    request = load_document_request(block.text)
    assert request.warnings() == []
    result, output = _build(tmp_path, block.text)
    assert result.exit_code == 0, result.output
    assert output.read_bytes().startswith(b"<")


@pytest.mark.parametrize("block", JSON_BLOCKS, ids=lambda b: b.id)
def test_every_json_block_is_checked(block: Block) -> None:
    data = _parse(block)
    if block.marker.startswith("modelo:"):
        name = block.marker.removeprefix("modelo:").strip()
        model = getattr(models, name, None)
        assert isinstance(model, type) and issubclass(model, BaseModel), name
        model.model_validate(data)
    elif block.marker == "errores":
        assert isinstance(data, dict)  # checked against the CLI in test_error_examples
    elif isinstance(data, dict) and "environment" in data:
        load_document_request(block.text)
    elif isinstance(data, dict) and "kind" in data:
        request = load_document_request(_dumps({**_minimal(), "document": data}))
        assert request.warnings() == []
    else:
        pytest.fail(
            f"bloque JSON de la línea {block.line} sin verificar: ni solicitud completa, "
            "ni documento ('kind'), ni <!-- modelo: X -->, ni <!-- errores -->"
        )


ERROR_CASES = [
    (b, BLOCKS[i + 1] if i + 1 < len(BLOCKS) else None)
    for i, b in enumerate(BLOCKS)
    if b.lang == "json" and b.marker == "errores"
]


@pytest.mark.parametrize(("block", "expected"), ERROR_CASES, ids=lambda b: getattr(b, "id", ""))
def test_error_examples(block: Block, expected: Block | None, tmp_path: Path) -> None:
    assert expected is not None and expected.lang == "text", (
        f"falta el bloque ```text con la salida después de la línea {block.line}"
    )
    text = _dumps(_merge(_minimal(), _parse(block)))
    result, output = _build(tmp_path, text)
    assert result.exit_code == 2
    assert result.stderr.rstrip("\n") == expected.text
    assert not output.exists()


def test_totals_example() -> None:
    index = next(i for i, b in enumerate(BLOCKS) if b.marker == TOTALS_MARKER)
    source = next(b for b in reversed(BLOCKS[:index]) if _is_request(b))
    totals = load_document_request(source.text).document.totals()
    shown: dict[str, Decimal] = {}
    for line in BLOCKS[index].text.splitlines():
        name, sep, value = line.partition(" = ")
        assert sep and name in TOTALS, f"línea no reconocida en el bloque de totales: {line!r}"
        shown[name] = Decimal(value)
    assert set(shown) == set(TOTALS)
    for name, attribute in TOTALS.items():
        assert getattr(totals, attribute) == shown[name], name


# --- Tables ------------------------------------------------------------------------------


def _expected_fields(name: str) -> dict[str, FieldInfo]:
    fields = dict(getattr(models, name).model_fields)
    if name in DOCUMENT_KINDS:
        for common in models.DocumentBase.model_fields:
            fields.pop(common)
    return fields


def _default_text(info: FieldInfo) -> str | None:
    """How a simple default value appears in the table, or ``None`` when not shown."""
    if info.is_required():
        return None
    value = info.get_default(call_default_factory=True)
    if value is None or isinstance(value, BaseModel):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return json.dumps(value)
    if isinstance(value, Enum):
        value = value.value
    return str(value)


@pytest.mark.parametrize("name", SECTIONS)
def test_table_matches_model(name: str) -> None:
    rows = TABLES.get(name)
    assert rows, f"falta la sección '{name}' con su tabla"
    documented: dict[str, list[str]] = {}
    for cells in rows:
        field = re.fullmatch(r"`(\w+)`", cells[0])
        assert field and len(cells) == 4, f"{name}: fila mal formada {cells}"
        documented[field[1]] = cells
    expected = _expected_fields(name)
    assert sorted(documented) == sorted(expected)
    for field_name, info in expected.items():
        cells = documented[field_name]
        says_required = cells[2].startswith("sí")
        assert says_required == info.is_required(), f"{name}.{field_name}: '{cells[2]}'"
        default = _default_text(info)
        if default is not None:
            shown = (f"Por defecto `{default}`", f'Por defecto `"{default}"`')
            assert any(text in cells[3] for text in shown), (
                f"{name}.{field_name}: falta 'Por defecto `{default}`' en la descripción"
            )


# --- examples/ ---------------------------------------------------------------------------


def test_examples_exist() -> None:
    assert EXAMPLES


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_file_loads(path: Path) -> None:
    load_document_request(path.read_bytes())
    assert f"`examples/{path.name}`" in DOC_TEXT, f"{path.name} no aparece en el documento"


def test_named_examples_exist() -> None:
    for name in set(re.findall(r"examples/([\w.-]+\.json)", DOC_TEXT)):
        assert (ROOT / "examples" / name).is_file(), name
