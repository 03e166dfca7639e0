"""The one exception tree of fe-tui.

Every error the core raises derives from :class:`FeError`. Each carries a
Spanish message for the person at the keyboard (``message``) and structured
fields for logs (``fields``). Secrets never go into either: callers pass the
name of a file or field, never a password or a key.

The UI and the CLI map families of these exceptions to a notification, an
error modal or an exit code in one place each.

Tree::

    FeError
    ├── InputError                 bad user input (JSON, models, codes, amounts)
    │   └── FieldError             one field failed validation
    ├── XmlError                   untrusted XML could not be read safely
    │   ├── UnsafeXmlError         DTD / entities / external references present
    │   ├── XmlTooLargeError       over the size limit
    │   └── NotDianDocumentError   well-formed, but not a DIAN UBL document
    ├── SchemaError                a generated document does not validate against DIAN's XSD
    ├── CertificateError           PKCS#12 problems
    │   ├── WrongPasswordError
    │   ├── MissingPasswordError   the PKCS#12 needs a password and none was given
    │   ├── NotPkcs12Error
    │   ├── NoPrivateKeyError
    │   ├── KeyMismatchError
    │   ├── CertificateExpiredError
    │   ├── CertificateNotYetValidError
    │   └── WrongCompanyCertificateError
    ├── SigningError               the document cannot be signed as it is
    ├── PackagingError             zip / file-name problems (limits)
    ├── SoapError                  a SOAP message of DIAN's web service is not acceptable
    │   ├── AnswerError            DIAN's answer cannot be understood     (exit NO_VERDICT)
    │   ├── EnvelopeError          not a SOAP 1.2 envelope of a known DIAN operation
    │   └── SecurityFault          a WS-Security header DIAN would refuse (a:InvalidSecurity)
    └── StorageError               fe-tui's data folder cannot be read or written (exit STORAGE)
        ├── StoreError             store.json: damaged, newer schema, permissions, lock
        ├── JournalError           the send journal (store.journal)
        └── CounterError           the file-name counters (store.counters)

Defined beside their code, in the same tree: ``QueueError`` (services.invoice_queue),
``NumberingError`` (services.numbering) and ``EntryInvalid`` (services.invoice_entry: the
invoice form's fields, each with its Spanish message) are InputErrors; ``LedgerError``
(store.ledger) is a StorageError; ``RangeSyncError`` (services.ranges: DIAN did not
return the numbering ranges, exit CHECK_FAILED) is a FeError.

The classes are also importable from where they were first defined
(``fe_tui.dian.messages.AnswerError``, ``fe_tui.dian.soap.SecurityFault`` and
``EnvelopeError``, ``fe_tui.store.db.StoreError``), so callers keep working.
"""

from __future__ import annotations

from typing import Any

from fe_tui import exit_codes


class FeError(Exception):
    """Base of every fe-tui error: a Spanish message plus structured fields."""

    #: Exit code the CLI uses for this family (:data:`fe_tui.exit_codes.USAGE`).
    exit_code: int = exit_codes.USAGE

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    def __str__(self) -> str:
        return self.message


class InputError(FeError):
    """The input given by the user (file, JSON, model) is not acceptable."""


class FieldError(InputError):
    """One field of the input failed validation; ``field`` names it."""

    def __init__(self, field: str, message: str, **fields: Any) -> None:
        super().__init__(f"{field}: {message}", field=field, **fields)
        self.field = field


class XmlError(InputError):
    """An XML document could not be read."""


class UnsafeXmlError(XmlError):
    """The XML declares a DTD, entities or external references; refused."""


class XmlTooLargeError(XmlError):
    """The XML is larger than the configured limit."""


class NotDianDocumentError(XmlError):
    """Well-formed XML, but not a DIAN UBL 2.1 document (or missing parts of one)."""


class SchemaError(FeError):
    """A document does not validate against DIAN's UBL 2.1 schemas."""

    def __init__(self, message: str, errors: list[str] | None = None, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.errors = errors or []


class CertificateError(FeError):
    """Base of PKCS#12 / certificate problems."""


class WrongPasswordError(CertificateError):
    """The PKCS#12 password is wrong."""


class MissingPasswordError(CertificateError):
    """The PKCS#12 needs a password and none was given (not the same as a wrong one)."""


class NotPkcs12Error(CertificateError):
    """The file is corrupt or is not a PKCS#12 container."""


class NoPrivateKeyError(CertificateError):
    """The PKCS#12 holds no private key (a certificate alone cannot sign)."""


class KeyMismatchError(CertificateError):
    """The private key does not belong to the certificate."""


class CertificateExpiredError(CertificateError):
    """The certificate's validity ended."""


class CertificateNotYetValidError(CertificateError):
    """The certificate's validity has not started yet."""


class WrongCompanyCertificateError(CertificateError):
    """The certificate carries another company's NIT."""


class SigningError(FeError):
    """The document cannot be signed in its current form."""


class PackagingError(FeError):
    """A DIAN file name or zip could not be produced or read within limits."""


class SoapError(FeError):
    """A SOAP message of DIAN's web service (request or answer) is not acceptable."""


class AnswerError(SoapError):
    """DIAN's answer could not be understood (not SOAP, truncated, over a limit…).

    Nothing can be concluded from such an answer, so its exit code is "no verdict".
    """

    exit_code = exit_codes.NO_VERDICT


class EnvelopeError(SoapError):
    """Not a SOAP 1.2 envelope of a known DIAN operation."""


class SecurityFault(SoapError):
    """A WS-Security header that DIAN would refuse (``a:InvalidSecurity``)."""


class StorageError(FeError):
    """fe-tui's own data folder cannot be read or written (damaged file, permissions, disk).

    Not the user's input: its own exit code (:data:`fe_tui.exit_codes.STORAGE`).
    """

    exit_code = exit_codes.STORAGE


class StoreError(StorageError):
    """The store cannot be read or written (damaged file, permissions, newer schema)."""


class JournalError(StorageError):
    """The send journal cannot be read or written."""


class CounterError(StorageError):
    """The file-name counters cannot be read or written (or the counter file is damaged)."""
