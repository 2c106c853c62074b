"""What damaged ZIP / ``.npz`` data can raise while Python's zipfile and NumPy read it, so that every
archive reader turns all of it into its own error.

Found by fuzzing: besides ``BadZipFile``, a damaged archive raises ``zlib.error`` (bad deflate data),
``NotImplementedError`` (an unknown zip version or compression), ``RuntimeError`` (a member flagged
as encrypted) and ``EOFError``; a damaged ``.npy`` header raises ``tokenize.TokenError`` or
``SyntaxError`` (NumPy parses it as a Python literal).
"""

from __future__ import annotations

import tokenize
import zipfile
import zlib

DAMAGED_ARCHIVE: tuple[type[BaseException], ...] = (
    OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError, tokenize.TokenError,
    SyntaxError, OverflowError, MemoryError, RuntimeError,
)
