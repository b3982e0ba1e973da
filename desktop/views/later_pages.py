"""Everything the window builds once the services are open, imported in one go.

The window imports this module only after the library's first paint (docs/architecture.md,
"Start-up path"): the activity page pulls in the player and the media layer, the search
panel and the settings page their own dependencies; none of it is needed to show the
cached library (nor is syncing, which waits for the services too).
"""

from desktop.views.activity.page import ActivityPage
from desktop.views.credits_page import CreditsPage
from desktop.views.download_runner import DownloadRunner
from desktop.views.downloads_page import DownloadsPage
from desktop.views.idle import IdleLock
from desktop.views.learner_menu import LearnerButton
from desktop.views.pages import SettingsPage
from desktop.views.quality_choice import QualityAsker
from desktop.views.reminder_watch import ReminderWatch
from desktop.views.search_panel import SearchPanel
from desktop.views.sync_control import SyncControl

__all__ = ["ActivityPage", "CreditsPage", "DownloadRunner", "DownloadsPage", "IdleLock", "LearnerButton",
           "QualityAsker", "ReminderWatch", "SearchPanel", "SettingsPage", "SyncControl"]
