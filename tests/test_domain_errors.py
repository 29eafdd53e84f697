"""Issue 16 item 17: no bare "math domain error". Model math follows C99 (issue 11's one
operator table: sqrt(-1) is NaN, 1/0 is inf, nothing raises); a kinetic law that is not
finite at the model's initial state is refused in one line naming the reaction, never
reported as "no steady state / may oscillate"."""

from __future__ import annotations

import math

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
    lambda m: sn.analyze(m, trajectories=0, thermo=None, seed=1),
])
def test_kinetic_law_out_of_domain_is_named(call):
    with pytest.raises(sn.SbmlnoiseError) as info:
        call(NEG_SQRT)
    text = str(info.value)
    assert "reaction 'R1'" in text and "not finite" in text and "\n" not in text
    assert "math domain error" not in text and "oscillate" not in text


def test_event_assignment_out_of_domain_is_nan_not_an_exception():
    # k = sqrt(X - 10) with X < 10 assigns NaN (IEEE, as libRoadRunner); k is read by no
    # law, so the trajectory is the exact X(t) = 1 - exp(-t)
    out = sn.simulate_ode(EVENT, [0.0, 2.0])
    assert float(out["X"].iloc[-1]) == pytest.approx(1 - math.exp(-2.0), rel=1e-6)


def test_diagnosis_helpers():
    assert is_domain_error(ValueError("math domain error"))
    assert not is_domain_error(ValueError("something else"))
    assert not is_domain_error(sn.ModelError("math domain error"))
    # defined at the initial state: the candidates are named instead
    net = sn.load("model m; R1: => X; log(5 - X); R2: X => ; X; X = 0; end")
    err = domain_error(net, "simulate_ode: ")
    assert "reaction 'R1' (ln)" in str(err) and str(err).startswith("simulate_ode: ")
