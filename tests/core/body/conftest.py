import pytest


@pytest.fixture(scope="session")
def anny_body():
    from core.body.anny_body import AnnyBody

    return AnnyBody()
