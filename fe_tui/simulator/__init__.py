"""Local stand-in for DIAN's ``WcfDianCustomerServices``: a clearly-labelled TEST DOUBLE.

An ASGI app (:func:`create_app`) that speaks DIAN's SOAP 1.2 contract and checks
locally what DIAN checks, plus fault switches to rehearse DIAN's bad days.
:func:`serve` runs it with uvicorn on the loopback. Nothing it answers has legal
or tax effect.
"""

from fe_tui.simulator.app import Simulator, create_app
from fe_tui.simulator.config import Faults, SimulatorConfig, TestSet, demo_config
from fe_tui.simulator.server import serve

__all__ = [
    "Faults",
    "Simulator",
    "SimulatorConfig",
    "TestSet",
    "create_app",
    "demo_config",
    "serve",
]
