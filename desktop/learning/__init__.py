"""Client-side learning records and their pure rules (watched intervals, learning state);
the rules shared with the server live in cmecore.rules. No Qt, no I/O."""
