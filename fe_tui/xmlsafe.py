"""Safe reading of untrusted XML (DESIGN invariant 5).

DIAN answers, customer documents and files handed to ``fe-tui verify`` are
untrusted. They are parsed with entity substitution, DTD loading and network
access off, libxml2's own limits on (no ``huge_tree``), a size cap checked
before parsing, and any document type declaration refused outright: DIAN
documents never carry one, and refusing it closes the door to entity
expansion ("billion laughs") and external entities alike.

Whitespace is kept exactly as it came, because signature digests depend on it.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from fe_tui.errors import UnsafeXmlError, XmlError, XmlTooLargeError

#: Default cap on an XML document read from outside (bytes). DIAN documents
#: are a few hundred KB; an AttachedDocument with attachments a few MB.
MAX_XML_BYTES = 20 * 1024 * 1024


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
        collect_ids=False,
    )


def parse_bytes(
    data: bytes, *, max_bytes: int = MAX_XML_BYTES, what: str = "el XML"
) -> etree._Element:
    """Parse untrusted XML bytes and return the root element.

    Raises :class:`XmlTooLargeError`, :class:`UnsafeXmlError` or
    :class:`XmlError` with a Spanish message naming ``what``.
    """
    if len(data) > max_bytes:
        raise XmlTooLargeError(
            f"{what} ocupa {len(data) / 1_048_576:.1f} MB; el límite es "
            f"{max_bytes / 1_048_576:.0f} MB. Un documento DIAN no debería ser tan grande.",
            size=len(data),
            limit=max_bytes,
        )
    # A DOCTYPE can only appear before the root element; looking at the prolog
    # is enough and avoids handing libxml2 an entity declaration at all.
    head = data[:4096]
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise UnsafeXmlError(
            f"{what} declara un DOCTYPE o entidades; por seguridad no se procesa "
            "(los documentos DIAN no los usan).",
        )
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise XmlError(f"{what} no es XML bien formado: {exc.msg} (línea {exc.lineno}).") from None
    except ValueError as exc:  # e.g. unicode strings with an encoding declaration
        raise XmlError(f"{what} no se pudo leer como XML: {exc}.") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeXmlError(
            f"{what} declara un DOCTYPE; por seguridad no se procesa.",
        )
    return root


def read_file(path: str | Path, *, max_bytes: int = MAX_XML_BYTES) -> tuple[bytes, etree._Element]:
    """Read and safely parse an XML file. Returns the raw bytes and the root."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise XmlError(f"No existe el archivo {p}.", path=str(p)) from None
    except OSError as exc:
        raise XmlError(f"No se pudo leer {p}: {exc.strerror}.", path=str(p)) from None
    if size > max_bytes:
        raise XmlTooLargeError(
            f"{p.name} ocupa {size / 1_048_576:.1f} MB; el límite es "
            f"{max_bytes / 1_048_576:.0f} MB. Un documento DIAN no debería ser tan grande.",
            size=size,
            limit=max_bytes,
        )
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise XmlError(f"No se pudo leer {p}: {exc.strerror}.", path=str(p)) from None
    return data, parse_bytes(data, max_bytes=max_bytes, what=p.name)
