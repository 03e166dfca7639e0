"""DIAN file names, zip and base64 (SPEC §6, §15.7).

Name pattern ``<tt><NIT10><ppp><aa><dddddddd>.<ext>``:

- ``tt``: fv factura, nc nota crédito, nd nota débito, ar ApplicationResponse,
  ad AttachedDocument, z the zip;
- ``NIT10``: issuer NIT without DV, zero-padded to 10 digits;
- ``ppp``: provider code, "000" in every implementation seen;
- ``aa``: last two digits of the year;
- ``dddddddd``: the file consecutive, counted per issuer, per year and per file
  type. It is not the invoice number.

The annex calls the consecutive hexadecimal but prints the eleventh file as
``…00000011``. We write **hexadecimal** (lowercase, 8 digits), as the annex
text says and as APIDIAN does; DIAN does not enforce the pattern, and the
consecutive only has to be unique per issuer and year. Readers accept both.

Zips are read back with limits on entries and uncompressed size (DESIGN
invariant 5): the simulator and the DIAN client open zips from elsewhere.
"""

from __future__ import annotations

import base64
import io
import re
import zipfile
import zlib
from dataclasses import dataclass

from fe_tui.errors import PackagingError

PREFIXES = {"01": "fv", "02": "fv", "03": "fv", "04": "fv", "91": "nc", "92": "nd", "96": "ar"}
MAX_ZIP_ENTRIES = 50
MAX_UNCOMPRESSED = 20 * 1024 * 1024
#: What the zipfile module raises on damaged, truncated, encrypted or exotic archives
#: (found by fuzzing: a corrupt header gives ValueError, a corrupt stream zlib.error).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,  # unsupported compression method
    RuntimeError,  # encrypted entry
)
NAME_RE = re.compile(r"^(fv|nc|nd|ar|ad|z)(\d{10})(\d{3})(\d{2})([0-9a-fA-F]{8})\.(xml|zip)$")


def file_stem(kind: str, nit: str, year: int, consecutive: int, provider_code: str = "000") -> str:
    """``fv0900373076000260000000b``: the name without extension."""
    digits = "".join(ch for ch in nit if ch.isdigit())
    if not digits or len(digits) > 10:
        raise PackagingError(f"NIT inválido para el nombre de archivo: {nit!r}.")
    if not 0 < consecutive <= 0xFFFFFFFF:
        raise PackagingError(
            f"Consecutivo de archivo fuera de rango: {consecutive} (1 a 4294967295)."
        )
    if len(provider_code) != 3 or not provider_code.isdigit():
        raise PackagingError("El código de proveedor debe tener 3 dígitos.")
    return f"{kind}{int(digits):010d}{provider_code}{year % 100:02d}{consecutive:08x}"


@dataclass(frozen=True)
class Package:
    """A document ready for the web service."""

    xml_name: str
    zip_name: str
    zip_bytes: bytes

    @property
    def content_b64(self) -> str:
        """``contentFile``: base64 of the zip, no line breaks."""
        return base64.b64encode(self.zip_bytes).decode("ascii")


def pack(
    xml: bytes,
    *,
    document_type: str,
    nit: str,
    year: int,
    consecutive: int,
    provider_code: str = "000",
) -> Package:
    """Zip one signed XML under DIAN's naming (SendBillSync takes exactly one)."""
    try:
        kind = PREFIXES[document_type]
    except KeyError:
        raise PackagingError(
            f"Tipo de documento sin prefijo de archivo: {document_type}."
        ) from None
    xml_name = file_stem(kind, nit, year, consecutive, provider_code) + ".xml"
    zip_name = file_stem("z", nit, year, consecutive, provider_code) + ".zip"
    return Package(xml_name, zip_name, zip_files({xml_name: xml}))


def zip_files(files: dict[str, bytes]) -> bytes:
    """Deflate the files at the archive root, in the given order."""
    if len(files) > MAX_ZIP_ENTRIES:
        raise PackagingError(f"Un zip admite como máximo {MAX_ZIP_ENTRIES} documentos.")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def unzip(
    data: bytes,
    *,
    max_entries: int = MAX_ZIP_ENTRIES,
    max_total: int = MAX_UNCOMPRESSED,
) -> dict[str, bytes]:
    """Open an untrusted zip within limits; returns ``{name: bytes}``.

    Sizes are enforced while decompressing (the sizes in the directory can
    lie), so a zip bomb stops at the limit instead of filling memory.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS:
        raise PackagingError("El contenido no es un archivo zip válido.") from None
    infos = zf.infolist()
    if len(infos) > max_entries:
        raise PackagingError(f"El zip trae {len(infos)} archivos; el límite es {max_entries}.")
    out: dict[str, bytes] = {}
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        if "/" in info.filename or "\\" in info.filename or info.filename.startswith("."):
            raise PackagingError(
                f"Nombre de archivo no permitido dentro del zip: {info.filename!r}."
            )
        chunks = []
        try:
            with zf.open(info) as fh:
                while True:
                    chunk = fh.read(65536)
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > max_total:
                        raise PackagingError(
                            "El zip se descomprime a más de "
                            f"{max_total // 1_048_576} MB; se detuvo la lectura "
                            "(posible bomba zip).",
                        )
                    chunks.append(chunk)
        except _ZIP_ERRORS as exc:
            raise PackagingError(f"El zip está dañado: {exc}.") from None
        out[info.filename] = b"".join(chunks)
    return out
