"""DIAN signature policy and XMLDSig algorithm constants (SPEC §4).

A small constants module shared by the signer and the verifier: the policy
identifier and description DIAN documents, the digest of DIAN's policy
document (``politicadefirmav2.pdf``) under every digest method seen in
DIAN-accepted signatures, and the URI tables for digests, signatures and
canonicalizations.
"""

from __future__ import annotations

from typing import Final

#: Identifier of DIAN's signature policy v2 (``xades:SigPolicyId/xades:Identifier``).
POLICY_URL: Final = (
    "https://facturaelectronica.dian.gov.co/politicadefirma/v2/politicadefirmav2.pdf"
)

#: Text for ``xades:SigPolicyId/xades:Description``.
POLICY_DESCRIPTION: Final = (
    "Política de firma para facturas electrónicas de la República de Colombia."
)

# --- Digest methods -------------------------------------------------------

DIGEST_SHA1: Final = "http://www.w3.org/2000/09/xmldsig#sha1"
DIGEST_SHA256: Final = "http://www.w3.org/2001/04/xmlenc#sha256"
DIGEST_SHA384: Final = "http://www.w3.org/2001/04/xmldsig-more#sha384"
#: Spelling of SHA-384 found in some signers (not in the XMLEnc spec, but seen in the wild).
DIGEST_SHA384_XMLENC: Final = "http://www.w3.org/2001/04/xmlenc#sha384"
DIGEST_SHA512: Final = "http://www.w3.org/2001/04/xmlenc#sha512"

#: Preferred digest method URI per hash name (what a signer writes).
DIGEST_URIS: Final[dict[str, str]] = {
    "sha1": DIGEST_SHA1,
    "sha256": DIGEST_SHA256,
    "sha384": DIGEST_SHA384,
    "sha512": DIGEST_SHA512,
}

#: Every accepted digest method URI → hashlib name (what a verifier reads).
DIGEST_ALGORITHMS: Final[dict[str, str]] = {
    DIGEST_SHA1: "sha1",
    DIGEST_SHA256: "sha256",
    DIGEST_SHA384: "sha384",
    DIGEST_SHA384_XMLENC: "sha384",
    DIGEST_SHA512: "sha512",
}

# --- Policy document digests ---------------------------------------------

_POLICY_SHA1 = "sbcECQ7v+y/m3OcBCJyvmkBhtFs="
_POLICY_SHA256 = "dMoMvtcG5aIzgYo0tIsSQeVJBDnUnfSOfBpxXrmor0Y="
_POLICY_SHA384 = "EQC0kiWPaAME6IsEZ7WuaTWJ97Zmf6hIO69rMCVURmQxBB9ebgLrjhL5BArQ0a0l"
_POLICY_SHA512 = (
    "Zcjw1Z9nGQn2j6NyGx8kAaLbOfJGd/fJxRTCeirlqAg7zRG27piJkJOpflGu7XACpMj9hC6dVMcCyzqHxxPZeQ=="
)

#: Base64 digest of DIAN's policy document v2 keyed by digest method URI
#: (``xades:SigPolicyHash``). SHA-1 is listed for verification only: DIAN
#: rejects SHA-1.
POLICY_HASHES: Final[dict[str, str]] = {
    DIGEST_SHA1: _POLICY_SHA1,
    DIGEST_SHA256: _POLICY_SHA256,
    DIGEST_SHA384: _POLICY_SHA384,
    DIGEST_SHA384_XMLENC: _POLICY_SHA384,
    DIGEST_SHA512: _POLICY_SHA512,
}

# --- Signature methods ----------------------------------------------------

SIGNATURE_RSA_SHA1: Final = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
SIGNATURE_RSA_SHA256: Final = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SIGNATURE_RSA_SHA384: Final = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
SIGNATURE_RSA_SHA512: Final = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
SIGNATURE_ECDSA_SHA256: Final = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
SIGNATURE_ECDSA_SHA384: Final = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
SIGNATURE_ECDSA_SHA512: Final = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"

#: Signature method URI per name (what a signer writes).
SIGNATURE_URIS: Final[dict[str, str]] = {
    "rsa-sha1": SIGNATURE_RSA_SHA1,
    "rsa-sha256": SIGNATURE_RSA_SHA256,
    "rsa-sha384": SIGNATURE_RSA_SHA384,
    "rsa-sha512": SIGNATURE_RSA_SHA512,
    "ecdsa-sha256": SIGNATURE_ECDSA_SHA256,
    "ecdsa-sha384": SIGNATURE_ECDSA_SHA384,
    "ecdsa-sha512": SIGNATURE_ECDSA_SHA512,
}

#: Signature method URI → (key type, hashlib name).
SIGNATURE_ALGORITHMS: Final[dict[str, tuple[str, str]]] = {
    SIGNATURE_RSA_SHA1: ("rsa", "sha1"),
    SIGNATURE_RSA_SHA256: ("rsa", "sha256"),
    SIGNATURE_RSA_SHA384: ("rsa", "sha384"),
    SIGNATURE_RSA_SHA512: ("rsa", "sha512"),
    SIGNATURE_ECDSA_SHA256: ("ecdsa", "sha256"),
    SIGNATURE_ECDSA_SHA384: ("ecdsa", "sha384"),
    SIGNATURE_ECDSA_SHA512: ("ecdsa", "sha512"),
}

# --- Canonicalization and transforms -------------------------------------

#: Inclusive C14N 1.0: what DIAN documents for SignedInfo and every reference.
C14N_INCLUSIVE: Final = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_INCLUSIVE_WITH_COMMENTS: Final = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
C14N_EXCLUSIVE: Final = "http://www.w3.org/2001/10/xml-exc-c14n#"
C14N_EXCLUSIVE_WITH_COMMENTS: Final = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
C14N_11: Final = "http://www.w3.org/2006/12/xml-c14n11"
C14N_11_WITH_COMMENTS: Final = "http://www.w3.org/2006/12/xml-c14n11#WithComments"

#: Every canonicalization URI → (variant, with_comments); variant is
#: ``"c14n"``, ``"exc-c14n"`` or ``"c14n11"``.
C14N_ALGORITHMS: Final[dict[str, tuple[str, bool]]] = {
    C14N_INCLUSIVE: ("c14n", False),
    C14N_INCLUSIVE_WITH_COMMENTS: ("c14n", True),
    C14N_EXCLUSIVE: ("exc-c14n", False),
    C14N_EXCLUSIVE_WITH_COMMENTS: ("exc-c14n", True),
    C14N_11: ("c14n11", False),
    C14N_11_WITH_COMMENTS: ("c14n11", True),
}

TRANSFORM_ENVELOPED: Final = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
TRANSFORM_XPATH: Final = "http://www.w3.org/TR/1999/REC-xpath-19991116"

#: ``ds:Reference/@Type`` of the reference to ``xades:SignedProperties``.
SIGNED_PROPERTIES_TYPE: Final = "http://uri.etsi.org/01903#SignedProperties"

#: ``xades:ClaimedRole`` values: the issuer signs / its technology provider signs.
ROLE_SUPPLIER: Final = "supplier"
ROLE_THIRD_PARTY: Final = "third party"
