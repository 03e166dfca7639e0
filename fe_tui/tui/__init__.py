"""The Textual console (the only package that imports :mod:`textual`)."""
