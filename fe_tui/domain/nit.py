"""NIT check digit (dígito de verificación, DV) as DIAN computes it.

Algorithm (DIAN, "modulo 11"): multiply the NIT's digits, from the rightmost
one, by the weights 3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71;
add the products; take the remainder ``r`` of the division by 11. The DV is
``r`` when ``r`` is 0 or 1, otherwise ``11 - r``.

Example: DIAN's own NIT 800197268 has DV 4.
"""

from __future__ import annotations

from fe_tui.errors import FieldError

__all__ = ["is_valid_nit", "nit_check_digit", "split_nit", "validate_nit"]

_WEIGHTS = (3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71)


def nit_check_digit(nit: str) -> str:
    """Return the DV (one digit, as text) of ``nit`` (digits only, 1–15 of them).

    Raises :class:`ValueError` (Spanish message) when ``nit`` is not 1–15 digits.
    """
    digits = nit.strip()
    if not (digits.isascii() and digits.isdigit()) or not 1 <= len(digits) <= len(_WEIGHTS):
        raise ValueError(f"el NIT debe tener entre 1 y {len(_WEIGHTS)} dígitos, sin puntos ni DV")
    total = sum(int(d) * w for d, w in zip(reversed(digits), _WEIGHTS, strict=False))
    remainder = total % 11
    return str(remainder if remainder < 2 else 11 - remainder)


def is_valid_nit(nit: str, dv: str | int) -> bool:
    """``True`` when ``dv`` is the check digit of ``nit`` (``False`` for malformed input)."""
    try:
        return nit_check_digit(nit) == str(dv).strip()
    except ValueError:
        return False


def validate_nit(nit: str, dv: str | int, field: str = "dv") -> None:
    """Raise :class:`~fe_tui.errors.FieldError` unless ``dv`` is the DV of ``nit``.

    The message names ``field`` and states the correct digit, e.g.
    ``dv: dígito de verificación incorrecto: para el NIT 800197268 es 4``.
    """
    try:
        expected = nit_check_digit(nit)
    except ValueError as exc:
        raise FieldError(field, str(exc), nit=nit) from exc
    if str(dv).strip() != expected:
        raise FieldError(
            field,
            f"dígito de verificación incorrecto: para el NIT {nit.strip()} es {expected}",
            nit=nit,
        )


def split_nit(text: str) -> tuple[str, str | None]:
    """Split a NIT as people write it into ``(digits, dv)``.

    ``"900.373.076-4"`` → ``("900373076", "4")``; ``"800197268"`` → ``("800197268", None)``.
    Dots, commas and spaces are dropped; the DV is whatever follows a hyphen.
    """
    cleaned = "".join(ch for ch in text if ch not in ". ,")
    if "-" in cleaned:
        number, _, dv = cleaned.partition("-")
        return number, dv or None
    return cleaned, None
