"""``python -m khalis_kg.server``: the same as ``khalis-kg serve``."""

from __future__ import annotations

from . import serve_command

if __name__ == "__main__":
    serve_command(prog_name="khalis-kg serve")
