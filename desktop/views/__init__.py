"""Qt widgets: they show state and forward intent to the services. No SQL, no HTTP; long work
and every store write run off the GUI thread (tasks.py)."""
