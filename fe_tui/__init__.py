"""fe-tui: consola de soporte para facturación electrónica DIAN."""

__version__ = "0.1.0"
