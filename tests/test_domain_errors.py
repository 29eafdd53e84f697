"""Issue 16 item 17: no bare "math domain error". The square root of a negative number is
undefined (Python's math raises ValueError('math domain error')); every public entry point
turns it into one ModelError line naming the kinetic law, rule or event at fault."""

from __future__ import annotations

import pytest

import sbmlnoise as sn
from sbmlnoise._domain import domain_error, is_domain_error

NEG_SQRT = "model m; R1: => X; sqrt(k); R2: X => ; X; k = -1; X = 0; end"
EVENT = ("model m; R1: => X; 1; R2: X => ; X; X = 0; k = 1; "
         "E1: at time > 1: k = sqrt(X - 10); end")


@pytest.mark.parametrize("call", [
    lambda m: sn.simulate_ode(m, [0.0, 1.0]),
    lambda m: sn.lna(m),
    lambda m: sn.analyze(m, method="lna", trajectories=0, thermo=None),
])
def test_kinetic_law_out_of_domain_is_named(call):
    with pytest.raises(sn.ModelError) as info:
        call(NEG_SQRT)
    text = str(info.value)
    assert "reaction 'R1'" in text and "sqrt" in text and "\n" not in text
    assert text != "math domain error"


def test_event_assignment_out_of_domain_is_named():
    with pytest.raises(sn.ModelError, match=r"assignment to 'k' of event 'E1'.*sqrt"):
        sn.simulate_ode(EVENT, [0.0, 2.0])


def test_auto_analysis_records_the_named_reason():
    with pytest.raises(sn.UnsupportedFeature) as info:
        sn.analyze(NEG_SQRT, trajectories=0, thermo=None, seed=1)
    assert "math domain error" not in str(info.value)


def test_diagnosis_helpers():
    assert is_domain_error(ValueError("math domain error"))
    assert not is_domain_error(ValueError("something else"))
    assert not is_domain_error(sn.ModelError("math domain error"))
    # defined at the initial state: the candidates are named instead
    net = sn.load("model m; R1: => X; log(5 - X); R2: X => ; X; X = 0; end")
    err = domain_error(net, "simulate_ode: ")
    assert "reaction 'R1' (ln)" in str(err) and str(err).startswith("simulate_ode: ")
