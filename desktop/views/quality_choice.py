"""Which form of a video to fetch, as the learner sees it: the sizes before a download, the
dialog that asks ("Ask each time before downloading"), and switching the form on the machine.

The rule (the preferred quality within the policy's maximum, the nearest allowed form when
the preferred one is not offered) is `cmecore.renditions.choose`; the forms an activity
offers, allowed ones only and largest first, come from `DownloadsService.video_forms`
(a quick local read). This module only shows them and hands the answer on: what to fetch
is decided by the downloads service, so the size shown here is the size fetched.

`QualityAsker` opens the dialog without blocking (`open`, not `exec`): the window goes on
drawing downloads meanwhile, and a test reaches the dialog as `asker.dialog`.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from cmecore.renditions import QUALITY_LABELS, RANK, Quality, choose
from desktop.views.text import human_bytes
from desktop.views.widgets import plain_label, push_button

ASK_TIP = "Choose Best, Small or Audio only, with their sizes, before anything is fetched"
QUALITY_TIPS = {
    Quality.best: "The provider's own video, the largest file",
    Quality.small: "A smaller video; slides stay legible",
    Quality.audio: "Sound only, the smallest file; the transcript is shown full width while it plays",
}


def resolution(form) -> str:
    """"360p" for a video of that height; "" for sound alone or an unknown height."""
    return f"{form.height}p" if form.height and form.quality is not Quality.audio else ""


def form_text(form) -> str:
    """"Small · 360p · 24.0 MB", "Audio only · 5.0 MB" (a VideoForm or a Choice)."""
    parts = [QUALITY_LABELS[form.quality], resolution(form), human_bytes(form.size)]
    return " · ".join(p for p in parts if p)


def form_name(form) -> str:
    """"Small (360p)" or "Audio only": the form without its size."""
    res = resolution(form)
    return f"{QUALITY_LABELS[form.quality]} ({res})" if res else QUALITY_LABELS[form.quality]


def maximum_note(maximum: Quality | None) -> str:
    """What a policy maximum leaves out, in words ("" when it leaves out nothing)."""
    if maximum is None or maximum is Quality.best:
        return ""
    above = [QUALITY_LABELS[q] for q in Quality if RANK[q] < RANK[maximum]]
    return (f"Your organisation allows at most {QUALITY_LABELS[maximum]}: "
            f"{' and '.join(above)} {'is' if len(above) == 1 else 'are'} not offered.")


def planned(by_activity: dict[str, list], quality: Quality) -> list:
    """The form each activity would fetch for `quality` (the one rule: `choose`); activities
    with no video (or none allowed) fetch none."""
    out = []
    for forms in by_activity.values():
        form = choose(forms, quality) if forms else None
        if form is not None:
            out.append(form)
    return out


def fetched_instead(by_activity: dict[str, list], quality: Quality) -> list[tuple[str, object]]:
    """(activity id, form) for each activity with a video but no `quality` form allowed: the
    form `choose` falls back to, which a Download of `quality` fetches instead."""
    return [(a, form) for a, forms in by_activity.items()
            if forms and (form := choose(forms, quality)) is not None and form.quality is not quality]


def instead_text(by_activity: dict[str, list], quality: Quality, titles: dict[str, str], shown: int = 5) -> str:
    """"2 of these 3 activities have no Small form. Fetched instead: “Sepsis”: Best · 720p · 40.0 MB;
    …" ("" when every one has it): said before the learner confirms, so the dialog never
    promises a form that will not come."""
    found = fetched_instead(by_activity, quality)
    if not found:
        return ""
    videos = sum(1 for forms in by_activity.values() if forms)
    listed = "; ".join(f"“{titles.get(a, a)}”: {form_text(f)}" for a, f in found[:shown])
    more = f"; and {len(found) - shown} more" if len(found) > shown else ""
    return (f"{len(found)} of these {videos} activities {'has' if len(found) == 1 else 'have'} no "
            f"{QUALITY_LABELS[quality]} form. Fetched instead: {listed}{more}.")


def plan_text(by_activity: dict[str, list]) -> str:
    """What a Download fetches without asking: "Small · 360p · 24.0 MB" for one activity, "3
    videos, 72.0 MB in all" for several, "" when there is no video to fetch. The form is the
    one the service marks `wanted` (the learner's quality, or the form chosen here before);
    an activity with a form of its video here fetches none (changing it is a switch)."""
    forms = [f for forms in by_activity.values() if not any(g.on_machine for g in forms)
             for f in forms if f.wanted]
    if not forms:
        return ""
    if len(forms) == 1:
        return form_text(forms[0])
    return f"{len(forms)} videos, {human_bytes(sum(f.size for f in forms))} in all"


def forms_text(forms: list, hidden: list = ()) -> str:
    """"Small · 360p · 24.0 MB on this computer; also offered: Audio only · 5.0 MB. Best quality
    not offered on this computer (IT policy).": the allowed forms (VideoForm), then the forms
    (Quality) the policy's maximum hides, if any."""
    if not forms:
        return (f"comes only as {_qualities(hidden)}, which is not offered on this computer (IT policy). "
                "Ask your IT help desk if you need it.")
    here = [f for f in forms if f.on_machine]
    others = [form_text(f) + (" (coming; it replaces the one here once checked)" if f.wanted and here else "")
              for f in forms if not f.on_machine]
    if here:
        text = f"{form_text(here[0])} on this computer"
        text = f"{text}; also offered: {', '.join(others)}" if others else text
    else:
        text = f"not downloaded; offered: {', '.join(others)}"
    if hidden:
        text += f". {_qualities(hidden)} quality not offered on this computer (IT policy)."
    return text


def _qualities(qualities: list) -> str:
    return " and ".join(QUALITY_LABELS[q] for q in qualities)


def switch_button(parent: QWidget, forms: list, clicked) -> QPushButton:
    """"Change video quality…": shown when the video has other forms, enabled once one is here."""
    here = any(f.on_machine for f in forms)
    button = push_button(parent, "Change video quality…", (
        "Download another form of the video (Best, Small or Audio only); the one here is removed only after "
        "the new one has arrived and been checked") if here else "Offered once the video is on this computer",
        clicked)
    button.setEnabled(here and len(forms) > 1)
    button.setVisible(len(forms) > 1)  # one form only: there is nothing to change to
    return button


def switching_text(quality) -> str:
    """What the Downloads page says once a switch is queued (the service keeps the old file
    until the new one has arrived and verified)."""
    return (f"Downloading the {QUALITY_LABELS[quality]} form. The video on this computer stays until the new one "
            "has arrived and been checked; then it is removed.")


def download_tip(plan: str, *, ask: bool) -> str:
    """The Download button's tooltip: the dialog comes, or what will be fetched."""
    if ask:
        return ASK_TIP
    if plan:
        return f"Fetch the video ({plan}) with the transcript and summaries, for offline use"
    return "Fetch the transcript and summaries for offline use"


def forms_by_activity(services, activity_ids: list[str]) -> dict[str, list]:
    """The forms each activity offers (allowed ones, largest first): a quick local read."""
    found = services.downloads.video_forms_by_activity(activity_ids)
    return {a: found.get(a, []) for a in activity_ids}


def preferred_quality(services) -> Quality:
    return services.config.download_quality() or Quality.best


def describe_download(services, activity_ids: list[str]) -> tuple[str, str]:
    """(what a Download fetches now, e.g. "Small · 360p · 24.0 MB" or "" when the dialog will
    ask, and the Download button's tooltip)."""
    if services is None or not activity_ids:
        return "", download_tip("", ask=False)
    if services.settings.ask_quality:
        return "", download_tip("", ask=True)
    plan = plan_text(forms_by_activity(services, activity_ids))
    return plan, download_tip(plan, ask=False)


class QualityDialog(QDialog):
    """The forms an activity offers, each with its size; the preferred one selected.

    Keyboard: the arrows move between the forms, Enter downloads, Esc closes. For several
    activities at once each choice shows the total that would be fetched.
    """

    def __init__(self, parent: QWidget | None, *, title: str, heading: str, choices: list[tuple[Quality, str]],
                 selected: Quality | None, note: str = "", action: str = "Download",
                 disabled: dict[Quality, str] | None = None, instead: dict[Quality, str] | None = None):
        """`instead`: per choice, what comes in place of that form for the activities that
        lack it (shown under the choices while it is selected, and read with the choice)."""
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setModal(True)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 64)  # the note reads in a few lines
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: dict[Quality, QRadioButton] = {}
        v = QVBoxLayout(self)
        v.addWidget(plain_label(heading, self, name=heading, selectable=False))
        disabled = disabled or {}
        self.instead_texts = instead or {}
        for quality, text in choices:
            radio = QRadioButton(text, self)
            radio.setAccessibleName(text)
            reason = disabled.get(quality)
            about = reason or " ".join(t for t in (QUALITY_TIPS[quality], self.instead_texts.get(quality)) if t)
            radio.setToolTip(about)
            radio.setAccessibleDescription(about)
            radio.setEnabled(reason is None)
            self.group.addButton(radio)
            self.buttons[quality] = radio
            v.addWidget(radio)
        enabled = [q for q, b in self.buttons.items() if b.isEnabled()]
        start = selected if selected in enabled else (enabled[0] if enabled else None)
        if start is not None:
            self.buttons[start].setChecked(True)
        self.instead = plain_label("", self, name="What comes instead", selectable=False)
        v.addWidget(self.instead)
        self._show_instead()
        self.group.buttonToggled.connect(lambda _button, on: self._show_instead() if on else None)
        self.note = plain_label(note, self, name="About these choices", selectable=False)
        self.note.setVisible(bool(note))
        v.addWidget(self.note)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.ok_button = box.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(action)
        self.ok_button.setAccessibleName(action)
        self.ok_button.setToolTip(f"{action} the form selected above (Enter)")
        self.ok_button.setDefault(True)
        self.ok_button.setEnabled(start is not None)
        cancel = box.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName("Cancel")
        cancel.setToolTip("Close without downloading anything (Esc)")
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        v.addWidget(box)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        checked = self.group.checkedButton()
        if checked is not None:  # the arrows then move between the forms at once
            checked.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    def chosen(self) -> Quality | None:
        return next((q for q, b in self.buttons.items() if b.isChecked()), None)

    def _show_instead(self) -> None:
        text = self.instead_texts.get(self.chosen(), "")
        self.instead.setText(text)  # a screen reader reads a label's text (and the choice's description has it)
        self.instead.setVisible(bool(text))


class QualityAsker(QObject):
    """Asks which form to fetch before a download (when the learner wants to be asked), and
    which form to switch to. `services()` gives the window's current services."""

    def __init__(self, parent: QWidget, services: Callable[[], object]):
        super().__init__(parent)
        self._parent = parent
        self._services = services
        self.dialog: QualityDialog | None = None  # the one open now

    def describe(self, activity_ids: list[str]) -> tuple[str, str]:
        return describe_download(self._services(), activity_ids)

    def download(self, activity_ids: list[str], then: Callable[[list[str], Quality | None], None]) -> None:
        """`then(ids, quality)` now (not asking: quality None, the preferred one), or once the
        learner chose; nothing if they closed the dialog or no activity has a video to choose."""
        services = self._services()
        if services is None or not services.settings.ask_quality:
            then(activity_ids, None)
            return
        by_activity = forms_by_activity(services, activity_ids)
        qualities = [q for q in Quality if any(f.quality is q for forms in by_activity.values() for f in forms)]
        if not qualities:
            then(activity_ids, None)  # no video to choose a form of: the other files come
            return
        if len(activity_ids) == 1:
            forms = by_activity[activity_ids[0]]
            choices = [(f.quality, form_text(f) + (" — on this computer" if f.on_machine else "")) for f in forms]
            heading = "Which form of the video do you want on this computer?"
            selected = next((f.quality for f in forms if f.wanted), preferred_quality(services))
            instead = {}  # one activity: the choices are its own forms
        else:
            choices, instead = [], {}
            titles = services.library.titles(activity_ids)
            for q in qualities:
                plan, other = planned(by_activity, q), len(fetched_instead(by_activity, q))
                choices.append((q, f"{QUALITY_LABELS[q]} · {human_bytes(sum(f.size for f in plan))} "
                                   f"for {len(plan)} videos" + (f" ({other} in another form)" if other else "")))
                instead[q] = instead_text(by_activity, q, titles)
            heading = f"Which form of the videos of these {len(activity_ids)} activities do you want?"
            selected = preferred_quality(services)
        note = maximum_note(services.config.quality_maximum())
        self._open(QualityDialog(self._parent, title="Download", heading=heading, choices=choices,
                                 selected=selected, note=note, instead=instead),
                   lambda quality: then(activity_ids, quality))

    def switch(self, activity_id: str, then: Callable[[str, Quality], None]) -> None:
        """Offer the other forms of this activity's video; `then(id, quality)` once chosen."""
        services = self._services()
        forms = services.downloads.video_forms(activity_id) if services is not None else []
        here = next((f for f in forms if f.on_machine), None)
        if here is None or len(forms) < 2:
            return
        choices = [(f.quality, form_text(f) + (" — on this computer" if f.on_machine else "")) for f in forms]
        preferred = preferred_quality(services)
        selected = preferred if preferred is not here.quality else next(f.quality for f in forms if not f.on_machine)
        note = (f"The {form_name(here)} file stays until the new one has arrived and been checked; then it is "
                "removed. Your progress and watched time carry over.")
        extra = maximum_note(services.config.quality_maximum())
        self._open(QualityDialog(self._parent, title="Change video quality",
                                 heading="Which form of the video do you want instead?", choices=choices,
                                 selected=selected, note=f"{note} {extra}".strip(), action="Download this form",
                                 disabled={here.quality: "This form is on this computer now"}),
                   lambda quality: then(activity_id, quality))

    def _open(self, dialog: QualityDialog, chosen: Callable[[Quality], None]) -> None:
        if self.dialog is not None:
            self.dialog.reject()
        self.dialog = dialog

        def finished(result: int) -> None:
            if self.dialog is dialog:
                self.dialog = None
            quality = dialog.chosen()
            dialog.deleteLater()
            if result == QDialog.DialogCode.Accepted.value and quality is not None:
                chosen(quality)

        dialog.finished.connect(finished)
        dialog.open()
