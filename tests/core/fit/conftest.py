import numpy as np
import pytest


@pytest.fixture(scope="session")
def synthetic_person(anny_body):
    from core.train.synthetic import render_person

    return render_person(anny_body, np.random.default_rng(7), size=384, splats=30000)
