"""The stationary LNA on the decaying modes: species held at zero by a vanishing
linearisation are not an obstacle; a neutral direction driven by noise is refused."""

import numpy as np
import pytest

import sbmlnoise as sn
from sbmlnoise.errors import NoSteadyState

# X: birth-death (Poisson(k/g) exactly). Y starts at 0 and is never produced; its only
# reaction is Y -> 0 at d*Y^2, whose linearisation at Y = 0 vanishes: a zero
# eigenvalue of the Jacobian with no noise (all fluxes touching Y are zero). Exactly:
# Y = 0 for ever, X independent of Y.
QUIET = """
model quiet
  => X; k
  X => ; g*X
  Y => ; d*Y*Y
  k = 30; g = 2; d = 0.5
  X = 0; Y = 0
end
"""

# The Moran-like neutral drift: X + Y -> 2Y and X + Y -> 2X at equal rates. X + Y = N is
# conserved, every composition is a fixed point (reduced Jacobian 0) and the reaction noise
# drives the composition: no stationary law (the stochastic process is absorbed at 0 or N).
DRIFT = """
model drift
  X + Y => 2 Y; k*X*Y
  X + Y => 2 X; k*X*Y
  k = 0.01; X = 50; Y = 50
end
"""


def test_species_held_at_zero_do_not_block_the_stationary_lna():
    st = sn.lna(sn.load(QUIET))
    assert st.mean["X"] == pytest.approx(15.0, rel=1e-10)
    assert st.variance["X"] == pytest.approx(15.0, rel=1e-10)  # Poisson(k/g)
    assert st.mean["Y"] == 0.0 and st.variance["Y"] == 0.0
    assert st.covariance.loc["X", "Y"] == 0.0
    assert st.settings["marginal_modes"] == 1
    assert any("do not decay" in w for w in st.extra["warnings"])
    # the temporal functions live on the decaying modes: ACF and PSD of X are exact
    acf = st.autocorrelation("X", [0.0, 0.5])  # the autocovariance, counts^2
    assert np.allclose(acf.to_numpy(), 15.0 * np.exp(-2.0 * np.array([0.0, 0.5])), rtol=1e-10)
    assert float(st.psd("X", [0.0]).iloc[0]) == pytest.approx(2 * 30 / 2 ** 2, rel=1e-10)


def test_a_neutral_direction_driven_by_noise_is_refused():
    with pytest.raises(NoSteadyState, match="drives"):
        sn.lna(sn.load(DRIFT))
