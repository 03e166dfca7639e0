"""The four panes of the main screen, one module each, over a shared :class:`PaneMixin`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.containers import VerticalScroll

if TYPE_CHECKING:
    from fe_tui.tui.app import FeConsole

#: What a pane says while its company is being read (after the first frame, in a thread).
LOADING = "[dim]cargando…[/]"

#: Shared look of every pane (the app's CSS includes it): a border that lights up on focus.
PANE_CSS = """
.pane {
    border: round $panel-lighten-2;
    border-title-align: left;
    padding: 0 1;
    height: 1fr;
}
.pane:focus-within {
    border: round $accent;
    border-title-style: bold;
}
"""


class PaneMixin:
    """A pane: a bordered, focusable region with a number key, a title and help.

    Subclasses set :attr:`NUMBER`, :attr:`TITLE`, ``HELP`` (Markdown, Spanish)
    and implement :meth:`reload` (read the state from the services and redraw).
    """

    NUMBER: ClassVar[int] = 0
    TITLE: ClassVar[str] = ""

    def _init_pane(self) -> None:
        self.add_class("pane")  # type: ignore[attr-defined]
        setattr(self, "border_title", f"{self.NUMBER} {self.TITLE}")  # noqa: B010 (a Widget's)

    @property
    def console(self) -> FeConsole:
        """The app (typed)."""
        return self.app  # type: ignore[attr-defined, no-any-return]

    def reload(self) -> None:
        """Read the state again and redraw (subclasses)."""

    def focus_pane(self) -> None:
        """Give the keyboard to this pane (or its main widget)."""
        self.focus()  # type: ignore[attr-defined]


class Pane(PaneMixin, VerticalScroll, can_focus=True):
    """A scrolling summary pane."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._init_pane()
