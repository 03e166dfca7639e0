"""dian layer (see docs/ARCHITECTURE.md)."""
