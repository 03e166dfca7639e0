"""Colombian constants every layer shares (stdlib only).

- :data:`COLOMBIA_TZ`: legal time, a fixed ``-05:00`` (America/Bogota has had no
  DST since 1993). Documents, signing times and date checks use it whatever
  the machine's zone (DESIGN invariant 6).
- DIAN's own identification (the AuthorizationProvider of every document and
  the sender of every ApplicationResponse).
- DIAN's public habilitación technical key (SPEC §7.1): DIAN's test validator
  checks every invoice CUFE in habilitación with it.
"""

from __future__ import annotations

from datetime import timedelta, timezone

COLOMBIA_TZ = timezone(timedelta(hours=-5), "COT")

DIAN_NIT = "800197268"
DIAN_DV = "4"
DIAN_NAME = "Unidad Especial Dirección de Impuestos y Aduanas Nacionales"

HABILITACION_TEST_KEY = "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c"
