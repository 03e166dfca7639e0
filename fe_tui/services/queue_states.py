"""The queue's document states and their Spanish labels, with no heavy imports.

:mod:`fe_tui.services.invoice_queue` re-exports every name here; the console imports them
from this module so that its first frame does not wait for the signing/DIAN stack (the
queue engine pulls in lxml, cryptography, the checks and httpx).
"""

from __future__ import annotations

DRAFT, READY, SIGNED, SENDING = "draft", "ready", "signed", "sending"
ACCEPTED, ACCEPTED_WITH_NOTICES = "accepted", "accepted_with_notices"
REJECTED, RETRYABLE, NEEDS_RECONCILE, VOID = "rejected", "retryable", "needs_reconcile", "void"
#: Kept out of DIAN by the local preflight (a Rechazo found before sending).
HELD = "held"

STATES = (
    DRAFT,
    READY,
    SIGNED,
    SENDING,
    ACCEPTED,
    ACCEPTED_WITH_NOTICES,
    REJECTED,
    RETRYABLE,
    NEEDS_RECONCILE,
    VOID,
    HELD,
)
#: States after which nothing more happens to a document.
FINAL = frozenset({ACCEPTED, ACCEPTED_WITH_NOTICES, VOID})
#: States ``run`` works on.
ACTIVE = frozenset({READY, SIGNED, SENDING, RETRYABLE, NEEDS_RECONCILE})

STATE_LABELS = {
    DRAFT: "borrador",
    READY: "lista",
    SIGNED: "firmada",
    SENDING: "enviando",
    ACCEPTED: "aceptada",
    ACCEPTED_WITH_NOTICES: "aceptada con notificaciones",
    REJECTED: "rechazada",
    RETRYABLE: "reintentar",
    NEEDS_RECONCILE: "por conciliar",
    VOID: "anulada",
    HELD: "retenida (revisión local)",
}
#: States that need the agent (the CLI's exit code 1 and its hint).
ATTENTION = (REJECTED, RETRYABLE, NEEDS_RECONCILE, HELD)
