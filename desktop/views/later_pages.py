"""Everything the window builds once the services are open, imported in one go.

The window imports this module only after the library's first paint (docs/architecture.md,
"Start-up path"): the activity page pulls in the player and the media layer, the search
panel its own dependencies; none of it is needed to show the cached library (nor is
syncing, which waits for the services too). The Downloads, My credits and Settings pages
are not here: the window builds (and imports) each the first time the learner goes to it
(`MainWindow.page`); the download queue they show works from the start.
"""

from desktop.views.activity.page import ActivityPage
from desktop.views.download_queue import DownloadQueue
from desktop.views.download_runner import DownloadRunner
from desktop.views.idle import IdleLock
from desktop.views.learner_menu import LearnerButton
from desktop.views.quality_choice import QualityAsker
from desktop.views.reminder_watch import ReminderWatch
from desktop.views.search_panel import SearchPanel
from desktop.views.sync_control import SyncControl

__all__ = ["ActivityPage", "DownloadQueue", "DownloadRunner", "IdleLock", "LearnerButton", "QualityAsker",
           "ReminderWatch", "SearchPanel", "SyncControl"]
