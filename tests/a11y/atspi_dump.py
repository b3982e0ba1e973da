"""Read one application's accessible tree as a screen reader does, through AT-SPI; print JSON.

Run with Debian's /usr/bin/python3 (python3-pyatspi), with the same DBUS_SESSION_BUS_ADDRESS
as the app:  atspi_dump.py PID  prints the app's tree as one JSON object.
Each node: role, name, description, states, text (the Text interface, where there is one),
children. A hidden node (not "showing") is listed without its subtree: a screen reader does
not read what is not on screen, and walking every hidden page over D-Bus is slow.
"""

import json
import sys

import pyatspi

MAX_NODES = 4000
MAX_CHILDREN = 200  # long lists (the transcript's cues): the first ones are enough to judge


def node(acc, budget):
    budget[0] -= 1
    states = sorted(pyatspi.stateToString(s) for s in acc.getState().getStates())
    out = {"role": acc.getRoleName(), "name": acc.name or "", "description": acc.description or "",
           "states": states, "children": []}
    try:
        text = acc.queryText()
        out["text"] = text.getText(0, -1)
    except NotImplementedError:
        pass
    if budget[0] <= 0 or ("showing" not in states and out["role"] != "application"):
        return out
    count = acc.childCount
    for index in range(min(count, MAX_CHILDREN)):
        child = acc.getChildAtIndex(index)
        if child is not None and budget[0] > 0:
            out["children"].append(node(child, budget))
    return out


def main(pid):
    desktop = pyatspi.Registry.getDesktop(0)
    for index in range(desktop.childCount):
        app = desktop.getChildAtIndex(index)
        if app is not None and app.get_process_id() == pid:
            print(json.dumps(node(app, [MAX_NODES])))
            return 0
    print(json.dumps({"error": f"no application with pid {pid} on the AT-SPI bus"}))
    return 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
