"""Validation against DIAN's UBL 2.1 schemas, shipped as package data.

The UBL maindoc schemas validate the document; the ``ext:ExtensionContent``
holding ``sts:DianExtensions`` is ``processContents="lax"`` there, so the DIAN
extension is validated separately against ``DIAN_UBL_Structures.xsd``. That
schema's target namespace is the relative URI
``dian:gov:co:facturaelectronica:Structures-2-1``; documents may use that or
the ``urn:`` form, so the extension is checked under the schema's own URI.
"""

from __future__ import annotations

import threading
from functools import cache
from importlib import resources

from lxml import etree

from fe_tui import ns
from fe_tui.errors import NotDianDocumentError, SchemaError

_MAINDOC = {
    "Invoice": "UBL-Invoice-2.1.xsd",
    "CreditNote": "UBL-CreditNote-2.1.xsd",
    "DebitNote": "UBL-DebitNote-2.1.xsd",
    "ApplicationResponse": "UBL-ApplicationResponse-2.1.xsd",
    "AttachedDocument": "UBL-AttachedDocument-2.1.xsd",
}
_STS_SCHEMA_NS = "dian:gov:co:facturaelectronica:Structures-2-1"


def _xsd_dir() -> str:
    # The package is installed as plain files (setuptools), so the data folder
    # is a real directory and relative xsd:import paths resolve.
    return str(resources.files("fe_tui") / "data" / "xsd")


#: Schemas are compiled once per process; two threads asking at once wait for one compile.
_COMPILING = threading.Lock()


def schema_for(root_name: str) -> etree.XMLSchema:
    """The compiled schema of one UBL document type (cached per process, thread-safe)."""
    with _COMPILING:
        return _compile(root_name)


@cache
def _compile(root_name: str) -> etree.XMLSchema:
    try:
        filename = _MAINDOC[root_name]
    except KeyError:
        raise NotDianDocumentError(f"No hay esquema DIAN para documentos <{root_name}>.") from None
    tree = etree.parse(f"{_xsd_dir()}/maindoc/{filename}")
    return etree.XMLSchema(tree)


def _sts_schema(namespace: str = _STS_SCHEMA_NS) -> etree.XMLSchema:
    with _COMPILING:
        return _compile_sts(namespace)


@cache
def _compile_sts(namespace: str) -> etree.XMLSchema:
    """DIAN_UBL_Structures.xsd with its target namespace set to ``namespace``.

    Compiled once per spelling a document uses (ns.STS_ALTERNATIVES), so the
    extension is validated where it is, without copying and renaming it.
    """
    path = f"{_xsd_dir()}/maindoc/DIAN_UBL_Structures.xsd"
    with open(path, "rb") as fh:
        text = fh.read()
    quoted = f'"{_STS_SCHEMA_NS}"'.encode()
    text = text.replace(quoted, f'"{namespace}"'.encode())
    return etree.XMLSchema(etree.fromstring(text, base_url=path))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


#: The one error an unsigned document has by construction: the empty
#: ``ExtensionContent`` the signer fills with ``ds:Signature``.
_SIGNATURE_SLOT = "ExtensionContent': Missing child element(s)"

#: DIAN_UBL_Structures.xsd enumerates identification types for ``schemeID`` of
#: ProviderID/AuthorizationProviderID, but annex 1.9 and every accepted
#: document put the check digit there (SPEC §2.3: ``schemeID=<DV>``; DIAN's own
#: is "4"). DIAN never applies this schema (the extension is lax in UBL and
#: namespaced differently), so that one facet is not reported.
_DV_FACET = "ProviderID', attribute 'schemeID': [facet 'enumeration']"


#: A compiled schema keeps the errors of its last validation in ``error_log``: two threads
#: validating with one schema would read each other's errors (the queue builds and signs
#: in worker threads). Validation and reading the log happen under this lock.
_VALIDATING = threading.Lock()


def schema_errors(root: etree._Element, *, unsigned: bool = False) -> list[str]:
    """Validate a parsed DIAN document; return the errors (empty when valid).

    With ``unsigned`` the empty signature slot is tolerated (exactly one).
    """
    schema = schema_for(_local(root.tag))
    errors: list[str] = []
    with _VALIDATING:
        valid = schema.validate(root)
        log = list(schema.error_log)
    if not valid:
        slot_errors = 0
        for e in log:
            if unsigned and _SIGNATURE_SLOT in e.message and slot_errors == 0:
                slot_errors += 1
                continue
            errors.append(f"línea {e.line}: {e.message}")
    for ext in root.iter(*(f"{{{u}}}DianExtensions" for u in ns.STS_ALTERNATIVES)):
        errors.extend(_sts_errors(ext))
    return errors


def _sts_errors(ext: etree._Element) -> list[str]:
    namespace = etree.QName(ext).namespace or _STS_SCHEMA_NS
    schema = _sts_schema(namespace)
    with _VALIDATING:
        # lxml validates the subtree of a non-root element as its own document.
        if schema.validate(ext):
            return []
        log = list(schema.error_log)
    return [
        f"DianExtensions: {e.message.replace(namespace, _STS_SCHEMA_NS)}"
        for e in log
        if _DV_FACET not in e.message
    ]


def assert_valid(root: etree._Element, *, unsigned: bool = False) -> None:
    """Raise :class:`SchemaError` with DIAN rule ZB01's wording when invalid."""
    errors = schema_errors(root, unsigned=unsigned)
    if errors:
        raise SchemaError(
            "El documento no cumple el esquema XML de la DIAN (Regla ZB01): " + errors[0],
            errors=errors,
        )
