"""How readers turn low-level failures into their own error, with a message for the user.

Every reader raises one documented error (``PlyError``, ``BundleError``, ``FitFileError``…) whatever
its input; inside it, NumPy, zipfile, json and the OS raise whatever they raise. :func:`read_errors_as`
is the one translation: the reader's own error passes, other readers' errors (their messages are
already for the user) and the low-level ones become the reader's, without the low-level traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from core.io.archive import DAMAGED_ARCHIVE


@contextmanager
def read_errors_as(error: type[Exception], what: str, caught: tuple[type[BaseException], ...] = DAMAGED_ARCHIVE,
                   readers: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """Inside the block, ``error`` passes unchanged; ``readers`` (other readers' errors) become
    ``error(f"{what} ({message})")`` and ``caught`` ones ``error(f"{what} ({ExceptionType}: {message})")``."""
    try:
        yield
    except error:
        raise
    except readers as exc:
        raise error(f"{what} ({exc})") from None
    except caught as exc:
        raise error(f"{what} ({type(exc).__name__}: {exc})") from None
