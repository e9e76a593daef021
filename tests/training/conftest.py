"""Fixtures for the training tests."""

import pytest
from training_helpers import make_blobs, make_three_classes


@pytest.fixture
def blobs():
    return make_blobs()


@pytest.fixture
def three_classes():
    return make_three_classes()
