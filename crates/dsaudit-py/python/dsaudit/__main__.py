"""``dsaudit`` and ``python -m dsaudit``: the command line, as the binary runs it."""

from __future__ import annotations

import sys

from . import _native


def main() -> None:
    try:
        code = _native.run_cli(["dsaudit", *sys.argv[1:]])
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
