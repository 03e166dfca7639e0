"""The demo company: the company of ``examples/``, a generated test certificate, the simulator.

``fe-tui demo --no-ui`` (and, in the console, ``fe-tui demo``) creates it in
a data directory so a newcomer can send documents end to end in a minute:

- the issuer of ``examples/factura.json`` (Tostadora Andina de Café S.A.S.,
  NIT 900373076-4), its software (SoftwareID and PIN) and the habilitación
  range SETP 990000000–995000000: the same registration the simulator's own
  configuration has (``fe-tui simulator --print-config``), taken from it, so a
  separately started simulator accepts the demo's documents;
- a **test certificate** generated for the company (self-signed, one year, its
  NIT in ``serialNumber``), written 0600 in the company's folder. It is not a
  certificate of any CA and DIAN would refuse it; its password is the fixed,
  documented :data:`DEMO_CERT_PASSWORD` (a throwaway key, never a secret);
- environment ``simulator``: the local DIAN simulator, a clearly labelled test
  double, in-process by default or at ``dian_url``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from cryptography.x509.oid import NameOID

from fe_tui.crypto.certificates import self_signed_signing_certificate
from fe_tui.domain.company import Company, OperationMode
from fe_tui.domain.models import Address, Issuer
from fe_tui.fileio import private_dir, write_private
from fe_tui.settings import Settings
from fe_tui.store.db import Store

#: Password of the generated demo certificate (a throwaway test key; documented on purpose).
DEMO_CERT_PASSWORD = "fe-tui-demo"

_GSE_NIT_OID = x509.ObjectIdentifier("1.3.6.1.4.1.4710.1.3.2")


@dataclass(frozen=True)
class DemoCompany:
    """What :func:`create_demo_company` made."""

    company: Company
    certificate_path: Path
    data_dir: Path


def demo_issuer() -> Issuer:
    """The issuer of ``examples/factura.json``."""
    return Issuer(
        nit="900373076",
        dv="4",
        registration_name="Tostadora Andina de Café S.A.S.",
        trade_name="Café Andino",
        organization_type="1",
        tax_responsibilities=["O-15"],
        tax_scheme="01",  # type: ignore[arg-type]
        address=Address(
            line="Carrera 7 # 71-21 Oficina 502", municipality_code="11001", postal_code="110231"
        ),
        email="facturacion@cafeandino.com.co",
        phone="+57 601 3456789",
        commercial_registration="02765432",
    )


def make_test_certificate(nit: str, name: str, *, days: int = 365) -> bytes:
    """A self-signed PKCS#12 for ``nit`` (password :data:`DEMO_CERT_PASSWORD`), for demos."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{name} (CERTIFICADO DE PRUEBA fe-tui)"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, nit),
            x509.NameAttribute(_GSE_NIT_OID, nit),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CO"),
        ]
    )
    cert = self_signed_signing_certificate(key, subject, days=days)
    return pkcs12.serialize_key_and_certificates(
        name.encode("utf-8"),
        key,
        cert,
        None,
        BestAvailableEncryption(DEMO_CERT_PASSWORD.encode()),
    )


def create_demo_company(
    store: Store, settings: Settings, *, dian_url: str | None = None
) -> DemoCompany:
    """Create (or refresh) the demo company in ``store`` and make it the current one."""
    from fe_tui.services.company_certs import install_certificate
    from fe_tui.simulator.config import demo_config

    config = demo_config()
    registered = config.issuers[0]
    issuer = demo_issuer()
    assert issuer.nit == registered.nit, "the demo issuer is the simulator's issuer"
    company = Company(
        nit=registered.nit,
        dv=registered.dv,
        name=registered.name,
        operation_mode=OperationMode.OWN_SOFTWARE,
        environment="simulator",
        dian_url=dian_url,
        test_set_id=config.test_sets[0].test_set_id if config.test_sets else None,
        reception_email=issuer.email,
        notes="Empresa de demostración (simulador local de la DIAN; nada tiene efecto legal).",
        issuer=issuer,
        software=registered.software[0],
    )
    folder = private_dir(settings.data_dir / "companies" / company.nit / "certificates")
    cert_path = folder / "certificado-demo.p12"
    if not cert_path.exists():
        write_private(cert_path, make_test_certificate(company.nit, company.name))
    with store.transaction():
        store.save_company(company)
        for resolution in registered.ranges:
            store.save_resolution(company.nit, resolution, source="simulador")
        # The same records and checks as `fe-tui cert install` (probe signature included).
        install_certificate(store, company, cert_path, DEMO_CERT_PASSWORD, copy=False)
        store.set_current_company(company.nit)
    return DemoCompany(company, cert_path, settings.data_dir)
