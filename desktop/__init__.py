"""CME Offline: take accredited CME/CE sessions offline."""

__version__ = "0.1.0"
