"""Ratio statistics (Fano factor, CV) of a species that is absent are undefined."""

import numpy as np
import pandas as pd

from sbmlnoise.stats import ABSENT, NoiseStatistics


def test_fano_and_cv_are_undefined_for_absent_species():
    ids = ["gone", "negative_zero", "rare", "many"]
    mean = pd.Series([3e-306, -6e-306, 1e-6, 400.0], index=ids)
    # variances at the integrator's resolution over a species that is gone must not give
    # a Fano factor of 1e292
    cov = pd.DataFrame(np.diag([1e-13, 1e-13, 1e-6, 800.0]), index=ids, columns=ids)
    st = NoiseStatistics(mean=mean, covariance=cov, method="lna")
    assert np.isnan(st.fano["gone"]) and np.isnan(st.cv["gone"])
    assert np.isnan(st.fano["negative_zero"]) and np.isnan(st.cv["negative_zero"])
    assert 1e-6 >= ABSENT
    assert st.fano["rare"] == 1.0  # Poisson at 1e-6 molecules: defined
    assert abs(st.cv["rare"] - 1e3) < 1e-9
    assert st.fano["many"] == 2.0
