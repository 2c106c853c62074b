"""The main window's menus and their actions (what each one does lives in the window and its
controllers)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence

from app.export_menu import EXPORTS
from app.preferences import recent_files

if TYPE_CHECKING:
    from app.main_window import MainWindow


def build_menus(window: MainWindow) -> None:
    """The menu bar of ``window``: File, Edit, View, Animation, Export, Help; keeps the actions that
    other code checks or triggers as attributes of the window."""
    file_menu = window.menuBar().addMenu("&File")
    window.open_action = _action(window, file_menu, "&Open…", window.open_dialog, QKeySequence.StandardKey.Open)
    window.recent_menu = file_menu.addMenu("Open &Recent")
    fill_recent_menu(window)
    window.save_action = _action(window, file_menu, "&Save Avatar", window.save_avatar,
                                 QKeySequence.StandardKey.Save)
    _action(window, file_menu, "Save Avatar &As…", window.save_avatar_dialog, QKeySequence.StandardKey.SaveAs)
    window.screenshot_action = _action(window, file_menu, "Save Scree&nshot…", window.screenshot_dialog,
                                       "Ctrl+Shift+P")
    file_menu.addSeparator()
    _action(window, file_menu, "&Preferences…", window.preferences_dialog, QKeySequence.StandardKey.Preferences)
    file_menu.addSeparator()
    _action(window, file_menu, "&Quit", window.close, QKeySequence.StandardKey.Quit)
    edit_menu = window.menuBar().addMenu("&Edit")
    window.undo_action = window.document.undo_stack.createUndoAction(window, "&Undo")
    window.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
    window.redo_action = window.document.undo_stack.createRedoAction(window, "&Redo")
    window.redo_action.setShortcut(QKeySequence.StandardKey.Redo)
    edit_menu.addAction(window.undo_action)
    edit_menu.addAction(window.redo_action)
    view_menu = window.menuBar().addMenu("&View")
    _action(window, view_menu, "&Frame Object", window.viewport.frame_object, "F")
    _action(window, view_menu, "&Reset View", window.viewport.reset_view, "Home")
    _action(window, view_menu, "&Background Colour…", window.background_dialog)
    view_menu.addSeparator()
    window.guide_actions = {}
    for name, label, key in (("grid", "Floor &Grid", "G"), ("skeleton", "S&keleton", "K"),
                             ("mesh", "Body &Mesh (instead of the Gaussians)", "M")):
        action = _action(window, view_menu, label, lambda on, n=name: window.show_guide(n, on), key)
        action.setCheckable(True)
        window.guide_actions[name] = action
    animation_menu = window.menuBar().addMenu("&Animation")
    window.play_action = _action(window, animation_menu, "&Play / Pause", window.toggle_playback, "Space")
    _action(window, animation_menu, "&Restart", window.restart_playback, "Ctrl+R")
    animation_menu.addSeparator()
    window.import_video_action = _action(window, animation_menu, "Import Motion from &Video…",
                                         window.import_video_dialog, "Ctrl+Shift+V")
    export_menu = window.menuBar().addMenu("E&xport")
    window.export_actions = {kind.fmt: _action(window, export_menu, kind.label,
                                               lambda _=False, f=kind.fmt: window.export_dialog(f))
                             for kind in EXPORTS}
    help_menu = window.menuBar().addMenu("&Help")
    _action(window, help_menu, "&About Avatarium", window.about_dialog)


def _action(window: MainWindow, menu, text: str, slot, shortcut=None) -> QAction:
    """A menu item of ``window`` calling ``slot``, with an optional keyboard shortcut."""
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(slot)
    menu.addAction(action)
    return action


def fill_recent_menu(window: MainWindow) -> None:
    """The File → Open Recent items, newest first."""
    window.recent_menu.clear()
    items = recent_files(window.settings)
    for item in items:
        action = window.recent_menu.addAction(Path(item).name)
        action.setToolTip(item)
        action.triggered.connect(lambda _=False, p=item: window.open_path(p))
    window.recent_menu.setEnabled(bool(items))
