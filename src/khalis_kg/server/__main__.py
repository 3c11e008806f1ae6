"""``python -m khalis_kg.server``: the same as ``khalis-kg serve`` (through the command
line's group, so that a failure to start is one line and its exit code)."""

import sys

from ..cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
