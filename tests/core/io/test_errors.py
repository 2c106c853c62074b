"""Readers' error translation: their own error passes, others' become theirs, without the traceback."""

import pytest

from core.io.errors import read_errors_as


class ReaderError(ValueError):
    pass


class OtherReaderError(ValueError):
    pass


def test_own_errors_pass_and_the_rest_become_the_readers():
    with pytest.raises(ReaderError, match="^exact$"):
        with read_errors_as(ReaderError, "x.bin is damaged"):
            raise ReaderError("exact")
    with pytest.raises(ReaderError, match=r"^x.bin is damaged \(KeyError: 'pose'\)$") as info:
        with read_errors_as(ReaderError, "x.bin is damaged", (KeyError,)):
            {}["pose"]
    assert info.value.__cause__ is None and info.value.__suppress_context__
    with pytest.raises(ReaderError, match=r"^x.bin is damaged \(inner message\)$"):
        with read_errors_as(ReaderError, "x.bin is damaged", (), readers=(OtherReaderError,)):
            raise OtherReaderError("inner message")
    with pytest.raises(ZeroDivisionError):  # not a reading failure: a bug, and it surfaces as one
        with read_errors_as(ReaderError, "x.bin is damaged", (KeyError,)):
            raise ZeroDivisionError("a bug")
