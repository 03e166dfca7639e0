"""Tests for fe_tui.crypto.verify: an independent XAdES-EPES verifier with diagnostics.

Signed documents are produced by an independent signer (python-xmlsec) in the
shapes DIAN accepts in the wild (SPEC §15.3); each one must verify here, with
python-xmlsec and with the ``xmlsec1`` command. Tampered copies must fail with
the specific diagnosis.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import functools
import hashlib
import json
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from fe_tui import ns
from fe_tui.crypto import policy
from fe_tui.crypto.verify import VerificationReport, verify_document
from fe_tui.errors import NotDianDocumentError, UnsafeXmlError

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
NIT = "900123456"

# --------------------------------------------------------------------------
# Test PKI: root CA and intermediate (EC, fast), signer leaf and a stranger (RSA 2048)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    root: x509.Certificate
    intermediate: x509.Certificate
    leaf: x509.Certificate
    leaf_key: rsa.RSAPrivateKey
    other: x509.Certificate
    other_key: rsa.RSAPrivateKey


def _name(cn: str, serial_number: str | None = None) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CO"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Pruebas S.A.S."),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Facturación, Electrónica"),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ]
    if serial_number:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number))
    return x509.Name(attrs)


def _cert(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: Any,
    signing_key: Any,
    serial: int,
    *,
    ca: bool,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    return builder.sign(signing_key, hashes.SHA256())


@functools.cache
def pki() -> Pki:
    start, end = dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    int_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root_name, int_name = _name("Raíz de Pruebas"), _name("Subordinada de Pruebas")
    root = _cert(
        root_name,
        root_name,
        root_key.public_key(),
        root_key,
        1,
        ca=True,
        not_before=start,
        not_after=end,
    )
    inter = _cert(
        int_name,
        root_name,
        int_key.public_key(),
        root_key,
        2,
        ca=True,
        not_before=start,
        not_after=end,
    )
    leaf = _cert(
        _name("Pruebas S.A.S.", NIT),
        int_name,
        leaf_key.public_key(),
        int_key,
        0x1F2E3D4C5B6A79880011223344556677,
        ca=False,
        not_before=start,
        not_after=end,
    )
    other = _cert(
        _name("Impostor S.A.S.", "800999999"),
        int_name,
        other_key.public_key(),
        int_key,
        77,
        ca=False,
        not_before=start,
        not_after=end,
    )
    return Pki(root, inter, leaf, leaf_key, other, other_key)


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


# --------------------------------------------------------------------------
# A small UBL invoice (SPEC §2.1 namespaces, two UBLExtensions)
# --------------------------------------------------------------------------


def invoice(
    *, sts: str = ns.STS, sig_ns_on_root: bool = True, root: str = "Invoice", lang: bool = False
) -> bytes:
    root_ns = ns.ROOT_NS[root]
    type_code = (
        "<cbc:CreditNoteTypeCode>91</cbc:CreditNoteTypeCode>"
        if root == "CreditNote"
        else "<cbc:InvoiceTypeCode>01</cbc:InvoiceTypeCode>"
    )
    xml_lang = ' xml:lang="es-CO"' if lang else ""
    sig_ns = (
        f' xmlns:ds="{ns.DS}" xmlns:xades="{ns.XADES}" xmlns:xades141="{ns.XADES141}"'
        if sig_ns_on_root
        else ""
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        f'<{root}{xml_lang} xmlns="{root_ns}" xmlns:cac="{ns.CAC}" xmlns:cbc="{ns.CBC}" '
        f'xmlns:ext="{ns.EXT}" xmlns:sts="{sts}"{sig_ns} xmlns:xsi="{ns.XSI}" '
        f'xsi:schemaLocation="{root_ns} '
        'http://docs.oasis-open.org/ubl/os-UBL-2.1/xsd/maindoc/UBL-Invoice-2.1.xsd">'
        "<ext:UBLExtensions><ext:UBLExtension><ext:ExtensionContent><sts:DianExtensions>"
        "<sts:InvoiceSource><cbc:IdentificationCode>CO</cbc:IdentificationCode>"
        "</sts:InvoiceSource><sts:SoftwareSecurityCode>abc</sts:SoftwareSecurityCode>"
        "</sts:DianExtensions></ext:ExtensionContent></ext:UBLExtension>"
        "<ext:UBLExtension><ext:ExtensionContent></ext:ExtensionContent></ext:UBLExtension>"
        "</ext:UBLExtensions>"
        "<cbc:UBLVersionID>UBL 2.1</cbc:UBLVersionID><cbc:CustomizationID>10</cbc:CustomizationID>"
        "<cbc:ProfileID>DIAN 2.1: Factura Electrónica de Venta</cbc:ProfileID>"
        "<cbc:ProfileExecutionID>2</cbc:ProfileExecutionID><cbc:ID>SETP990000001</cbc:ID>"
        f'<cbc:UUID schemeID="2" schemeName="CUFE-SHA384">{"ab" * 48}</cbc:UUID>'
        "<cbc:IssueDate>2025-03-10</cbc:IssueDate><cbc:IssueTime>10:20:00-05:00</cbc:IssueTime>"
        f"{type_code}<!-- comentario: no se firma -->"
        "<cbc:Note>Prueba &amp; ñandú &lt;ok&gt;</cbc:Note>"
        "<cbc:DocumentCurrencyCode>COP</cbc:DocumentCurrencyCode>"
        '<cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID="COP">100000.00'
        '</cbc:LineExtensionAmount><cbc:PayableAmount currencyID="COP">119000.00'
        f"</cbc:PayableAmount></cac:LegalMonetaryTotal></{root}>"
    ).encode()


# --------------------------------------------------------------------------
# Independent signer: python-xmlsec + a hand-built xades:QualifyingProperties
# --------------------------------------------------------------------------

_XS_DIGEST = {
    "sha1": xmlsec.Transform.SHA1,
    "sha256": xmlsec.Transform.SHA256,
    "sha384": xmlsec.Transform.SHA384,
    "sha512": xmlsec.Transform.SHA512,
}
_XS_SIG = {
    "rsa-sha1": xmlsec.Transform.RSA_SHA1,
    "rsa-sha256": xmlsec.Transform.RSA_SHA256,
    "rsa-sha512": xmlsec.Transform.RSA_SHA512,
}
_XS_C14N = {
    "inclusive": xmlsec.Transform.C14N,
    "exclusive": xmlsec.Transform.EXCL_C14N,
    "c14n11": xmlsec.Transform.C14N11,
}


def _x(local: str) -> str:
    return ns.q(ns.XADES, local)


def _d(local: str) -> str:
    return ns.q(ns.DS, local)


def _wrap(text: str, width: int = 76) -> str:
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


def _qualifying_properties(
    sig: etree._Element, sig_id: str, props_id: str, opts: dict[str, Any]
) -> None:
    obj = etree.SubElement(sig, _d("Object"))
    qp = etree.SubElement(
        obj, _x("QualifyingProperties"), Target=f"#{sig_id}", nsmap={"xades": ns.XADES}
    )
    sp = etree.SubElement(qp, _x("SignedProperties"), Id=props_id)
    ssp = etree.SubElement(sp, _x("SignedSignatureProperties"))
    etree.SubElement(ssp, _x("SigningTime")).text = opts["signing_time"]
    sc = etree.SubElement(ssp, _x("SigningCertificate"))
    digest_uri = policy.DIGEST_URIS[opts["digest"]]
    for cert in opts["xades_certs"]:
        c = etree.SubElement(sc, _x("Cert"))
        cd = etree.SubElement(c, _x("CertDigest"))
        etree.SubElement(cd, _d("DigestMethod"), Algorithm=digest_uri)
        etree.SubElement(cd, _d("DigestValue")).text = base64.b64encode(
            hashlib.new(opts["digest"], _der(cert)).digest()
        ).decode()
        iss = etree.SubElement(c, _x("IssuerSerial"))
        etree.SubElement(iss, _d("X509IssuerName")).text = opts["issuer_format"](cert)
        etree.SubElement(iss, _d("X509SerialNumber")).text = str(cert.serial_number)
    spi = etree.SubElement(ssp, _x("SignaturePolicyIdentifier"))
    spid = etree.SubElement(spi, _x("SignaturePolicyId"))
    sid = etree.SubElement(spid, _x("SigPolicyId"))
    etree.SubElement(sid, _x("Identifier")).text = opts["policy_url"]
    etree.SubElement(sid, _x("Description")).text = policy.POLICY_DESCRIPTION
    sph = etree.SubElement(spid, _x("SigPolicyHash"))
    etree.SubElement(sph, _d("DigestMethod"), Algorithm=digest_uri)
    etree.SubElement(sph, _d("DigestValue")).text = (
        opts["policy_hash"] or policy.POLICY_HASHES[digest_uri]
    )
    role = etree.SubElement(ssp, _x("SignerRole"))
    roles = etree.SubElement(role, _x("ClaimedRoles"))
    etree.SubElement(roles, _x("ClaimedRole")).text = opts["role"]


def xmlsec_sign(doc: bytes, **overrides: Any) -> bytes:
    """Sign ``doc`` with python-xmlsec in the shape described by ``overrides``."""
    p = pki()
    opts: dict[str, Any] = {
        "digest": "sha256",
        "sig": "rsa-sha256",
        "c14n": "inclusive",
        "signing_time": "2025-03-10T10:20:30.123-05:00",
        "role": policy.ROLE_SUPPLIER,
        "xades_certs": [p.leaf],
        "keyinfo_certs": [p.leaf],
        "issuer_format": lambda c: c.issuer.rfc4514_string(),
        "policy_url": policy.POLICY_URL,
        "policy_hash": None,
        "pretty": False,
        "order": ("doc", "keyinfo", "props"),
        "keyinfo_transform": None,
        "prefixes": None,
    }
    opts.update(overrides)
    sig_id = f"xmldsig-{uuid.uuid4()}"
    keyinfo_id = f"xmldsig-{uuid.uuid4()}-keyinfo"  # a different UUID than the Signature's
    props_id = f"{sig_id}-signedprops"

    root = etree.fromstring(doc)
    extensions = root.find(ns.q(ns.EXT, "UBLExtensions")).findall(ns.q(ns.EXT, "UBLExtension"))
    content = extensions[1].find(ns.q(ns.EXT, "ExtensionContent"))
    c14n = _XS_C14N[opts["c14n"]]
    sig = xmlsec.template.create(root, c14n, _XS_SIG[opts["sig"]], id=sig_id, ns="ds")
    content.append(sig)
    if opts["prefixes"]:
        xmlsec.template.transform_add_c14n_inclusive_namespaces(
            sig.find(_d("SignedInfo")).find(_d("CanonicalizationMethod")), opts["prefixes"]
        )
    for kind in opts["order"]:
        if kind == "doc":
            ref = xmlsec.template.add_reference(
                sig, _XS_DIGEST[opts["digest"]], id=f"{sig_id}-ref0", uri=""
            )
            xmlsec.template.add_transform(ref, xmlsec.Transform.ENVELOPED)
            if opts["c14n"] != "inclusive":
                xmlsec.template.add_transform(ref, c14n)
        elif kind == "keyinfo":
            ref = xmlsec.template.add_reference(
                sig, _XS_DIGEST[opts["digest"]], uri=f"#{keyinfo_id}"
            )
            if opts["keyinfo_transform"] is not None:
                transform = xmlsec.template.add_transform(ref, opts["keyinfo_transform"])
                if opts["prefixes"]:
                    xmlsec.template.transform_add_c14n_inclusive_namespaces(
                        transform, opts["prefixes"]
                    )
        else:
            xmlsec.template.add_reference(
                sig,
                _XS_DIGEST[opts["digest"]],
                uri=f"#{props_id}",
                type=policy.SIGNED_PROPERTIES_TYPE,
            )
    key_info = xmlsec.template.ensure_key_info(sig, id=keyinfo_id)
    x509_data = xmlsec.template.add_x509_data(key_info)
    for i, cert in enumerate(opts["keyinfo_certs"]):
        b64 = base64.b64encode(_der(cert)).decode()
        el = (
            xmlsec.template.x509_data_add_certificate(x509_data)
            if i == 0
            else etree.SubElement(x509_data, _d("X509Certificate"))
        )
        el.text = _wrap(b64) if opts["pretty"] else b64
    _qualifying_properties(sig, sig_id, props_id, opts)
    if opts["pretty"]:
        etree.indent(sig, space="  ", level=4)
    else:
        for el in sig.iter():
            if el.text is not None and not el.text.strip():
                el.text = None
            if el is not sig and el.tail is not None and not el.tail.strip():
                el.tail = None
    xmlsec.tree.add_ids(root, ["Id"])
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_memory(
        p.leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        xmlsec.KeyFormat.PEM,
    )
    ctx.sign(sig)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def resign(root: etree._Element) -> bytes:
    """Re-sign SignedInfo by hand (after a deliberate edit) with the leaf key."""
    sig = next(root.iter(_d("Signature")))
    si = sig.find(_d("SignedInfo"))
    octets = etree.tostring(si, method="c14n")
    value = pki().leaf_key.sign(octets, padding.PKCS1v15(), hashes.SHA256())
    sig.find(_d("SignatureValue")).text = base64.b64encode(value).decode()
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def xmlsec_agrees(data: bytes) -> bool:
    """python-xmlsec's verdict, with the leaf certificate as key."""
    root = etree.fromstring(data)
    xmlsec.tree.add_ids(root, ["Id"])
    sig = next(root.iter(_d("Signature")))
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_memory(_pem(pki().leaf), xmlsec.KeyFormat.CERT_PEM)
    try:
        ctx.verify(sig)
    except xmlsec.Error:
        return False
    return True


def xmlsec1_agrees(data: bytes, tmp_path: Path) -> bool | None:
    """The xmlsec1 command's verdict using the KeyInfo certificate (None if not installed)."""
    exe = shutil.which("xmlsec1")
    if exe is None:
        return None
    path = tmp_path / f"{uuid.uuid4()}.xml"
    path.write_bytes(data)
    proc = subprocess.run(
        [
            exe,
            "--verify",
            "--insecure",
            "--id-attr:Id",
            f"{ns.DS}:KeyInfo",
            "--id-attr:Id",
            f"{ns.XADES}:SignedProperties",
            str(path),
        ],
        capture_output=True,
        timeout=20,
        check=False,
    )
    return proc.returncode == 0


def verify(data: bytes) -> VerificationReport:
    report = verify_document(data, now=NOW)
    json.dumps(report.to_dict())  # always serialisable
    return report


def check_ok(report: VerificationReport, name: str) -> bool | None:
    found = report.check(name)
    assert found is not None, f"no check {name}: {[c.name for c in report.checks]}"
    return found.ok


@functools.cache
def signed_default() -> bytes:
    return xmlsec_sign(invoice())


# --------------------------------------------------------------------------
# Accepted shapes (SPEC §15.3)
# --------------------------------------------------------------------------


def _reversed_spaced_issuer(cert: x509.Certificate) -> str:
    # Forward (X.500) order with spaces after the commas, as .NET writes it.
    parts = [a.rfc4514_string() for a in cert.issuer]
    return ", ".join(parts)


SHAPES: dict[str, dict[str, Any]] = {
    "sha256": {},
    "sha384": {"digest": "sha384"},
    "sha512-rsa512": {"digest": "sha512", "sig": "rsa-sha512"},
    "sha384-rsa512": {"digest": "sha384", "sig": "rsa-sha512"},
    "utc-ms": {"signing_time": "2025-03-10T15:20:30.752Z"},
    "utc-late": {"signing_time": "2025-03-11T01:30:00.000Z"},
    "dian-plus00": {"signing_time": "2025-03-10T10:20:30+00:00"},
    "third-party": {"role": policy.ROLE_THIRD_PARTY},
    "three-certs": {"xades_certs": "chain"},
    "chain-in-keyinfo": {"xades_certs": "chain", "keyinfo_certs": "chain"},
    "pretty": {"pretty": True},
    "order": {"order": ("props", "keyinfo", "doc")},
    "other-policy-url": {"policy_url": "https:/facturaelectronica.dian.gov.co/politica.pdf"},
    "issuer-format": {"issuer_format": _reversed_spaced_issuer},
    "exclusive": {"c14n": "exclusive", "keyinfo_transform": xmlsec.Transform.EXCL_C14N},
    "exclusive-prefixlist": {
        "c14n": "exclusive",
        "keyinfo_transform": xmlsec.Transform.EXCL_C14N,
        "prefixes": ["cbc", "cac", "#default"],
    },
    "c14n11": {"c14n": "c14n11", "keyinfo_transform": xmlsec.Transform.C14N11},
    "xml-lang": {"doc": {"lang": True}},
    "xml-lang-c14n11": {
        "doc": {"lang": True},
        "c14n": "c14n11",
        "keyinfo_transform": xmlsec.Transform.C14N11,
    },
    "credit-note": {"doc": {"root": "CreditNote"}},
}


def _resolve_shape(shape: dict[str, Any]) -> dict[str, Any]:
    p = pki()
    out = dict(shape)
    out.pop("doc", None)
    for key in ("xades_certs", "keyinfo_certs"):
        if out.get(key) == "chain":
            out[key] = [p.leaf, p.intermediate, p.root]
    return out


@pytest.mark.parametrize("shape", list(SHAPES))
def test_accepted_shapes(shape: str, tmp_path: Path) -> None:
    data = xmlsec_sign(invoice(**SHAPES[shape].get("doc", {})), **_resolve_shape(SHAPES[shape]))
    report = verify(data)
    assert report.valid, [c.message for c in report.failed_checks()]
    assert report.all_ok, [c.message for c in report.failed_checks()]
    assert report.diagnosis == []
    assert {c.name for c in report.checks} >= {
        "location",
        "reference:documento",
        "reference:KeyInfo",
        "reference:SignedProperties",
        "coverage",
        "signature_value",
        "signing_certificate",
        "policy",
    }
    assert report.certificate_valid_at_signing_time is True
    assert report.policy_hash_ok is True
    assert report.signer_nit == NIT
    assert xmlsec_agrees(data)
    assert xmlsec1_agrees(data, tmp_path) in (True, None)


def test_facts_extracted() -> None:
    report = verify(signed_default())
    assert report.document_type == "Invoice"
    assert report.document_type_code == "01"
    assert report.document_id == "SETP990000001"
    assert report.uuid == "ab" * 48
    assert report.signature_method == policy.SIGNATURE_RSA_SHA256
    assert report.digest_methods == [policy.DIGEST_SHA256]
    assert report.c14n_method == policy.C14N_INCLUSIVE
    assert report.signing_time == dt.datetime(
        2025, 3, 10, 10, 20, 30, 123000, tzinfo=dt.timezone(dt.timedelta(hours=-5))
    )
    assert report.signing_time_colombia is not None
    assert report.signing_time_colombia.hour == 10
    assert report.claimed_role == "supplier"
    assert report.policy_identifier == policy.POLICY_URL
    assert report.certificate_serial == str(pki().leaf.serial_number)
    assert "Subordinada de Pruebas" in (report.certificate_issuer or "")
    assert report.certificate_not_before == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert report.certificate_valid_now is True
    assert check_ok(report, "issue_date") is True
    data = report.to_dict()
    assert data["valid"] is True and data["signing_time"].startswith("2025-03-10T10:20:30.123")


def test_utc_signing_time_is_converted_and_flagged() -> None:
    report = verify(xmlsec_sign(invoice(), signing_time="2025-03-11T01:30:00.000Z"))
    assert report.valid
    assert report.signing_time_colombia is not None
    assert report.signing_time_colombia.date() == dt.date(2025, 3, 10)
    assert check_ok(report, "issue_date") is True  # 20:30 in Bogotá, same day
    zone = report.check("signing_time_zone")
    assert zone is not None and zone.ok is None and "+00:00" in zone.message


def test_issue_date_differs_from_signing_date() -> None:
    report = verify(xmlsec_sign(invoice(), signing_time="2025-03-11T08:00:00-05:00"))
    assert report.valid
    check = report.check("issue_date")
    assert check is not None and check.ok is None and "FAD09e" in check.message
    assert any("FAD09e" in d for d in report.diagnosis)


def test_crlf_file(tmp_path: Path) -> None:
    data = xmlsec_sign(invoice(), pretty=True).replace(b"\n", b"\r\n")
    assert b"\r\n" in data
    report = verify(data)
    assert report.valid, report.diagnosis
    assert xmlsec_agrees(data)
    assert xmlsec1_agrees(data, tmp_path) in (True, None)


def test_relative_sts_namespace(tmp_path: Path) -> None:
    data = xmlsec_sign(invoice(sts="dian:gov:co:facturaelectronica:Structures-2-1"))
    report = verify(data)
    assert report.valid, report.diagnosis
    assert xmlsec_agrees(data)
    assert xmlsec1_agrees(data, tmp_path) in (True, None)


def test_signature_declaring_its_own_namespaces(tmp_path: Path) -> None:
    data = xmlsec_sign(invoice(sig_ns_on_root=False), pretty=True)
    assert b'<ds:Signature xmlns:ds="' in data
    report = verify(data)
    assert report.valid, report.diagnosis
    assert xmlsec1_agrees(data, tmp_path) in (True, None)


def test_signature_without_own_namespace_declarations() -> None:
    data = signed_default()
    assert b"<ds:Signature Id=" in data  # inherits ds from the root
    assert verify(data).valid


def test_sha1_is_verified_but_flagged() -> None:
    data = xmlsec_sign(invoice(), digest="sha1", sig="rsa-sha1")
    report = verify(data)
    assert report.valid
    assert check_ok(report, "algorithms") is False
    assert not report.all_ok


def test_xmlenc_sha384_uri_accepted() -> None:
    root = etree.fromstring(xmlsec_sign(invoice(), digest="sha384"))
    si = next(root.iter(_d("SignedInfo")))
    for dm in si.iter(_d("DigestMethod")):
        dm.set("Algorithm", policy.DIGEST_SHA384_XMLENC)
    report = verify(resign(root))
    assert report.valid, report.diagnosis
    assert report.digest_methods == [policy.DIGEST_SHA384_XMLENC]


# --------------------------------------------------------------------------
# Tampering and broken signers: each with its diagnosis
# --------------------------------------------------------------------------


def test_amount_changed_after_signing(tmp_path: Path) -> None:
    data = signed_default().replace(b">119000.00<", b">119001.00<")
    report = verify(data)
    assert not report.valid
    assert check_ok(report, "reference:documento") is False
    assert check_ok(report, "reference:KeyInfo") is True
    assert check_ok(report, "reference:SignedProperties") is True
    assert check_ok(report, "signature_value") is True
    assert any("modificó después de firmarlo" in d for d in report.diagnosis)
    assert not xmlsec_agrees(data)
    assert xmlsec1_agrees(data, tmp_path) in (False, None)


def test_reindented_document(tmp_path: Path) -> None:
    parser = etree.XMLParser(remove_blank_text=True)
    root = etree.fromstring(signed_default(), parser)
    data = etree.tostring(
        root.getroottree(), pretty_print=True, xml_declaration=True, encoding="UTF-8"
    )
    report = verify(data)
    assert not report.valid
    for name in (
        "reference:documento",
        "reference:KeyInfo",
        "reference:SignedProperties",
        "signature_value",
    ):
        assert check_ok(report, name) is False, name
    assert any("re-indentó o re-serializó" in d for d in report.diagnosis)
    assert not xmlsec_agrees(data)
    assert xmlsec1_agrees(data, tmp_path) in (False, None)


def test_keyinfo_digested_with_exclusive_c14n() -> None:
    # The signer digests KeyInfo with exclusive C14N but declares no transform
    # (i.e. the default inclusive C14N 1.0).
    root = etree.fromstring(xmlsec_sign(invoice(), keyinfo_transform=xmlsec.Transform.EXCL_C14N))
    key_info = next(root.iter(_d("KeyInfo")))
    for ref in root.iter(_d("Reference")):
        if ref.get("URI") == f"#{key_info.get('Id')}":
            ref.remove(ref.find(_d("Transforms")))
    data = resign(root)
    report = verify(data)
    assert not report.valid
    assert check_ok(report, "reference:KeyInfo") is False
    assert check_ok(report, "reference:documento") is True
    assert check_ok(report, "signature_value") is True
    assert any(
        "KeyInfo se digirió con C14N exclusiva" in d and "C14N 1.0 inclusiva" in d
        for d in report.diagnosis
    ), report.diagnosis
    assert not any("reemplazó" in d for d in report.diagnosis)
    assert not xmlsec_agrees(data)


def test_keyinfo_digested_detached() -> None:
    root = etree.fromstring(signed_default())
    key_info = next(root.iter(_d("KeyInfo")))
    detached = etree.tostring(copy.deepcopy(key_info), method="c14n")
    for ref in root.iter(_d("Reference")):
        if ref.get("URI") == f"#{key_info.get('Id')}":
            ref.find(_d("DigestValue")).text = base64.b64encode(
                hashlib.sha256(detached).digest()
            ).decode()
    report = verify(resign(root))
    assert check_ok(report, "reference:KeyInfo") is False
    assert any("elemento aislado" in d for d in report.diagnosis), report.diagnosis


def test_wrong_policy_hash() -> None:
    bad = base64.b64encode(b"\x01" * 32).decode()
    report = verify(xmlsec_sign(invoice(), policy_hash=bad))
    assert report.valid  # the signature itself is fine
    assert report.policy_hash_ok is False
    policy_check = report.check("policy")
    assert policy_check is not None and policy_check.ok is False
    assert "ZE02 Política de firma inválida" in policy_check.message
    assert any("ZE02" in d for d in report.diagnosis)
    assert not report.all_ok


def test_policy_hash_of_another_algorithm() -> None:
    sha256_value = policy.POLICY_HASHES[policy.DIGEST_SHA256]
    report = verify(xmlsec_sign(invoice(), digest="sha512", policy_hash=sha256_value))
    check = report.check("policy")
    assert check is not None and check.ok is False and "sha256" in check.message


def test_signing_time_outside_certificate_validity() -> None:
    report = verify(xmlsec_sign(invoice(), signing_time="2023-06-01T10:00:00-05:00"))
    assert report.valid
    assert report.certificate_valid_at_signing_time is False
    assert check_ok(report, "certificate_at_signing") is False
    assert any("vigencia del certificado" in d for d in report.diagnosis)


def test_swapped_certificate(tmp_path: Path) -> None:
    root = etree.fromstring(signed_default())
    cert_el = next(root.iter(_d("X509Certificate")))
    cert_el.text = base64.b64encode(_der(pki().other)).decode()
    data = etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
    report = verify(data)
    assert not report.valid
    assert check_ok(report, "reference:KeyInfo") is False
    assert check_ok(report, "signature_value") is False
    assert check_ok(report, "signing_certificate") is False
    assert check_ok(report, "reference:documento") is True
    assert any("certificado de KeyInfo se reemplazó" in d for d in report.diagnosis)
    assert xmlsec1_agrees(data, tmp_path) in (False, None)


def test_signedproperties_edited() -> None:
    data = signed_default().replace(
        b"2025-03-10T10:20:30.123-05:00", b"2025-03-10T11:20:30.123-05:00"
    )
    report = verify(data)
    assert not report.valid
    assert check_ok(report, "reference:SignedProperties") is False
    assert any("SignedProperties" in d and "editaron" in d for d in report.diagnosis)


def test_duplicate_id_is_a_failure() -> None:
    root = etree.fromstring(signed_default())
    key_info = next(root.iter(_d("KeyInfo")))
    note = root.find(ns.q(ns.CBC, "Note"))
    note.set("Id", key_info.get("Id"))
    report = verify(etree.tostring(root))
    ki = report.check("reference:KeyInfo") or next(
        c for c in report.checks if c.name.startswith("reference:#")
    )
    assert ki.ok is False and "repetido" in ki.message
    assert not report.valid


def test_unsigned_document() -> None:
    report = verify(invoice())
    assert not report.valid
    assert check_ok(report, "location") is False
    assert any("no tiene firma" in d for d in report.diagnosis)
    assert report.document_id == "SETP990000001"


def test_not_a_dian_document() -> None:
    with pytest.raises(NotDianDocumentError) as info:
        verify_document(b"<?xml version='1.0'?><html><body/></html>")
    assert "no es un documento" in info.value.message


def test_doctype_is_refused() -> None:
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">]>'
        b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol;</Invoice>'
    )
    with pytest.raises(UnsafeXmlError):
        verify_document(evil)


def test_credit_note_date_rule() -> None:
    data = xmlsec_sign(invoice(root="CreditNote"), signing_time="2025-03-11T00:30:00-05:00")
    report = verify(data)
    assert report.valid
    assert (report.document_type, report.document_type_code) == ("CreditNote", "91")
    check = report.check("issue_date")
    assert check is not None and "CAD09e" in check.message


def test_signed_info_canonicalized_with_exclusive_c14n() -> None:
    root = etree.fromstring(signed_default())
    si = next(root.iter(_d("SignedInfo")))
    octets = etree.tostring(si, method="c14n", exclusive=True)
    value = pki().leaf_key.sign(octets, padding.PKCS1v15(), hashes.SHA256())
    next(root.iter(_d("SignatureValue"))).text = base64.b64encode(value).decode()
    report = verify(etree.tostring(root))
    assert check_ok(report, "signature_value") is False
    assert any("SignedInfo se canonicalizó con C14N exclusiva" in d for d in report.diagnosis)


def test_missing_enveloped_transform() -> None:
    root = etree.fromstring(signed_default())
    for ref in root.iter(_d("Reference")):
        if ref.get("URI") == "":
            ref.remove(ref.find(_d("Transforms")))
    report = verify(resign(root))
    assert check_ok(report, "reference:documento") is False
    assert check_ok(report, "signature_value") is True
    assert any("enveloped-signature" in d for d in report.diagnosis)
    assert not any("modificó" in d for d in report.diagnosis)
