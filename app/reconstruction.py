"""The window's photo → avatar sequence: detect the person (or let the user choose one of several),
reconstruct, refit with the fit editor's pins and locks, rebuild the avatar from a fit. Each step is
a background job (:mod:`app.tasks`) submitted with the callback that takes its result; the results
go into the document (:mod:`app.document`), which the views follow."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.main_window import MainWindow
    from app.tasks import Detected, Reconstructed
    from core.avatar.avatar import Avatar
    from core.fit.result import BodyFit
    from core.io.images import Photo


class Reconstruction:
    """Runs the reconstruction jobs of ``window`` and shows their outcome in it."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.undetected_photo: Photo | None = None  # a group photo, before a person was chosen
        self.detected = None  # (photo, observation) being reconstructed

    def reconstruct_photo(self, path: str | Path | None, box: tuple | None = None, photo=None) -> None:
        """Detect, fit and reconstruct the person of the photo at ``path`` (or ``photo`` cropped to
        ``box``) in the background; a running job is cancelled first."""
        from app.tasks import detect_job

        window = self.window
        name = Path(path).name if path is not None else "the chosen person"
        window.statusBar().showMessage(f"Reconstructing {name}…")
        window.jobs.submit("detect", detect_job(path, window.preferences, box, photo), self._detected)

    def warm_up(self) -> None:
        """Load the body model, detector, network and CPU renderer in the background now, so that the first
        photo dropped is reconstructed sooner (a photo dropped meanwhile queues behind it)."""
        from app.tasks import warm_up_job

        self.window.jobs.submit("warm-up", warm_up_job(self.window.preferences))

    def choose_person(self, box) -> None:
        """The user picked one person of a group photo."""
        if self.undetected_photo is not None:
            self.reconstruct_photo(None, tuple(int(v) for v in box), self.undetected_photo)

    def refit(self) -> None:
        """Refit the body holding the fit editor's pins and locks (background job)."""
        from app.tasks import refit_job

        window, doc = self.window, self.window.document
        if doc.fit is None or doc.photo is None or doc.observation is None:
            window.show_error("Nothing to refit", "Reconstruct a photo first: the fit editor needs its photo.")
            return
        window.jobs.submit("refit", refit_job(doc.photo, doc.observation, doc.fit, doc.pins, doc.locked,
                                              window.preferences), self._refitted)

    def update_avatar(self) -> None:
        """Rebuild the avatar from the current fit (background job)."""
        from app.tasks import rebuild_job

        window, doc = self.window, self.window.document
        if doc.fit is None or doc.photo is None or doc.observation is None:
            window.show_error("Nothing to update", "Reconstruct a photo first.")
            return
        window.jobs.submit("update", rebuild_job(doc.photo, doc.observation, doc.fit, window.preferences),
                           self._updated)

    def stopped(self) -> None:
        """Detection or reconstruction failed or was cancelled: the side panel shows the document again."""
        if self.undetected_photo is None:
            self.window.fit_editor.restore()

    def _detected(self, result: Detected) -> None:
        from app.tasks import reconstruct_job

        window = self.window
        if result.boxes:
            self.undetected_photo = result.photo
            window.fit_editor.show_people(result.photo.rgb, result.boxes)
            window.show_error("Several people", f"{result.message}\nClick the person to reconstruct in the "
                              "Photo and fit panel.")
            return
        self.undetected_photo = None
        self.detected = (result.photo, result.observation)
        window.fit_editor.show_detection(result.photo, result.observation)
        if result.observation.half_body:
            window.statusBar().showMessage("Only the upper body is visible: the legs will be guessed.", 8000)
        window.jobs.submit("reconstruct", reconstruct_job(result.photo, result.observation, window.preferences),
                           self._reconstructed)

    def _reconstructed(self, result: Reconstructed) -> None:
        window = self.window
        photo, observation = self.detected
        window.document.set_reconstruction(result.body, photo, observation, result.fit, result.avatar)
        window.current_path = None
        window.update_title()
        window.statusBar().showMessage(f"Avatar ready in {result.seconds:.1f} s", 8000)

    def _refitted(self, fit: BodyFit) -> None:
        self.window.document.set_fit(fit)
        self.window.statusBar().showMessage(f"Refitted: keypoint error {fit.mean_residual:.1f} px. Press "
                                            "Update avatar to rebuild the avatar from this fit.", 8000)

    def _updated(self, avatar: Avatar) -> None:
        self.window.document.replace_avatar(avatar)
        self.window.statusBar().showMessage("Avatar updated from the new fit", 5000)
