"""Behaviour unchanged across refactorings: the theory on small fixed tasks and the cached results read through
the loaders equal the stored reference (``tests/reference_values.py`` computes them and explains how to
regenerate the file after an intended change). The tolerance leaves room only for the last bits that a
different BLAS summation order can change."""

import json

import numpy as np
import pytest
from reference_values import PATH, compute

REFERENCE = json.loads(PATH.read_text())


@pytest.fixture(scope="module")
def current():
    return compute()


def test_the_same_quantities_are_computed(current):
    assert sorted(current) == sorted(REFERENCE)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_values_equal_the_reference(current, name):
    np.testing.assert_allclose(current[name], REFERENCE[name], rtol=1e-10, atol=1e-13, err_msg=name)
