"""ubl layer (see docs/ARCHITECTURE.md)."""
