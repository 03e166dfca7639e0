"""The process exit codes of ``fe-tui``, one value per meaning, for every command.

Scripts branch on these, so each value means one thing only (issue 14, item 17):
a script that retries on :data:`NO_VERDICT` must never retry a crash.

====  ==================  ==========================================================
code  name                meaning
====  ==================  ==========================================================
0     ``OK``              success; for ``fe-tui dian``: DIAN said yes (or already had it)
1     ``CHECK_FAILED``    the check ran and failed (signature, CUFE, certificate);
                          for ``fe-tui dian``: DIAN said no (rejected, not found)
2     ``USAGE``           usage or input error (bad option, JSON, password, file…);
                          nothing was sent
3     ``NO_VERDICT``      ``fe-tui dian`` got no verdict (no connection, timeout, HTTP or
                          SOAP error, unreadable answer, still in process): ask
                          ``fe-tui dian status`` before sending again
70    ``INTERNAL``        unexpected failure inside fe-tui (a bug; ``EX_SOFTWARE``)
74    ``STORAGE``         fe-tui cannot read or write its own data folder (damaged file,
                          permissions, disk full, newer schema); not the user's input
                          (``EX_IOERR``)
130   ``INTERRUPTED``     interrupted with Ctrl-C
====  ==================  ==========================================================

This module imports nothing from fe-tui, so any layer may use it.
"""

from __future__ import annotations

from typing import Final

OK: Final = 0
CHECK_FAILED: Final = 1
USAGE: Final = 2
NO_VERDICT: Final = 3
INTERNAL: Final = 70
STORAGE: Final = 74
INTERRUPTED: Final = 130

#: Short Spanish meaning of each code (``--help`` epilog, documentation tests).
MEANINGS: Final[dict[int, str]] = {
    OK: "éxito (la DIAN dijo sí)",
    CHECK_FAILED: "la verificación falló (la DIAN dijo no)",
    USAGE: "error de uso o de entrada (nada se envió)",
    NO_VERDICT: "sin veredicto de la DIAN (consulte su estado antes de reenviar)",
    INTERNAL: "error interno inesperado de fe-tui",
    STORAGE: "no se pudo leer o escribir la carpeta de datos de fe-tui",
    INTERRUPTED: "interrumpido (Ctrl-C)",
}
