"""CLI commands over the company store and the invoice queue: ``demo`` and ``queue``.

Registered on :data:`fe_tui.cli.main` (this module is imported at the end of
``cli.py``). Parsing and printing only: the work is in
:mod:`fe_tui.services.invoice_queue`, :mod:`fe_tui.services.demo` and
:mod:`fe_tui.services.sessions`.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from fe_tui.cli import (
    EXIT_CHECK_FAILED,
    EXIT_OK,
    _emit_json,
    _password,
    company_option,
    handle_errors,
    json_option,
    main,
    password_option,
    settings_from_context,
)
from fe_tui.errors import InputError


def _queue(company_nit: str | None) -> Any:
    from fe_tui.services.invoice_queue import queue_for
    from fe_tui.store.db import Store

    settings = settings_from_context()
    return queue_for(Store(settings.data_dir), settings, company_nit)


# -- demo ------------------------------------------------------------------------------------------
@main.command()
@click.option(
    "--no-ui",
    is_flag=True,
    help="Solo crear la empresa de demostración (sin abrir la consola).",
)
@click.option(
    "--dian-url",
    default=None,
    metavar="URL",
    help="Enviar a un simulador ya iniciado (p. ej. http://127.0.0.1:8089/"
    "WcfDianCustomerServices.svc); sin ella, el simulador corre dentro del proceso.",
)
@json_option
@handle_errors
def demo(no_ui: bool, dian_url: str | None, as_json: bool) -> None:
    """Crea la empresa de demostración (la de examples/) y abre la consola sobre ella.

    Con --no-ui solo la crea. Sin --data-dir ni FE_TUI_DATA_DIR usa una carpeta
    temporal nueva: nunca toca los datos reales.
    """
    from fe_tui.services.demo import DEMO_CERT_PASSWORD, create_demo_company
    from fe_tui.settings import Settings
    from fe_tui.store.db import Store

    ctx = click.get_current_context()
    explicit = ctx.find_root().params.get("data_dir")
    import os

    if explicit is None and not os.environ.get("FE_TUI_DATA_DIR"):
        # Never touch the agent's real data: a fresh temporary directory.
        settings = Settings.load(Path(tempfile.mkdtemp(prefix="fe-tui-demo-")))
    else:
        settings = settings_from_context()
    made = create_demo_company(Store(settings.data_dir), settings, dian_url=dian_url)
    company = made.company
    if not no_ui:
        from fe_tui.cli import open_console

        open_console(company_nit=company.nit, settings=settings)
        return
    where = dian_url or "simulador local dentro del proceso"
    if as_json:
        _emit_json(
            {
                "ok": True,
                "data_dir": str(settings.data_dir),
                "company": {"nit": company.nit, "dv": company.dv, "name": company.name},
                "environment": company.environment,
                "dian_url": dian_url,
                "certificate": str(made.certificate_path),
                "certificate_password": DEMO_CERT_PASSWORD,
            }
        )
        return
    click.echo(f"Empresa de demostración: {company.label}")
    click.echo(f"Carpeta de datos: {settings.data_dir}")
    click.echo(f"Ambiente: Simulador local de la DIAN (doble de pruebas) — {where}")
    click.echo(
        f"Certificado de prueba (no es de ninguna CA): {made.certificate_path}, "
        f"contraseña «{DEMO_CERT_PASSWORD}»"
    )
    click.echo("Siguiente paso:")
    click.echo(
        f"  export FE_TUI_DATA_DIR={settings.data_dir} FE_TUI_CERT_PASSWORD={DEMO_CERT_PASSWORD}"
    )
    click.echo("  fe-tui queue add examples/factura.json && fe-tui queue run")


# -- queue -----------------------------------------------------------------------------------------
@main.group()
def queue() -> None:
    """Cola de documentos de la empresa: numerar, firmar, enviar y conciliar con la DIAN."""


@queue.command("add")
@click.argument(
    "files",
    metavar="ARCHIVO...",
    nargs=-1,
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
)
@company_option
@click.option("--draft", is_flag=True, help="Guardar como borrador (sin número todavía).")
@json_option
@handle_errors
def queue_add(files: tuple[Path, ...], company_nit: str | None, draft: bool, as_json: bool) -> None:
    """Agrega documentos JSON (docs/invoice-json.md); el número lo asigna la resolución.

    Varios archivos se agregan juntos: todos o ninguno (si uno no es válido, no se usa
    ningún número).
    """
    from fe_tui.fileio import read_input
    from fe_tui.services.documents import MAX_JSON_BYTES

    q = _queue(company_nit)
    items = []
    for path in files:
        raw = read_input(path, max_bytes=MAX_JSON_BYTES, what="El JSON")
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            raise InputError(f"{path.name} no es un JSON válido.") from None
        if not isinstance(data, dict):
            raise InputError(f"{path.name}: se esperaba un objeto JSON.")
        items.append(data)
    if len(items) > 1:
        results = q.add_many(items, draft=draft, labels=[p.name for p in files])
    else:
        results = [q.add(items[0], draft=draft)]
    added = []
    for path, result in zip(files, results, strict=True):
        added.append({"file": str(path), **result.record.to_dict(), "warnings": result.warnings})
        if not as_json:
            rec = result.record
            click.echo(f"{path.name} → {rec.doc_id} ({rec.kind}, {rec.state})")
            for warning in result.warnings:
                click.echo(f"Advertencia: {warning}", err=True)
    if as_json:
        _emit_json({"ok": True, "added": added})


def _load_certificate(q: Any, password_env: str) -> Any:
    from fe_tui.services.documents import load_certificate
    from fe_tui.services.sessions import active_certificate_path

    path = active_certificate_path(q.store, q.company)
    return load_certificate(path, _password(password_env))


class _Progress:
    """A one-line progress bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()

    def __call__(self, p: Any) -> None:
        if not self.enabled:
            return
        width = 24
        filled = int(width * p.done / p.total) if p.total else width
        eta = f"{p.eta:4.0f} s" if p.eta is not None else "  —  "
        counts = " ".join(f"{k}={v}" for k, v in sorted(p.counts.items()))
        line = (
            f"\r[{'#' * filled}{'.' * (width - filled)}] {p.done}/{p.total} "
            f"{p.rate:6.1f} doc/s ETA {eta}  {counts}"
        )
        click.echo(line[:200], nl=False, err=True)

    def close(self) -> None:
        if self.enabled:
            click.echo("", err=True)


def _run(
    company_nit: str | None,
    password_env: str,
    as_json: bool,
    *,
    reconcile: bool,
    concurrency: int | None = None,
    force: bool = False,
) -> None:
    from fe_tui.services.sessions import open_company_session

    q = _queue(company_nit)
    cert = _load_certificate(q, password_env)
    progress = _Progress(not as_json)

    async def go() -> Any:
        async with open_company_session(q.store, q.settings, q.company, cert) as session:
            if reconcile:
                return await q.reconcile(session, cert)
            return await q.run(
                session, cert, concurrency=concurrency, progress=progress, force=force
            )

    try:
        summary = asyncio.run(go())
    finally:
        progress.close()
    from fe_tui.services.invoice_queue import ATTENTION

    counts = summary.counts
    problems = sum(counts.get(s, 0) for s in ATTENTION)
    if as_json:
        _emit_json(
            {
                "ok": problems == 0,
                "processed": summary.processed,
                "elapsed_s": round(summary.elapsed, 3),
                "counts": counts,
            }
        )
    else:
        from fe_tui.services.invoice_queue import STATE_LABELS

        shown = ", ".join(f"{STATE_LABELS.get(k, k)}: {v}" for k, v in sorted(counts.items()))
        click.echo(
            f"Procesados {summary.processed} en {summary.elapsed:.1f} s. {shown or 'Cola vacía.'}"
        )
        if problems:
            states = [s for s in ATTENTION if counts.get(s)]
            hints = " ".join(f"`fe-tui queue list --state {s}`" for s in states)
            click.echo(f"Hay documentos que requieren atención: {hints}.")
    sys.exit(EXIT_OK if problems == 0 else EXIT_CHECK_FAILED)


@queue.command("run")
@company_option
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=None,
    help="Envíos simultáneos (por defecto FE_TUI_CONCURRENCY, o 4).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Enviar sin la revisión local (también los documentos retenidos por ella); queda "
    "registrado en la historia de cada documento. Solo si está seguro de que la DIAN lo "
    "aceptará.",
)
@password_option
@json_option
@handle_errors
def queue_run(
    company_nit: str | None,
    concurrency: int | None,
    force: bool,
    password_env: str,
    as_json: bool,
) -> None:
    """Firma, revisa y envía todo lo pendiente hasta que no quede nada por hacer.

    Antes de enviar, cada documento firmado pasa la revisión local (las reglas de la
    DIAN que se pueden verificar aquí, con los datos de la empresa): uno con algún
    Rechazo no se envía y queda «retenida (revisión local)» con cada regla explicada
    (`fe-tui queue show NÚMERO`). Las Notificaciones no detienen el envío.
    """
    _run(
        company_nit,
        password_env,
        as_json,
        reconcile=False,
        concurrency=concurrency,
        force=force,
    )


@queue.command("reconcile")
@company_option
@password_option
@json_option
@handle_errors
def queue_reconcile(company_nit: str | None, password_env: str, as_json: bool) -> None:
    """Consulta a la DIAN (GetStatus) lo que pudo llegarle, sin enviar nada."""
    _run(company_nit, password_env, as_json, reconcile=True)


@queue.command("list")
@company_option
@click.option("--state", default=None, help="Solo este estado (ready, rejected, accepted…).")
@click.option("--prefix", default=None, help="Solo este prefijo.")
@click.option(
    "--offset", type=click.IntRange(0), default=0, help="Saltar los primeros N documentos."
)
@click.option(
    "--limit", type=click.IntRange(0), default=None, help="Mostrar a lo sumo N documentos."
)
@json_option
@handle_errors
def queue_list(
    company_nit: str | None,
    state: str | None,
    prefix: str | None,
    offset: int,
    limit: int | None,
    as_json: bool,
) -> None:
    """Lista los documentos de la cola (los más antiguos primero; con --state, en el orden
    en que entraron a ese estado)."""
    from fe_tui.services.invoice_queue import STATE_LABELS

    q = _queue(company_nit)
    records = q.list(state, prefix, offset=offset, limit=limit)
    if as_json:
        _emit_json([r.to_dict() for r in records])
        return
    if not records:
        click.echo("No hay documentos.")
        return
    for r in records:
        cufe = (r.cufe[:16] + "…") if r.cufe else "—"
        click.echo(f"{r.doc_id:<16} {r.document_type:<3} {STATE_LABELS[r.state]:<28} {cufe}")


@queue.command("show")
@click.argument("number", metavar="NÚMERO")
@company_option
@json_option
@handle_errors
def queue_show(number: str, company_nit: str | None, as_json: bool) -> None:
    """Un documento: estado, CUFE e historia de cada intento."""
    from fe_tui.services.invoice_queue import STATE_LABELS

    q = _queue(company_nit)
    data = q.show(number)
    if as_json:
        _emit_json(data)
        return
    click.echo(f"{data['id']} ({data['document_type']}) — {STATE_LABELS[data['state']]}")
    if data["cufe"]:
        click.echo(f"CUFE/CUDE: {data['cufe']}")
    if data["message"]:
        click.echo(f"Último mensaje: {data['message']}")
    for ev in data["history"]:
        detail = ev.get("message") or ""
        click.echo(f"  {ev['t']}  {ev['e']:<9} {ev.get('state', ''):<22} {detail}")
        for rule in ev.get("rules") or []:
            if not isinstance(rule, dict) or "explanation" not in rule:
                continue  # DIAN's own rules are in the message; these are the preflight's
            click.echo(f"      {rule.get('text') or rule.get('code')}")
            if rule.get("detail"):
                click.echo(f"          En el documento: {rule['detail']}")
            if rule.get("explanation"):
                click.echo(f"          Qué revisa: {rule['explanation']}")
            if rule.get("fix"):
                click.echo(f"          Cómo corregir: {rule['fix']}")


@queue.command("promote")
@click.argument("drafts", metavar="BORRADOR...", nargs=-1)
@click.option("--all", "promote_all", is_flag=True, help="Numerar todos los borradores.")
@company_option
@json_option
@handle_errors
def queue_promote(
    drafts: tuple[str, ...], promote_all: bool, company_nit: str | None, as_json: bool
) -> None:
    """Numera borradores: cada uno recibe el siguiente consecutivo y queda listo para enviar.

    BORRADOR es el identificador que mostró `queue add --draft` (BORRADOR-…; vea
    `fe-tui queue list --state draft`). El número lo asigna la resolución vigente en
    el momento de numerar; el borrador queda anulado con la referencia a su número,
    en el mismo registro (nunca dos números para una venta). `fe-tui queue run` lo envía.
    """
    q = _queue(company_nit)
    if promote_all:
        drafts = drafts + tuple(r.doc_id for r in q.list("draft") if r.doc_id not in drafts)
    if not drafts:
        raise InputError(
            "Indique los borradores que numerar (BORRADOR…) o --all "
            "(`fe-tui queue list --state draft` los muestra)."
        )
    promoted = []
    for draft in drafts:
        rec = q.promote(draft)
        promoted.append({"draft": draft, **rec.to_dict()})
        if not as_json:
            click.echo(f"{draft} → {rec.doc_id} (lista para enviar)")
    if as_json:
        _emit_json({"ok": True, "promoted": promoted})


@queue.command("retry")
@click.argument("number", metavar="NÚMERO")
@company_option
@json_option
@handle_errors
def queue_retry(number: str, company_nit: str | None, as_json: bool) -> None:
    """Vuelve a poner en marcha un documento (rechazado, retenido, por reintentar o por
    conciliar)."""
    rec = _queue(company_nit).retry(number)
    if as_json:
        _emit_json({"ok": True, **rec.to_dict()})
    else:
        click.echo(f"{rec.doc_id}: {rec.state}; `fe-tui queue run` lo procesa.")


@queue.command("correct")
@click.argument("number", metavar="NÚMERO")
@click.argument("file", metavar="ARCHIVO", type=click.Path(dir_okay=False, path_type=Path))
@company_option
@json_option
@handle_errors
def queue_correct(number: str, file: Path, company_nit: str | None, as_json: bool) -> None:
    """Reemplaza el contenido de un documento rechazado conservando su número."""
    from fe_tui.fileio import read_input
    from fe_tui.services.documents import MAX_JSON_BYTES

    raw = read_input(file, max_bytes=MAX_JSON_BYTES, what="El JSON")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise InputError(f"{file.name} no es un JSON válido.") from None
    rec = _queue(company_nit).correct(number, data)
    if as_json:
        _emit_json({"ok": True, **rec.to_dict()})
    else:
        click.echo(f"{rec.doc_id}: corregido (revisión {rec.revision}); se firmará de nuevo.")


@queue.command("void")
@click.argument("number", metavar="NÚMERO")
@click.option("--reason", required=True, help="Motivo de la anulación (queda registrado).")
@company_option
@json_option
@handle_errors
def queue_void(number: str, reason: str, company_nit: str | None, as_json: bool) -> None:
    """Anula un número no enviado (queda registrado con su motivo; no deja hueco silencioso)."""
    rec = _queue(company_nit).void(number, reason)
    if as_json:
        _emit_json({"ok": True, **rec.to_dict()})
    else:
        click.echo(f"{rec.doc_id}: anulado ({reason}).")
