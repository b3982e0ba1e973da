"""PyInstaller entry point: the same `main` as the `cme-offline` console script."""

import sys

from desktop.app import main

if __name__ == "__main__":
    sys.exit(main())
