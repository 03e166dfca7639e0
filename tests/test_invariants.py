"""House invariants that hold for the whole code base."""

import pkgutil
import subprocess
import sys

import fe_tui


def _core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(fe_tui.__path__, prefix="fe_tui."):
        if info.name.startswith("fe_tui.tui"):
            continue
        names.append(info.name)
    return names


def test_core_never_imports_textual() -> None:
    modules = _core_modules()
    assert "fe_tui.crypto.xades" in modules and "fe_tui.cli" in modules
    code = (
        "import importlib, sys\n"
        f"mods = {modules!r}\n"
        "bad = []\n"
        "for name in mods:\n"
        "    importlib.import_module(name)\n"
        "    if 'textual' in sys.modules:\n"
        "        bad.append(name); break\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"textual imported by {out.stdout.strip()}"


def test_lxml_and_xmlsec_share_libxml2() -> None:
    """xmlsec and lxml built on different libxml2 versions fail at import or corrupt memory."""
    import xmlsec
    from lxml import etree

    assert xmlsec.get_libxml_version() == etree.LIBXML_VERSION


def test_dian_never_imports_the_simulator() -> None:
    """The simulator (fe_tui/simulator) is an application beside dian/, never below it."""
    import pkgutil
    import subprocess
    import sys

    import fe_tui.dian

    modules = [f"fe_tui.dian.{m.name}" for m in pkgutil.iter_modules(fe_tui.dian.__path__)]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(','.join(m for m in sys.modules if m.startswith('fe_tui.simulator')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"fe_tui.dian imports {out.stdout.strip()}"
