"""Per-document cost of build, sign and zip, against the floor measured in the same run.

Floor (perf-baselines.md): RSA-2048 PKCS#1 v1.5 SHA-256 signature
+ inclusive C14N and SHA-256 of the whole document + zip (deflate) and base64
of the signed XML. Target: sign + zip <= 1.3 x floor.

Method: a 10-line invoice built from ``examples/factura.json``; cases are
interleaved, their order rotated each round; each batch runs N documents after
5 untimed warm-up calls; a ratio is the median over rounds of (case / floor).

Run: ``python bench/sign.py [--rounds 9] [--docs 100]``
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from fe_tui.crypto import xades
from fe_tui.domain.models import DocumentRequest, load_document_request
from fe_tui.services import documents
from fe_tui.ubl import builder, packaging

ROOT = Path(__file__).resolve().parent.parent


class BenchKey:
    """A throwaway RSA-2048 key and self-signed certificate (never a real one)."""

    def __init__(self) -> None:
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, "Benchmark S.A.S."),
                x509.NameAttribute(NameOID.SERIAL_NUMBER, "900373076"),
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CO"),
            ]
        )
        now = datetime.now(UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.private_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .sign(self.private_key, hashes.SHA256())
        )


def ten_line_request() -> DocumentRequest:
    data = (ROOT / "examples" / "factura.json").read_bytes()
    req = documents.issued_now(load_document_request(data))
    doc = req.document
    lines = [doc.lines[i % len(doc.lines)] for i in range(10)]
    return req.model_copy(update={"document": doc.model_copy(update={"lines": lines})})


def timed(fn: Callable[[], object], n: int) -> float:
    for _ in range(5):
        fn()
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--docs", type=int, default=100)
    args = parser.parse_args()

    key = BenchKey()
    req = ten_line_request()
    built = builder.build(req)
    root = built.root
    signed = xades.sign(root, key)
    signed_info_like = signed[signed.find(b"<ds:SignedInfo") : signed.find(b"</ds:SignedInfo>")]

    def floor_rsa() -> object:
        return key.private_key.sign(signed_info_like, padding.PKCS1v15(), hashes.SHA256())

    def floor_c14n() -> object:
        return hashlib.sha256(etree.tostring(root, method="c14n", with_comments=False)).digest()

    def floor_zip() -> object:
        return base64.b64encode(packaging.zip_files({"fv.xml": signed}))

    def case_build() -> object:
        return builder.build(req)

    def case_sign() -> object:
        return xades.sign(root, key)

    def case_zip() -> object:
        return packaging.pack(
            signed, document_type="01", nit="900373076", year=2026, consecutive=1
        ).content_b64

    cases: dict[str, Callable[[], object]] = {
        "rsa": floor_rsa,
        "c14n": floor_c14n,
        "zipfloor": floor_zip,
        "build": case_build,
        "sign": case_sign,
        "zip": case_zip,
    }
    results: dict[str, list[float]] = {k: [] for k in cases}
    ratios: dict[str, list[float]] = {"sign+zip": [], "build+sign+zip": [], "build": []}
    names = list(cases)
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        ms = {name: timed(cases[name], args.docs) for name in order}
        for name, value in ms.items():
            results[name].append(value)
        floor = ms["rsa"] + ms["c14n"] + ms["zipfloor"]
        ratios["sign+zip"].append((ms["sign"] + ms["zip"]) / floor)
        ratios["build+sign+zip"].append((ms["build"] + ms["sign"] + ms["zip"]) / floor)
        ratios["build"].append(ms["build"] / floor)

    med = {k: statistics.median(v) for k, v in results.items()}
    floor_ms = med["rsa"] + med["c14n"] + med["zipfloor"]
    print(f"10-line invoice: {len(built.to_bytes())} B unsigned, {len(signed)} B signed")
    print(f"{args.rounds} rounds x {args.docs} documents, medians (ms per document)")
    rows = [
        ("floor: RSA-2048 sign", med["rsa"]),
        ("floor: inclusive C14N + SHA-256 of the document", med["c14n"]),
        ("floor: zip + base64 of the signed XML", med["zipfloor"]),
        ("floor = sum", floor_ms),
        ("build (UBL tree + CUFE + totals)", med["build"]),
        ("sign (XAdES-EPES)", med["sign"]),
        ("zip + base64 (DIAN names)", med["zip"]),
    ]
    for label, value in rows:
        print(f"  {label:<50} {value:7.3f} ms  {1000 / value:8.0f} /s")
    sz = statistics.median(ratios["sign+zip"])
    print(
        f"ratio sign+zip / floor         {sz:.2f}  (target <= 1.30) "
        f"{'OK' if sz <= 1.3 else 'OVER TARGET'}"
    )
    print(f"ratio build / floor            {statistics.median(ratios['build']):.2f}")
    print(f"ratio build+sign+zip / floor   {statistics.median(ratios['build+sign+zip']):.2f}")
    print(f"sign+zip documents/s/core      {1000 / (med['sign'] + med['zip']):.0f}")


if __name__ == "__main__":
    main()
