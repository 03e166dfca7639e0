"""The Textual console (the only package that imports ``textual``).

Public API: :class:`fe_tui.tui.app.FeConsole` (the app) and
:func:`fe_tui.tui.app.run_console` (what ``fe-tui`` and ``fe-tui demo`` call).
Imported lazily so that ``import fe_tui.tui`` stays cheap.
"""
