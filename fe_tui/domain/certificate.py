"""What fe-tui knows about a signing certificate, as plain data.

:class:`CertificateInfo` is the read-only summary of a PKCS#12 that the TUI's
certificate pane, the CLI (``--json``) and the doctor show to a support agent:
who the holder is, which NIT the certificate carries, who issued it, how long
it remains valid and what is wrong with it. It is built by
``fe_tui.crypto.certificates`` and holds no key material: nothing in it is
secret (a certificate is public), so it may be logged, stored and exported.

Times are timezone-aware UTC datetimes. ``days_left`` and ``status`` are
relative to ``checked_at``, the instant the summary was made for, so the same
certificate can be summarised "as of" a document's signing time.

This module imports only the standard library and pydantic.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

#: Days before expiry at which a warning is raised (most severe tier wins).
EXPIRY_WARNING_DAYS: tuple[int, ...] = (60, 30, 7)

#: At or under this many days left the status is "vence pronto".
EXPIRING_SOON_DAYS = 30

CertificateStatus = Literal["vigente", "vence pronto", "vencido", "aún no vigente"]


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("la fecha debe incluir zona horaria (se recibió una fecha sin zona)")
    return value.astimezone(UTC)


class ChainEntry(BaseModel):
    """One extra certificate found in the PKCS#12 (intermediate or root CA)."""

    model_config = ConfigDict(frozen=True)

    subject: str = Field(description="Sujeto, en formato RFC 4514.")
    subject_cn: str | None = Field(default=None, description="CN del sujeto.")
    issuer: str = Field(description="Emisor, en formato RFC 4514.")
    not_after: datetime = Field(description="Fin de vigencia (UTC).")
    self_signed: bool = Field(default=False, description="Sujeto igual al emisor (raíz).")

    @field_validator("not_after")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return _require_utc(value)


class NitCandidate(BaseModel):
    """A number found in the certificate subject that may be the holder's NIT."""

    model_config = ConfigDict(frozen=True)

    nit: str = Field(description="Solo dígitos, sin dígito de verificación.")
    dv: str | None = Field(default=None, description="Dígito de verificación, si venía.")
    source: str = Field(description='Atributo de origen, p. ej. "serialNumber".')
    raw: str = Field(description="Valor tal como aparece en el certificado.")


class CertificateInfo(BaseModel):
    """Summary of a signing certificate (and of the PKCS#12 that held it)."""

    model_config = ConfigDict(frozen=True)

    subject: str = Field(description="Sujeto, en formato RFC 4514.")
    subject_cn: str | None = Field(default=None, description="CN del sujeto (razón social).")
    issuer: str = Field(description="Emisor, en formato RFC 4514.")
    issuer_cn: str | None = Field(default=None, description="CN del emisor (la entidad).")
    serial_number: int = Field(description="Número de serie del certificado.")
    not_before: datetime = Field(description="Inicio de vigencia (UTC).")
    not_after: datetime = Field(description="Fin de vigencia (UTC).")
    checked_at: datetime = Field(description="Instante de referencia de days_left/status.")
    days_left: int = Field(
        description="Días calendario de Colombia hasta el último día de vigencia (0 si vence "
        "hoy, negativo si ya venció: -1 si venció ayer)."
    )
    nit: str | None = Field(default=None, description="NIT del titular, sin DV.")
    nit_dv: str | None = Field(default=None, description="DV, si el certificado lo trae.")
    nit_source: str | None = Field(default=None, description="Atributo del que salió el NIT.")
    nit_candidates: list[NitCandidate] = Field(default_factory=list)
    key_matches: bool = Field(description="La clave privada corresponde al certificado.")
    key_type: str = Field(description='"RSA", "EC", …')
    key_size: int | None = Field(default=None, description="Bits de la clave.")
    signature_hash_algorithm: str | None = Field(
        default=None, description='Hash de la firma del certificado, p. ej. "sha256".'
    )
    key_usage_digital_signature: bool | None = Field(
        default=None, description="KeyUsage digitalSignature (None: sin extensión KeyUsage)."
    )
    key_usage_non_repudiation: bool | None = Field(
        default=None, description="KeyUsage nonRepudiation (None: sin extensión KeyUsage)."
    )
    chain: list[ChainEntry] = Field(
        default_factory=list, description="Demás certificados del archivo, de hoja a raíz."
    )
    sha256_fingerprint: str = Field(description="Huella SHA-256, hex en mayúsculas con ':'.")
    pkcs12_encryption: list[str] = Field(
        default_factory=list, description='Cifrados del contenedor, p. ej. ["RC2-40", "3DES"].'
    )
    warnings: list[str] = Field(default_factory=list, description="Advertencias, en español.")

    @field_validator("not_before", "not_after", "checked_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return _require_utc(value)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> CertificateStatus:
        """Validity at ``checked_at``: vigente, vence pronto, vencido or aún no vigente."""
        if self.checked_at < self.not_before:
            return "aún no vigente"
        if self.checked_at > self.not_after:
            return "vencido"
        if self.days_left <= EXPIRING_SOON_DAYS:
            return "vence pronto"
        return "vigente"

    @property
    def serial_number_hex(self) -> str:
        """Serial number in upper-case hex, as CAs print it."""
        return format(self.serial_number, "X")

    @property
    def is_valid(self) -> bool:
        """True when ``checked_at`` lies inside the validity period."""
        return self.not_before <= self.checked_at <= self.not_after

    @property
    def pkcs12_legacy(self) -> bool:
        """True when the container uses RC2/RC4/DES-era encryption."""
        return any(name in _LEGACY_NAMES for name in self.pkcs12_encryption)


_LEGACY_NAMES = frozenset({"RC2-40", "RC2-128", "RC4-40", "RC4-128", "3DES", "2DES"})
