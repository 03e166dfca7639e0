"""Serving the local DIAN simulator (a test double) with uvicorn.

``fe-tui simulator --port N`` calls :func:`serve`. The simulator listens on the
loopback only unless ``allow_remote=True``: it accepts any certificate chain and
answers like DIAN, so exposing it on a network would invite confusion with the
real service. A banner on start says plainly what it is.
"""

from __future__ import annotations

import ipaddress
import json
import sys
from typing import TextIO

import uvicorn

from fe_tui.errors import InputError
from fe_tui.simulator.app import LABEL, Simulator, create_app
from fe_tui.simulator.config import ENDPOINT_PATH, SimulatorConfig


def is_loopback(host: str) -> bool:
    """``True`` for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def banner(host: str, port: int, config: SimulatorConfig) -> str:
    """The start-up text: what this is, where, and what it knows."""
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}{ENDPOINT_PATH}"
    lines = [
        "=" * 72,
        f"  {LABEL.upper()}",
        "  Esto NO es la DIAN: es un doble de pruebas local de WcfDianCustomerServices.",
        "  Nada de lo que responde tiene efecto legal ni tributario.",
        "=" * 72,
        f"  Servicio:        {url}",
        f"  Ambiente:        {config.environment} "
        f"(ProfileExecutionID {config.profile_execution_id})",
        f"  Emisores:        {', '.join(i.nit for i in config.issuers) or 'ninguno'}",
        f"  Sets de prueba:  {', '.join(t.test_set_id for t in config.test_sets) or 'ninguno'}",
        f"  Estado:          {config.state_dir or 'en memoria (se pierde al cerrar)'}",
        f"  Administración:  http://{shown}:{port}/_simulator/state  ·  /_simulator/faults",
        "=" * 72,
    ]
    return "\n".join(lines)


def banner_data(host: str, port: int, config: SimulatorConfig) -> dict[str, object]:
    """The start-up facts of :func:`banner` for machines (``fe-tui simulator --json``)."""
    shown = f"[{host}]" if ":" in host else host
    return {
        "ok": True,
        "test_double": True,
        "label": LABEL,
        "url": f"http://{shown}:{port}{ENDPOINT_PATH}",
        "admin": f"http://{shown}:{port}/_simulator/state",
        "environment": config.environment,
        "profile_execution_id": config.profile_execution_id,
        "issuers": [i.nit for i in config.issuers],
        "test_sets": [t.test_set_id for t in config.test_sets],
        "state_dir": str(config.state_dir) if config.state_dir else None,
    }


def build_server(
    port: int,
    host: str = "127.0.0.1",
    config: SimulatorConfig | None = None,
    *,
    allow_remote: bool = False,
    log_level: str = "info",
) -> tuple[uvicorn.Server, Simulator]:
    """A uvicorn server around a new simulator (not started). Refuses non-loopback hosts."""
    if not allow_remote and not is_loopback(host):
        raise InputError(
            f"El simulador local de la DIAN solo escucha en la interfaz local (127.0.0.1, ::1); "
            f"se pidió {host!r}. Use allow_remote=True si de verdad lo necesita en la red.",
            host=host,
        )
    app = create_app(config)
    uv_config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        log_level=log_level,
        server_header=False,
        timeout_graceful_shutdown=2,
    )
    return uvicorn.Server(uv_config), app


def serve(
    port: int,
    host: str = "127.0.0.1",
    config: SimulatorConfig | None = None,
    *,
    allow_remote: bool = False,
    out: TextIO | None = None,
    as_json: bool = False,
) -> None:
    """Run the simulator in the foreground until interrupted (Ctrl+C); the banner first, or
    with ``as_json`` one JSON line of :func:`banner_data`."""
    server, app = build_server(port, host, config, allow_remote=allow_remote)
    if as_json:
        text = json.dumps(banner_data(host, port, app.config), ensure_ascii=False)
    else:
        text = banner(host, port, app.config)
    print(text, file=out or sys.stdout, flush=True)
    server.run()
