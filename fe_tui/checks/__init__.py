"""DIAN's document rules, checked locally: one layer for the simulator, the services and the CLI.

DIAN validates every document it receives against the rules of annex 1.9. This
package runs the ones that can be run outside DIAN, on any document (ours or a
customer's), and tells three answers apart (:class:`~fe_tui.checks.results.Status`):
``passed``, ``failed`` and ``cannot_check`` (the data to decide is not here: an
issuer the local registry does not know is not "unregistered").

- :mod:`.registry`: the small interface through which the registration data
  (issuers, software, ranges, acquirers) comes in; the simulator's configuration
  satisfies it, and so will the company store.
- :mod:`.document`: XSD, signature, dates, environment and the registry-dependent
  rules (FAJ21/FAJ24, software FAB24b/FAB19b/FAB27b, numbering FAB05b…FAD05d,
  CUFE/CUDE FAD06, buyer e-mail FAJ71, note reference CBG02).
- :mod:`.local`: the rules that need no registry (totals, taxes, lines and their
  values FAV01/FAV02, code lists against the shipped genericode lists, negative
  values, note concept, due date).
- :func:`preflight`: all of them, the entry point for the queue and ``fe-tui check``.

Layering: this package imports ``domain``, ``ubl``, ``crypto`` and the safe XML
helpers only; ``dian`` (the simulator, explanations) and ``services`` import it.
DIAN's texts live in the rule catalogue (``dian/rules``); findings carry the code,
the usual severity, the element, the offending value and a Spanish detail.
"""

from __future__ import annotations

from fe_tui.checks.engine import preflight
from fe_tui.checks.registry import AcquirerRecord, IssuerRecord, Registry
from fe_tui.checks.results import Finding, PreflightReport, Status

__all__ = [
    "AcquirerRecord",
    "Finding",
    "IssuerRecord",
    "PreflightReport",
    "Registry",
    "Status",
    "preflight",
]
