"""The main window's pages that are built the first time the learner goes to them.

Downloads, My credits and Settings are not on screen until the learner picks them, and a
session spent playing an activity may never show them: each is built (and its module
imported) on first use, so its widgets and models are not resident meanwhile. Until then
an empty widget holds its place in the window's stack, so the sections keep their
indices, shortcuts (Ctrl+1 to Ctrl+4) and tab order. What the window shows about them
before they are opened does not come from the pages: the Downloads count in the
navigation, the library's progress and the status line read the `DownloadQueue`
(download_queue.py), built with the services; My credits and Settings show nothing
before they are opened, and read the services afresh when they are.

A mixin of `MainWindow` (main_window.py); it uses the window's `services`, `events`,
`stack`, `prefs`, `download_queue` and its slots for what the pages ask.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

SECTIONS = ("Library", "Downloads", "My credits", "Settings")
LIBRARY, DOWNLOADS, CREDITS, SETTINGS, ACTIVITY = range(5)  # their places in the window's stack


class WindowPages:
    """Mixin for MainWindow: the pages built on first use, and the way to them (`page`)."""

    _page_builders: dict

    def lay_out_later_pages(self) -> None:
        """A stand-in for each page built on first use, then the activity page (built already)."""
        self._page_builders = {DOWNLOADS: self._new_downloads_page, CREDITS: self._new_credits_page,
                               SETTINGS: self._new_settings_page}
        for _index in sorted(self._page_builders):
            self.stack.addWidget(QWidget(self.stack))
        self.stack.addWidget(self.activity_page)

    def page(self, index: int) -> QWidget:
        """The page at `index` in the stack, built now if the learner has not been to it yet
        (it takes the place of the empty widget that stood for it)."""
        builder = self._page_builders.get(index)
        if builder is not None:  # forgotten only once built: a page that failed to build is tried again
            page = builder()
            del self._page_builders[index]
            stand_in = self.stack.widget(index)
            self.stack.insertWidget(index, page)
            self.stack.removeWidget(stand_in)
            stand_in.deleteLater()
        return self.stack.widget(index)

    def built_page(self, index: int) -> QWidget | None:
        """The page at `index` if it has been built (None: not yet, or no services)."""
        if self.services is None or index in self._page_builders:
            return None
        return self.stack.widget(index)

    @property
    def downloads_page(self):
        """The Downloads page (built now if it was not)."""
        return self.page(DOWNLOADS)

    @property
    def credits_page(self):
        """My credits (built now if it was not)."""
        return self.page(CREDITS)

    @property
    def settings_page(self):
        """The Settings page (built now if it was not)."""
        return self.page(SETTINGS)

    def _new_downloads_page(self) -> QWidget:
        from desktop.views.downloads_page import DownloadsPage  # memory: only once the learner opens the page

        page = DownloadsPage(self.services, self, queue=self.download_queue)
        page.open_activity.connect(self.open_activity)
        return page

    def _new_credits_page(self) -> QWidget:
        from desktop.views.credits_page import CreditsPage  # memory: only once the learner opens the page

        return CreditsPage(self.services, self, events=self.events)

    def _new_settings_page(self) -> QWidget:
        from desktop.views.pages import SettingsPage  # memory: only once the learner opens the page

        page = SettingsPage(self.services, self, events=self.events, prefs=self.prefs)
        page.sign_in_requested.connect(lambda: self.open_sign_in())
        page.settings_changed.connect(self._settings_changed)
        return page
