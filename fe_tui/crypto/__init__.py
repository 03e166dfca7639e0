"""crypto layer (see docs/ARCHITECTURE.md)."""
