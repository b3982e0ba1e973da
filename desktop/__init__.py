"""CME Offline: take accredited CME/CE sessions offline."""

import sys

__version__ = "0.1.0"

# httpx imports its optional command-line client (click, rich and pygments: ~80 modules and
# several MB in the GUI process, tests/bench/bench_rss.py) whenever those happen to be
# installed. The app never runs it; a None entry makes that import fail, which httpx handles.
sys.modules.setdefault("httpx._main", None)
