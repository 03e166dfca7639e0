"""The console's main flows, driven with Pilot over the demo company (in-process simulator)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from textual.widgets import Input, TabbedContent

from fe_tui.services.console import Workspace
from fe_tui.services.demo import DEMO_CERT_PASSWORD
from fe_tui.services.invoice_queue import ACCEPTED, REJECTED, VOID, InvoiceQueue
from fe_tui.tui.app import FeConsole, header_text
from fe_tui.tui.detail import DetailScreen
from fe_tui.tui.modals import CompanySwitcher, FilterModal, HelpModal, TextModal
from fe_tui.tui.panes.certificate import CertificatePane
from fe_tui.tui.panes.habilitacion import HabilitacionPane
from fe_tui.tui.panes.queue import QueuePane
from fe_tui.tui.panes.resolutions import ResolutionsPane
from fe_tui.tui.queue_table import QueueTable
from tests.tui.conftest import FIXED_NOW, demo_workspace, example, locked


def text_of(widget: object) -> str:
    return str(widget.render())  # type: ignore[attr-defined]


async def test_main_screen_shows_company_environment_and_panes(console: FeConsole) -> None:
    async with console.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        bar = console.screen.query_one("#env-bar")
        assert "SIMULADOR" in text_of(bar) and "900373076-4" in text_of(bar)
        assert bar.has_class("env-simulator")
        table = console.screen.query_one(QueueTable)
        assert len(table.rows) == 3 and console.focused is table
        for key, pane in (("1", CertificatePane), ("2", HabilitacionPane), ("3", ResolutionsPane)):
            await pilot.press(key)
            assert console.focused_pane() is console.screen.query_one(pane)
        await pilot.press("4")
        assert console.focused is table
        assert console.animation_level == "none"


def test_production_is_impossible_to_mistake(workspace: Workspace) -> None:
    company = workspace.current()
    assert company is not None
    prod = company.model_copy(update={"environment": "produccion"})
    assert header_text(prod).startswith("PRODUCCIÓN")
    assert header_text(company).startswith("SIMULADOR")


async def test_help_follows_the_focused_pane(console: FeConsole) -> None:
    async with console.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f1")
        assert isinstance(console.screen, HelpModal)
        assert console.screen.help_title == "Cola"
        await pilot.press("escape", "1", "f1")
        assert isinstance(console.screen, HelpModal)
        assert console.screen.help_title == "Certificado"


async def test_footer_keys_follow_the_selected_document(console: FeConsole) -> None:
    async with console.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pane = console.screen.query_one(QueuePane)
        # Ready documents: nothing to retry, something to void.
        assert pane.check_action("retry", ()) is False
        assert pane.check_action("void", ()) is True
        assert pane.check_action("clear_filter", ()) is False


async def test_batch_runs_in_a_worker_and_the_demo_certificate_unlocks_itself(
    console: FeConsole,
) -> None:
    async with console.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await console.workers.wait_for_complete()
        pane = console.screen.query_one(QueuePane)
        await pilot.press("e", "down")  # the agent keeps the keyboard meanwhile
        await console.workers.wait_for_complete()
        await pilot.pause()
        assert not pane.running
        assert {r.state for r in pane.table.rows} == {ACCEPTED}
        assert pane.last_progress is not None and pane.last_progress.done == 3
        assert "3 documentos" in str(pane.border_title)
        cert = console.screen.query_one(CertificatePane)
        assert cert.view is not None and cert.view.health == "vigente" and cert.view.unlocked


async def test_the_password_is_asked_when_unknown(workspace: Workspace) -> None:
    app = FeConsole(locked(workspace), refresh_seconds=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        cert = app.screen.query_one(CertificatePane)
        assert cert.view is not None and cert.view.health == "vigente" and not cert.view.unlocked
        await pilot.press("1", "u")
        await pilot.pause()
        assert isinstance(app.screen, TextModal) and app.screen.password
        await pilot.press(*"equivocada", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.loaded_certificate(workspace.current()) is None  # type: ignore[arg-type]
        await pilot.press("u")
        await pilot.pause()
        await pilot.press(*DEMO_CERT_PASSWORD, "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert cert.view is not None and cert.view.health == "vigente" and cert.view.unlocked


async def test_filter_search_and_clear(console: FeConsole) -> None:
    async with console.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pane = console.screen.query_one(QueuePane)
        await pilot.press("slash")
        assert console.focused is pane.query_one("#queue-search", Input)
        await pilot.press(*"990000001", "enter")
        await pilot.pause()
        assert [r.doc_id for r in pane.table.rows] == ["SETP990000001"]
        await pilot.press("x")
        assert len(pane.table.rows) == 3
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(console.screen, FilterModal)
        await pilot.press("tab", *"2025-01", "enter")
        await pilot.pause()
        assert pane.table.rows == [] and pane.has_class("-empty")
        assert "Ningún documento" in text_of(pane.query_one("#queue-empty"))


async def test_void_asks_a_reason(console: FeConsole) -> None:
    async with console.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pane = console.screen.query_one(QueuePane)
        target = pane.table.current.doc_id
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(console.screen, TextModal)
        await pilot.press("enter")  # empty: refused, the modal stays
        await pilot.pause()
        assert isinstance(console.screen, TextModal)
        await pilot.press(*"venta cancelada", "enter")
        await console.workers.wait_for_complete()
        await pilot.pause()
        rec = pane.view.queue.ledger.get(target)  # type: ignore[union-attr]
        assert rec is not None and rec.state == VOID and rec.void_reason == "venta cancelada"


async def test_a_rejection_is_explained_in_the_detail_view(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    company = ws.current()
    assert company is not None
    bad = example()
    bad["document"]["customer"]["email"] = "otro@ejemplo.com"  # not the registered one: FAJ71
    InvoiceQueue(ws.store, company, ws.settings).add(bad)
    app = FeConsole(ws, refresh_seconds=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        pane = app.screen.query_one(QueuePane)
        assert pane.table.current.state == REJECTED
        assert pane.check_action("retry", ()) is True
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        assert screen.query_one(TabbedContent).active == "tab-dian"
        dian = text_of(screen.query_one("#detail-dian"))
        assert "FAJ71" in dian and "Qué revisa:" in dian and "Cómo corregir:" in dian
        assert "otro@ejemplo.com" in dian  # the offending value, read from the signed XML
        rule = next(r for a in screen.detail.answers for r in a.rules if r.code == "FAJ71")
        assert rule.value == "otro@ejemplo.com"
        soap = screen.query_one("#detail-soap")
        assert "[oculto]" in soap.text and "BinarySecurityToken" in soap.text  # type: ignore[attr-defined]
        await pilot.press("c")
        assert app.clipboard == screen.detail.cufe
        await pilot.press("x")
        exported = screen.last_export
        assert exported.parent == ws.settings.data_dir / "evidencia"
        assert exported.stat().st_mode & 0o077 == 0
        with zipfile.ZipFile(exported) as zf:
            names = zf.namelist()
        assert "documento-firmado.xml" in names and "historia.json" in names
        assert any(n.endswith("-respuesta.xml") for n in names)
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)


async def test_company_switcher_lists_the_store(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    other = ws.current().model_copy(  # type: ignore[union-attr]
        update={
            "nit": "800199436",
            "dv": "4",
            "name": "Otra Empresa S.A.S.",
            "issuer": None,
            "software": None,
            "environment": "habilitacion",
        }
    )
    ws.store.save_company(other)
    app = FeConsole(ws, refresh_seconds=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert isinstance(app.screen, CompanySwitcher)
        assert {nit for nit, _ in app.screen.companies} == {"900373076", "800199436"}
        while app.screen.query_one("OptionList").highlighted_option.id != "800199436":  # type: ignore[attr-defined]
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert app.company is not None and app.company.nit == "800199436"
        assert ws.store.current_company_nit() == "800199436"
        assert "Otra Empresa" in text_of(app.screen.query_one("#env-bar"))
        assert "La cola está vacía" in text_of(app.screen.query_one("#queue-empty"))


async def test_palette_lists_pane_commands(console: FeConsole) -> None:
    from fe_tui.tui.commands import _commands

    async with console.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        titles = [t for t, _h, _c in _commands(console)]
        assert "cola: ejecutar lote" in titles and "empresa: cambiar" in titles
        assert "cola: reintentar el documento elegido" not in titles  # nothing to retry
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert type(console.screen).__name__ == "CommandPalette"
        # The open palette asks about the main screen, not about itself.
        await pilot.press(*"ejecutar")
        await pilot.pause(0.3)
        from textual.widgets import OptionList

        options = console.screen.query_one(OptionList)
        shown = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any("cola: ejecutar lote" in text for text in shown), shown


async def test_100k_rows_draw_only_what_is_visible() -> None:
    from fe_tui.store.ledger import DocRecord

    rows = [
        DocRecord(f"SETP{n}", n, "SETP", "01", "invoice", "ready", "2026-12-03", "2026-12-03")
        for n in range(100_000)
    ]
    from textual.app import App

    class Host(App[None]):
        def compose(self):  # type: ignore[no-untyped-def]
            yield QueueTable()

    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(QueueTable)
        table.set_rows(rows)
        table.focus()
        await pilot.pause()
        await pilot.press("end")
        await pilot.pause()
        assert table.current is rows[-1]
        assert table.scroll_offset.y >= 100_000 - 24
        assert "SETP99999" in table.render_line(table.size.height - 1).text


def test_fixed_clock_is_used(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path, documents=1, clock=lambda: FIXED_NOW)
    assert ws.clock() == FIXED_NOW


async def test_o_on_a_draft_opens_it_in_the_form(workspace: Workspace) -> None:
    from fe_tui.tui.invoice_form import InvoiceFormScreen

    company = workspace.current()
    assert company is not None
    queue = InvoiceQueue(workspace.store, company, workspace.settings)
    draft = queue.add(example(), draft=True).record
    app = FeConsole(workspace, refresh_seconds=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pane = app.screen.query_one(QueuePane)
        rows = [r.doc_id for r in pane.table.rows]
        pane.table.cursor = rows.index(draft.doc_id)
        await pilot.pause()
        assert pane.check_action("open_draft", ()) is True
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, InvoiceFormScreen)
        lines = example()["document"]["lines"]
        assert app.screen.draft_of == draft.doc_id and len(app.screen.lines) == len(lines)
        await pilot.press("escape")
        await pilot.pause()
        pane.table.cursor = rows.index(draft.doc_id) - 1 if rows.index(draft.doc_id) else 1
        await pilot.pause()
        assert pane.check_action("open_draft", ()) is False  # a ready document: not a draft



async def test_no_color_keeps_the_environment_in_words(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    company = workspace.current()
    assert company is not None
    workspace.store.save_company(company.model_copy(update={"environment": "produccion"}))
    app = FeConsole(workspace, refresh_seconds=0)
    assert app.no_color
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        bar = text_of(app.screen.query_one("#env-bar"))
        assert bar.startswith("PRODUCCIÓN · ")
        screen = app.export_screenshot()
        assert "PRODUCCIÓN" in screen and "lista" in screen  # the states are words too


async def test_sixteen_colours_keep_titles_warnings_and_errors_apart(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With 16 colours the default theme's accent, warning and error all become bright
    red (a section title read as an error); the console then uses its own theme."""
    from rich.color import Color, ColorSystem
    from textual import constants

    def ansi(variables: dict[str, str], name: str) -> int | None:
        return Color.parse(variables[name]).downgrade(ColorSystem.STANDARD).number

    default = FeConsole(workspace, refresh_seconds=0)
    assert default.console.color_system == "truecolor" and default.theme == "textual-dark"

    monkeypatch.setattr(constants, "COLOR_SYSTEM", "standard")
    app = FeConsole(workspace, refresh_seconds=0)
    assert app.console.color_system == "standard"
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        variables = app.get_css_variables()
        colours = {ansi(variables, n) for n in ("accent", "warning", "error", "success")}
        assert len(colours) == 4, colours
        bar = text_of(app.screen.query_one("#env-bar"))
        assert bar.startswith("SIMULADOR · ")
