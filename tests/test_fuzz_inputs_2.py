"""The input fuzzer's second half: statistics and official results (see test_fuzz_inputs.py,
whose strategies, oracle and settings these tests share)."""

from __future__ import annotations

import pytest
from hypothesis import given
from test_fuzz_inputs import FUZZ, _case, _run


@pytest.mark.slow
@FUZZ
@given(case=_case("statistics"))
def test_fuzz_statistics(case):
    _run("statistics", *case)


@pytest.mark.slow
@FUZZ
@given(case=_case("official_results"))
def test_fuzz_official_results(case):
    _run("official_results", *case)
