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

import re
from pathlib import Path

from lxml import etree

from fe_tui.errors import UnsafeXmlError, XmlError, XmlTooLargeError

#: Default cap on an XML document read from outside (bytes). DIAN documents
#: are a few hundred KB; an AttachedDocument with attachments a few MB.
MAX_XML_BYTES = 20 * 1024 * 1024
#: Room kept for the XAdES signature (a few KB; three certificates at most), so that
#: every document ``build`` writes can be signed and the signed one read back.
SIGNATURE_ALLOWANCE = 64 * 1024
#: The one size policy for documents: what ``build`` writes and ``sign`` accepts.
MAX_UNSIGNED_BYTES = MAX_XML_BYTES - SIGNATURE_ALLOWANCE


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


#: libxml2's error texts → Spanish (the user sees one Spanish line, never libxml2's English,
#: nor advice such as "use XML_PARSE_HUGE option" that nobody outside the code can follow).
_LIBXML2_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.S), spanish)
    for pattern, spanish in (
        (r"^Document is empty", "está vacío"),
        (r"^Start tag expected", "no empieza con una etiqueta XML («<»)"),
        (r"^Excessive depth in document", "anida más de 256 niveles de elementos (el límite)"),
        (r"^Premature end of data in tag (\S+)", "está incompleto: termina dentro de <\\1>"),
        (
            r"^Opening and ending tag mismatch: (\S+) line \d+ and (\S+)",
            "cierra </\\2> donde se esperaba </\\1>",
        ),
        (r"^Extra content at the end", "tiene contenido después del elemento raíz"),
        (r"^Couldn't find end of Start Tag (\S+)", "tiene la etiqueta <\\1> sin cerrar"),
        (r"^AttValue: \" or ' expected", "tiene un atributo sin comillas"),
        (r"^attributes construct error", "tiene un atributo mal escrito"),
        (r"^Attribute (\S+) redefined", "repite el atributo \\1"),
        (r"^Entity '([^']*)' not defined", "usa la entidad &\\1; que no está definida"),
        (
            r"^Invalid bytes in character encoding|^Input is not proper UTF-8",
            "tiene bytes que no corresponden a su codificación; la DIAN espera UTF-8",
        ),
        (r"^Unsupported encoding:? ?(\S*)", "declara una codificación no soportada (\\1)"),
        (r"^Document labelled UTF-16 but has UTF-8 content", "dice ser UTF-16 pero está en UTF-8"),
        (
            r"^PCDATA invalid Char value (\d+)|^Char 0x(\w+) out of allowed range",
            "contiene un carácter de control que XML no permite",
        ),
        (
            r"^xmlParseCharRef: invalid xmlChar value",
            "contiene una referencia a un carácter que XML no permite",
        ),
        (r"^Comment not terminated", "tiene un comentario sin cerrar («<!--» sin «-->»)"),
        (r"^CData section not finished", "tiene una sección CDATA sin cerrar"),
        (r"^StartTag: invalid element name", "tiene un nombre de elemento no válido"),
        (
            r"^Namespace prefix (\S+) on (\S+) is not defined",
            "usa el prefijo «\\1:» sin declarar su espacio de nombres",
        ),
        (
            r"^XML declaration allowed only at the start",
            "tiene la declaración <?xml …?> después del comienzo del archivo",
        ),
        (r"^EndTag: '</' not found", "tiene una etiqueta de cierre mal escrita"),
        (r"^Specification mandates value for attribute (\S+)", "tiene el atributo \\1 sin valor"),
        (
            r"too big|too long|Resource limit exceeded",
            "tiene un texto o comentario de más de 10 MB (el límite de lectura segura)",
        ),
        (
            r"[Hh]uge input lookup|Memory allocation failed|xmlSAX2Characters",
            "excede los límites de lectura segura",
        ),
    )
)

#: Formats recognised by their first bytes when XML was expected.
_NOT_XML_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "un archivo zip"),
    (b"PK\x05\x06", "un archivo zip (vacío)"),
    (b"\x1f\x8b", "un archivo comprimido gzip"),
    (b"%PDF", "un PDF"),
    (b"\x89PNG", "una imagen PNG"),
    (b"\xff\xd8\xff", "una imagen JPEG"),
    (b"\x30\x82", "un archivo binario DER (¿un certificado o un .p12?)"),
)


def libxml2_reason(message: str) -> str:
    """A Spanish phrase for libxml2's error ``message`` ("está vacío", "está incompleto…")."""
    text = re.sub(r", line \d+, column \d+$", "", message.strip())
    for pattern, spanish in _LIBXML2_MESSAGES:
        match = pattern.search(text)
        if match:
            return match.expand(spanish)
    return "está dañado (no es XML bien formado)"


def _not_xml(data: bytes) -> str | None:
    """What ``data`` is instead, when its first bytes say so (a zip, a PDF…)."""
    head = data.lstrip()[:8]
    for magic, what in _NOT_XML_MAGIC:
        if head.startswith(magic):
            return what
    return None


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
    other = _not_xml(data)
    if other is not None:
        hint = (
            " Descomprímalo y use el XML que trae dentro."
            if other.startswith("un archivo zip")
            else ""
        )
        raise XmlError(f"{what} no es XML: es {other}.{hint}", kind=other)
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        where = f" (línea {exc.lineno}, columna {exc.position[1]})" if exc.lineno else ""
        raise XmlError(
            f"{what} no es XML bien formado: {libxml2_reason(exc.msg or '')}{where}.",
            line=exc.lineno,
        ) from None
    except ValueError:  # e.g. unicode strings with an encoding declaration
        raise XmlError(
            f"{what} no se pudo leer como XML: se esperaban bytes, no texto con declaración "
            "de codificación."
        ) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeXmlError(
            f"{what} declara un DOCTYPE; por seguridad no se procesa.",
        )
    return root


def check_document_size(size: int, what: str, *, limit: int | None = None) -> None:
    """Refuse a document over the size policy before it is written (one message for all)."""
    limit = MAX_UNSIGNED_BYTES if limit is None else limit
    if size > limit:
        raise XmlTooLargeError(
            f"{what} ocuparía {size / 1_048_576:.1f} MB; el límite de un documento es "
            f"{limit / 1_048_576:.1f} MB (para que firmado no pase de "
            f"{MAX_XML_BYTES / 1_048_576:.0f} MB, lo que leen sign, verify y dian send). "
            "No se escribió nada: divida la venta en varios documentos.",
            size=size,
            limit=limit,
        )


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
