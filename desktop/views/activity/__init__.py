"""One activity's page and everything only it shows.

`page.py` holds the page (header, tabs, the rule 1 gate); each tab is its own module:
the Overview (front matter and the gate), Watch (video, player controls, transcript),
Summaries, Assessment and Evaluation & credit. Nothing outside this package imports a
tab; the main window builds `ActivityPage` and talks to it.
"""
