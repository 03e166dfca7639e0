"""Companies as use cases: add, edit, list, show and choose the current one (issue 11, item 1).

An agent looks after several companies in one data directory; one of them is
*current* (the default of every ``--company`` option). The records are
:class:`~fe_tui.domain.company.Company` in the store's ``companies`` table
(:meth:`~fe_tui.store.db.Store.save_company`); the current one is the
``current_company`` setting.

The software PIN is kept in the store as the :class:`~fe_tui.domain.models.Software`
model has it (it is needed to compute the SoftwareSecurityCode of every
document, SPEC §5), but it is never shown in full: :func:`public_view` masks it
for ``company list|show`` and the console.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from fe_tui.domain.company import Company, CompanyEnvironment, OperationMode
from fe_tui.domain.models import Issuer, Software, format_validation_error
from fe_tui.domain.nit import nit_check_digit, split_nit
from fe_tui.errors import InputError
from fe_tui.store.db import Store

__all__ = [
    "ENVIRONMENT_ALIASES",
    "ISSUER_FIELDS",
    "MODE_ALIASES",
    "add_company",
    "edit_company",
    "get_company",
    "list_companies",
    "mask_pin",
    "parse_environment",
    "parse_nit",
    "parse_operation_mode",
    "public_view",
    "use_company",
]

#: What people type for an environment → the stored value.
ENVIRONMENT_ALIASES: dict[str, CompanyEnvironment] = {
    "habilitacion": "habilitacion",
    "habilitación": "habilitacion",
    "pruebas": "habilitacion",
    "produccion": "produccion",
    "producción": "produccion",
    "simulador": "simulator",
    "simulator": "simulator",
}
#: What people type for an operation mode → the mode.
MODE_ALIASES: dict[str, OperationMode] = {
    "propio": OperationMode.OWN_SOFTWARE,
    "software_propio": OperationMode.OWN_SOFTWARE,
    "proveedor": OperationMode.PROVIDER,
    "proveedor_tecnologico": OperationMode.PROVIDER,
    "gratuito": OperationMode.DIAN_FREE,
    "solucion_gratuita": OperationMode.DIAN_FREE,
}

_ENV_LABELS = {"habilitacion": "Habilitación", "produccion": "Producción", "simulator": "Simulador"}

#: The fields :func:`edit_company` may change (besides the software's).
_EDITABLE = frozenset(
    {
        "name",
        "operation_mode",
        "environment",
        "dian_url",
        "test_set_id",
        "reception_email",
        "notes",
    }
)


def parse_nit(text: str, dv: str | None = None) -> tuple[str, str]:
    """``(nit, dv)`` from ``"900.373.076-4"`` (or ``text`` plus ``dv``), the DV checked.

    A NIT without DV is refused: the DV is how a typo in the NIT is caught.
    """
    nit, found = split_nit(text.strip())
    given = (dv or "").strip() or found
    if dv and found and dv.strip() != found:
        raise InputError(f"El NIT {text} trae el DV {found} y --dv dice {dv}; use uno solo.")
    try:
        expected = nit_check_digit(nit)
    except ValueError as exc:
        raise InputError(f"NIT no válido: {exc}.") from None
    if given is None:
        raise InputError(
            f"Escriba el NIT con su dígito de verificación (NIT-DV, p. ej. {nit}-{expected}) "
            "tal como aparece en el RUT."
        )
    if given != expected:
        raise InputError(
            f"Dígito de verificación incorrecto: para el NIT {nit} es {expected}, no {given}; "
            "revise el NIT en el RUT."
        )
    return nit, given


def parse_environment(text: str) -> CompanyEnvironment:
    """The stored environment for ``text`` (habilitacion, produccion, simulador)."""
    value = ENVIRONMENT_ALIASES.get(text.strip().lower())
    if value is None:
        raise InputError(
            f"Ambiente «{text}» desconocido: use habilitacion, produccion o simulador."
        )
    return value


def parse_operation_mode(text: str) -> OperationMode:
    """The operation mode for ``text`` (propio, proveedor, gratuito)."""
    value = MODE_ALIASES.get(text.strip().lower())
    if value is None:
        raise InputError(
            f"Modo de operación «{text}» desconocido: use propio, proveedor o gratuito."
        )
    return value


def mask_pin(pin: str | None) -> str | None:
    """The PIN as it may be shown: never its digits, only that it is set."""
    return None if not pin else "•" * min(len(pin), 8)


#: The issuer fields :func:`add_company` / :func:`edit_company` take (``issuer`` mapping keys).
ISSUER_FIELDS = frozenset(
    {
        "address_line",
        "municipality_code",
        "postal_code",
        "responsibilities",
        "organization_type",
        "tax_scheme",
        "email",
        "phone",
        "trade_name",
        "commercial_registration",
    }
)
#: What people type for the organisation type → DIAN's code (TipoOrganizacion).
_ORGANIZATION_ALIASES = {
    "1": "1",
    "juridica": "1",
    "jurídica": "1",
    "persona_juridica": "1",
    "2": "2",
    "natural": "2",
    "persona_natural": "2",
}
_ISSUER_OPTION = {
    "address_line": "--address",
    "municipality_code": "--municipality",
    "responsibilities": "--responsibilities",
    "organization_type": "--org-type",
    "email": "--issuer-email",
}


def _split_codes(value: str | list[str]) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    return [code.strip().upper() for code in items if code.strip()]


def _issuer(
    company_nit: str,
    company_dv: str,
    name: str,
    current: Issuer | None,
    fields: dict[str, Any] | None,
    *,
    fallback_email: str | None,
) -> Issuer | None:
    """The issuer data after the changes in ``fields`` (``None`` values keep the old).

    The address is Colombian (``country_code`` CO): the municipality is a DIVIPOLA
    code from DIAN's list and the department is derived from it. Responsibilities
    are checked against DIAN's list (TipoResponsabilidad, annex 1.9).
    """
    given = {k: v for k, v in (fields or {}).items() if v is not None}
    unknown = set(given) - ISSUER_FIELDS
    if unknown:
        raise InputError(f"Datos del emisor desconocidos: {', '.join(sorted(unknown))}.")
    if not given:
        if current is not None and current.registration_name != name:
            return current.model_copy(update={"registration_name": name})
        return current
    base: dict[str, Any] = {}
    if current is not None:
        base = {
            "address_line": current.address.line,
            "municipality_code": current.address.municipality_code,
            "postal_code": current.address.postal_code,
            "responsibilities": list(current.tax_responsibilities),
            "organization_type": current.organization_type,
            "tax_scheme": current.tax_scheme.value,
            "email": current.email,
            "phone": current.phone,
            "trade_name": current.trade_name
            if current.trade_name != current.registration_name
            else None,
            "commercial_registration": current.commercial_registration,
        }
    for key, value in given.items():
        if key == "responsibilities":
            base[key] = _split_codes(value)
        elif isinstance(value, str):
            base[key] = value.strip() or None
        else:
            base[key] = value
    if not base.get("email") and fallback_email:
        base["email"] = fallback_email
    if base.get("organization_type") is not None:
        kind = _ORGANIZATION_ALIASES.get(str(base["organization_type"]).strip().lower())
        if kind is None:
            raise InputError(
                f"Tipo de organización «{base['organization_type']}» desconocido: "
                "use juridica (1) o natural (2)."
            )
        base["organization_type"] = kind
    missing = [opt for key, opt in _ISSUER_OPTION.items() if not base.get(key)]
    if missing:
        raise InputError(
            "Los datos del emisor (los que llevan las facturas) están incompletos: falta "
            + ", ".join(missing)
            + "."
        )
    data: dict[str, Any] = {
        "nit": company_nit,
        "dv": company_dv,
        "registration_name": name,
        "trade_name": base.get("trade_name"),
        "organization_type": base["organization_type"],
        "tax_responsibilities": base["responsibilities"],
        "address": {
            "line": base["address_line"],
            "country_code": "CO",
            "municipality_code": base["municipality_code"],
            "postal_code": base.get("postal_code"),
        },
        "email": base["email"],
        "phone": base.get("phone"),
        "commercial_registration": base.get("commercial_registration"),
    }
    if base.get("tax_scheme"):
        data["tax_scheme"] = base["tax_scheme"]
    try:
        return Issuer.model_validate(data)
    except ValidationError as exc:
        reasons = "; ".join(format_validation_error(exc).splitlines())
        raise InputError(f"Datos del emisor no válidos: {reasons}.") from None


def _validated(data: dict[str, Any]) -> Company:
    try:
        return Company.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"Datos de empresa no válidos:\n{format_validation_error(exc)}") from None


def _software(
    company_nit: str,
    company_dv: str,
    mode: OperationMode,
    current: Software | None,
    *,
    software_id: str | None,
    pin: str | None,
    provider_nit: str | None,
    provider_name: str | None,
) -> Software | None:
    """The software registration after the changes given (``None`` fields keep the old)."""
    if software_id is None and pin is None and provider_nit is None and provider_name is None:
        return current
    base: dict[str, Any] = current.model_dump() if current is not None else {}
    if software_id is not None:
        base["software_id"] = software_id.strip()
    if pin is not None:
        base["pin"] = pin.strip()
    if provider_nit is not None:
        base["provider_nit"], base["provider_dv"] = parse_nit(provider_nit)
    if provider_name is not None:
        base["provider_name"] = provider_name.strip() or None
    if "provider_nit" not in base:
        if mode is OperationMode.PROVIDER:
            raise InputError(
                "Con software de un proveedor tecnológico indique su NIT (--provider-nit NIT-DV)."
            )
        # Own software (or DIAN's free one, registered to the company itself).
        base["provider_nit"], base["provider_dv"] = company_nit, company_dv
    missing = [name for name in ("software_id", "pin") if not base.get(name)]
    if missing:
        names = {"software_id": "--software-id", "pin": "--pin"}
        raise InputError(
            "El software registrado en la DIAN necesita SoftwareID y PIN: falta "
            + " y ".join(names[m] for m in missing)
            + "."
        )
    try:
        return Software.model_validate(base)
    except ValidationError as exc:
        raise InputError(f"Software no válido:\n{format_validation_error(exc)}") from None


def add_company(
    store: Store,
    *,
    nit: str,
    name: str,
    dv: str | None = None,
    operation_mode: OperationMode | str = OperationMode.OWN_SOFTWARE,
    environment: CompanyEnvironment | str = "habilitacion",
    software_id: str | None = None,
    pin: str | None = None,
    provider_nit: str | None = None,
    provider_name: str | None = None,
    test_set_id: str | None = None,
    reception_email: str | None = None,
    notes: str = "",
    dian_url: str | None = None,
    issuer: dict[str, Any] | None = None,
    make_current: bool | None = None,
) -> Company:
    """Create a company; refuse one whose NIT is already there (use :func:`edit_company`).

    ``nit`` is ``NIT-DV`` (or the digits, with ``dv``), the DV checked.
    ``issuer`` holds the data the documents carry (keys in :data:`ISSUER_FIELDS`:
    address line, municipality code, responsibilities, organisation type, …);
    when given it must be complete. ``make_current``: ``None`` makes it current
    only when there is no current company yet.
    """
    number, check = parse_nit(nit, dv)
    mode = (
        operation_mode
        if isinstance(operation_mode, OperationMode)
        else (parse_operation_mode(operation_mode))
    )
    env = parse_environment(environment)
    with store.transaction():
        existing = store.company(number)
        if existing is not None:
            raise InputError(
                f"Ya existe la empresa {existing.label}; cámbiela con `fe-tui company edit "
                f"{number}`."
            )
        software = _software(
            number,
            check,
            mode,
            None,
            software_id=software_id,
            pin=pin,
            provider_nit=provider_nit,
            provider_name=provider_name,
        )
        company = _validated(
            {
                "nit": number,
                "dv": check,
                "name": name.strip(),
                "operation_mode": mode,
                "environment": env,
                "dian_url": dian_url or None,
                "test_set_id": (test_set_id or "").strip() or None,
                "reception_email": (reception_email or "").strip() or None,
                "notes": notes,
                "software": software,
                "issuer": _issuer(
                    number,
                    check,
                    name.strip(),
                    None,
                    issuer,
                    fallback_email=(reception_email or "").strip() or None,
                ),
            }
        )
        store.save_company(company)
        if make_current or (make_current is None and store.current_company_nit() is None):
            store.set_current_company(company.nit)
    return company


def edit_company(
    store: Store,
    nit: str | None,
    *,
    software_id: str | None = None,
    pin: str | None = None,
    provider_nit: str | None = None,
    provider_name: str | None = None,
    append_note: str | None = None,
    issuer: dict[str, Any] | None = None,
    **changes: Any,
) -> Company:
    """Change the company ``nit`` (or the current one); ``None`` values are left as they were.

    ``changes`` may hold ``name``, ``operation_mode``, ``environment``,
    ``dian_url``, ``test_set_id``, ``reception_email`` and ``notes`` (an empty
    string clears an optional field). ``append_note`` adds a line to the notes.
    ``issuer`` changes the issuer data (keys in :data:`ISSUER_FIELDS`, ``None``
    values kept); a company without issuer data needs them complete.
    """
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise InputError(f"No se puede cambiar: {', '.join(sorted(unknown))}.")
    with store.transaction():
        company = store.require_company(_digits(nit))
        data = company.model_dump()
        for key, value in changes.items():
            if value is None:
                continue
            if key == "environment":
                value = parse_environment(value)
            elif key == "operation_mode" and not isinstance(value, OperationMode):
                value = parse_operation_mode(value)
            elif key in ("dian_url", "test_set_id", "reception_email"):
                value = value.strip() or None
            elif key == "name":
                value = value.strip()
            data[key] = value
        if append_note:
            data["notes"] = "\n".join(p for p in (data["notes"], append_note.strip()) if p)
        mode = OperationMode(data["operation_mode"])
        data["software"] = _software(
            company.nit,
            company.dv,
            mode,
            company.software,
            software_id=software_id,
            pin=pin,
            provider_nit=provider_nit,
            provider_name=provider_name,
        )
        data["issuer"] = _issuer(
            company.nit,
            company.dv,
            data["name"],
            company.issuer,
            issuer,
            fallback_email=data.get("reception_email"),
        )
        updated = _validated(data)
        store.save_company(updated)
    return updated


def _digits(nit: str | None) -> str | None:
    """The digits of ``nit`` as typed (``900373076-4`` or ``900373076``), DV checked if given."""
    if nit is None:
        return None
    number, dv = split_nit(nit.strip())
    if dv is not None:
        number, _ = parse_nit(nit)
    return number


def get_company(store: Store, nit: str | None = None) -> Company:
    """The company ``nit`` (``NIT`` or ``NIT-DV``), or the current one."""
    return store.require_company(_digits(nit))


def list_companies(store: Store) -> list[Company]:
    """Every company, by name."""
    return store.companies()


def use_company(store: Store, nit: str) -> Company:
    """Make ``nit`` the current company and return it."""
    with store.transaction():
        company = store.require_company(_digits(nit))
        store.set_current_company(company.nit)
    return company


def public_view(company: Company, *, current: bool = False) -> dict[str, Any]:
    """The company as shown (CLI ``--json``, console): the PIN masked, labels in Spanish."""
    software = company.software
    return {
        "nit": company.nit,
        "dv": company.dv,
        "name": company.name,
        "label": company.label,
        "current": current,
        "operation_mode": company.operation_mode.value,
        "operation_mode_label": company.operation_mode.label,
        "environment": company.environment,
        "environment_label": _ENV_LABELS[company.environment],
        "dian_url": company.dian_url,
        "software": None
        if software is None
        else {
            "software_id": software.software_id,
            "pin": mask_pin(software.pin),
            "provider_nit": software.provider_nit,
            "provider_dv": software.provider_dv,
            "provider_name": software.provider_name,
        },
        "test_set_id": company.test_set_id,
        "reception_email": company.reception_email,
        "notes": company.notes,
        "issuer": None if company.issuer is None else issuer_view(company.issuer),
    }


def issuer_view(issuer: Issuer) -> dict[str, Any]:
    """The issuer data as shown (``company show``)."""
    address = issuer.address
    return {
        "organization_type": issuer.organization_type,
        "organization_type_label": "Persona jurídica"
        if issuer.organization_type == "1"
        else "Persona natural",
        "trade_name": issuer.trade_name,
        "responsibilities": list(issuer.tax_responsibilities),
        "tax_scheme": issuer.tax_scheme.value,
        "address": {
            "line": address.line,
            "municipality_code": address.municipality_code,
            "city_name": address.city_name,
            "department_code": address.department_code,
            "department_name": address.department_name,
            "postal_code": address.postal_code,
            "country_code": address.country_code,
        },
        "email": issuer.email,
        "phone": issuer.phone,
        "commercial_registration": issuer.commercial_registration,
    }
