"""Print the AT-SPI events a screen reader would get, one JSON line each, until killed.

Run with Debian's /usr/bin/python3 (python3-pyatspi) on the app's D-Bus session: what a
screen reader hears when the current transcript cue changes (a selection event) and when
the app announces a status change (object:announcement).
"""

import json
import sys

import pyatspi

EVENTS = ("object:state-changed:selected", "object:selection-changed", "object:announcement")


def heard(event):
    try:
        role, name = event.source.getRoleName(), event.source.name or ""
    except Exception:  # the source may be gone already (a hidden page's interface)
        role, name = "", ""
    print(json.dumps({"type": event.type, "detail1": event.detail1, "role": role, "name": name,
                      "data": str(event.any_data)[:300]}), flush=True)


def main():
    pyatspi.Registry.registerEventListener(heard, *EVENTS)
    print(json.dumps({"type": "listening"}), flush=True)
    pyatspi.Registry.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
