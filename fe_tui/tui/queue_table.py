"""A virtual list of queue documents: draws only the rows on screen, whatever the queue holds.

A 10k-row DataTable takes over a second to its first frame; this widget keeps a
reference to the pane's index (a list of ledger records, see
:class:`fe_tui.services.console.QueueView`) and renders each visible line on
demand with the Line API, so 100k documents cost what 20 do. Records are the
ledger's own objects: when a batch changes a state, a plain refresh shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from fe_tui.services.queue_states import STATE_LABELS

#: State → colour (16-colour names, so it reads on any terminal; NO_COLOR keeps the word).
STATE_STYLES = {
    "accepted": Style(color="green"),
    "accepted_with_notices": Style(color="green"),
    "rejected": Style(color="red", bold=True),
    "retryable": Style(color="yellow"),
    "needs_reconcile": Style(color="yellow", bold=True),
    "void": Style(dim=True),
    "draft": Style(dim=True),
    "ready": Style(color="cyan"),
    "signed": Style(color="cyan"),
    "sending": Style(color="magenta"),
}

COLUMNS = (("Número", 16), ("Estado", 16), ("Fecha", 10), ("Int", 3), ("CUFE", 14))


def header_line(width: int) -> str:
    """The column titles, aligned with :func:`row_cells`."""
    text = " ".join(f"{name:<{w}}" for name, w in COLUMNS) + " Mensaje"
    return text[:width]


def row_cells(rec: Any) -> list[tuple[str, Style | None]]:
    """The cells of one record's row (text, style)."""
    cufe = (rec.cufe[:12] + "…") if rec.cufe else "—"
    state = STATE_LABELS.get(rec.state, rec.state)
    return [
        (f"{rec.doc_id:<16.16} ", None),
        (f"{state:<16.16} ", STATE_STYLES.get(rec.state)),
        (f"{(rec.issue_date or rec.created[:10]):<10.10} ", None),
        (f"{rec.attempts:>3} ", None),
        (f"{cufe:<14.14} ", Style(dim=True)),
        (" ".join((rec.message or "").split()), None),
    ]


class QueueTable(ScrollView, can_focus=True):
    """The rows of the queue (see the module docstring)."""

    DEFAULT_CSS = """
    QueueTable { height: 1fr; }
    """

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Arriba", show=False),
        Binding("down,j", "cursor(1)", "Abajo", show=False),
        Binding("pageup", "page(-1)", "Página arriba", show=False),
        Binding("pagedown", "page(1)", "Página abajo", show=False),
        Binding("home,g", "edge(0)", "Inicio", show=False),
        Binding("end,G", "edge(1)", "Fin", show=False),
        Binding("enter", "select", "Ver", id="queue.view"),
    ]

    cursor: reactive[int] = reactive(0)

    class Highlighted(Message):
        """The cursor moved to a document (``None``: the list is empty)."""

        def __init__(self, table: QueueTable, record: Any) -> None:
            super().__init__()
            self.table = table
            self.record = record

        @property
        def control(self) -> QueueTable:
            """The table."""
            return self.table

    class Chosen(Message):
        """The agent pressed enter on a document."""

        def __init__(self, table: QueueTable, record: Any) -> None:
            super().__init__()
            self.table = table
            self.record = record

        @property
        def control(self) -> QueueTable:
            """The table."""
            return self.table

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rows: Sequence[Any] = ()

    # -- data -------------------------------------------------------------------------------------
    @property
    def rows(self) -> Sequence[Any]:
        """The index drawn (not copied)."""
        return self._rows

    @property
    def current(self) -> Any:
        """The record under the cursor (``None``: empty)."""
        if 0 <= self.cursor < len(self._rows):
            return self._rows[self.cursor]
        return None

    def set_rows(self, rows: Sequence[Any], *, keep: Any = None) -> None:
        """Show ``rows``; the cursor stays on ``keep`` (a record) when it is still there."""
        self._rows = rows
        self.virtual_size = Size(max(self.size.width, 40), len(rows))
        target = 0
        if keep is not None:
            # Near the old position first: a full scan only when it moved far.
            lo, hi = max(0, self.cursor - 50), min(len(rows), self.cursor + 50)
            for i in range(lo, hi):
                if rows[i] is keep:
                    target = i
                    break
            else:
                target = min(self.cursor, max(0, len(rows) - 1))
        self.cursor = min(target, max(0, len(rows) - 1))
        self._announce()
        self.refresh()

    def _announce(self) -> None:
        self.post_message(self.Highlighted(self, self.current))

    # -- drawing ----------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        """One visible line: the row at the scroll position plus ``y``."""
        width = self.size.width
        index = self.scroll_offset.y + y
        base = self.rich_style
        if index >= len(self._rows):
            return Strip.blank(width, base)
        rec = self._rows[index]
        selected = index == self.cursor
        segments = []
        used = 0
        for text, style in row_cells(rec):
            if used >= width:
                break
            text = text[: width - used]
            used += len(text)
            segments.append(Segment(text, base + style if style else base))
        if used < width:
            segments.append(Segment(" " * (width - used), base))
        if selected:
            # Reverse video: visible with 16 colours and with NO_COLOR.
            cursor = Style(reverse=True, bold=self.has_focus)
            segments = [Segment(s.text, (s.style or base) + cursor) for s in segments]
        return Strip(segments, width)

    def on_resize(self) -> None:
        """Keep the virtual width equal to the widget's (no horizontal scrolling)."""
        self.virtual_size = Size(max(self.size.width, 40), len(self._rows))

    def on_focus(self) -> None:
        """Redraw the cursor bold."""
        self.refresh()

    def on_blur(self) -> None:
        """Redraw the cursor plain."""
        self.refresh()

    def watch_cursor(self, old: int, new: int) -> None:
        """Keep the cursor on screen and redraw the two rows that changed."""
        top = self.scroll_offset.y
        height = max(1, self.size.height)
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new >= top + height:
            self.scroll_to(y=new - height + 1, animate=False, immediate=True)
        self.refresh()

    # -- keys -------------------------------------------------------------------------------------
    def _move_to(self, index: int) -> None:
        if not self._rows:
            return
        self.cursor = max(0, min(len(self._rows) - 1, index))
        self._announce()

    def action_cursor(self, delta: int) -> None:
        """Move the cursor by ``delta`` rows."""
        self._move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        """Move a page up or down."""
        self._move_to(self.cursor + direction * max(1, self.size.height - 1))

    def action_edge(self, end: int) -> None:
        """Go to the first (0) or last (1) row."""
        self._move_to(len(self._rows) - 1 if end else 0)

    def action_select(self) -> None:
        """Open the document under the cursor."""
        if self.current is not None:
            self.post_message(self.Chosen(self, self.current))

    def on_click(self, event: Any) -> None:
        """The mouse is optional, but a click selects a row."""
        index = self.scroll_offset.y + event.y
        if 0 <= index < len(self._rows):
            self._move_to(index)
