"""Log-sensitivities of the noise (sbmlnoise.sensitivities) against closed forms and
against central finite differences of the same backend (no sampling, deterministic)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sbmlnoise as sn
from sbmlnoise.studies._sensitivity import noise_control, sensitivities

from conftest import bundled_path

TELEGRAPH = dict(kon=0.5, koff=2.0, ktx=20.0, g=1.0)


def telegraph_closed_form(kon, koff, ktx, g):
    """Mean and Fano factor of the mRNA of the telegraph model (Peccoud & Ycart 1995) and
    their analytic derivatives, derived by hand:

    M = ktx kon / (s g),  F = 1 + ktx koff / (s (s + g)),  s = kon + koff.
    """
    s = kon + koff
    q = s * (s + g)
    dq_ds = 2 * s + g
    mean = ktx * kon / (s * g)
    fano = 1 + ktx * koff / q
    d_fano = {"kon": -ktx * koff * dq_ds / q ** 2,
              "koff": ktx / q - ktx * koff * dq_ds / q ** 2,
              "ktx": koff / q,
              "g": -ktx * koff * s / q ** 2}
    d_mean = {"kon": ktx / (s * g) - ktx * kon / (s ** 2 * g),
              "koff": -ktx * kon / (s ** 2 * g),
              "ktx": kon / (s * g),
              "g": -ktx * kon / (s * g ** 2)}
    return mean, fano, d_mean, d_fano


def _lookup(frame, species, measure):
    rows = frame[(frame["species"] == species) & (frame["measure"] == measure)]
    return dict(zip(rows["parameter"], rows["value"]))


def test_lna_telegraph_fano_sensitivity_matches_closed_form_derivative():
    net = sn.load(bundled_path("telegraph", ".ant"))
    sens = sensitivities(net, "lna")
    mean, fano, d_mean, d_fano = telegraph_closed_form(**TELEGRAPH)
    got_f, got_m = _lookup(sens, "M", "fano"), _lookup(sens, "M", "mean")
    got_c = _lookup(sens, "M", "cv2")
    assert set(got_f) == set(TELEGRAPH)
    for k, value in TELEGRAPH.items():
        exp_f = value * d_fano[k] / fano
        exp_m = value * d_mean[k] / mean
        assert got_f[k] == pytest.approx(exp_f, abs=1e-8, rel=1e-8), k
        assert got_m[k] == pytest.approx(exp_m, abs=1e-8, rel=1e-8), k
        # CV^2 = F / M
        assert got_c[k] == pytest.approx(exp_f - exp_m, abs=1e-8, rel=1e-8), k


def test_fsp_telegraph_matches_closed_form_derivative():
    net = sn.load(bundled_path("telegraph", ".ant"))
    sens = sensitivities(net, "fsp", fsp_tol=1e-12)
    assert sens.attrs["settings"]["error_bound"] <= 1e-12
    mean, fano, d_mean, d_fano = telegraph_closed_form(**TELEGRAPH)
    got = _lookup(sens, "M", "fano")
    for k, value in TELEGRAPH.items():
        # the projected law differs from the CME by ~ the error bound
        assert got[k] == pytest.approx(value * d_fano[k] / fano, abs=1e-8), k


def test_fsp_result_is_reused():
    net = sn.load(bundled_path("telegraph", ".ant"))
    fr = sn.fsp(net, tol=1e-10)
    a = sensitivities(net, "fsp", fsp_result=fr)
    assert a.attrs["settings"]["n_states"] == fr.n_states
    b = sensitivities(net, "fsp", fsp_tol=1e-10)
    np.testing.assert_allclose(a["value"], b["value"], rtol=1e-9)


def test_birth_death_log_sensitivities_are_exact():
    net = sn.load("model bd; => X; k; X => ; g*X; k = 10; g = 2; X = 0; end")
    for method in ("lna", "fsp"):
        sens = sensitivities(net, method).set_index(["parameter", "measure"])["value"]
        assert sens[("k", "mean")] == pytest.approx(1.0, abs=1e-9)
        assert sens[("g", "mean")] == pytest.approx(-1.0, abs=1e-9)
        assert sens[("k", "fano")] == pytest.approx(0.0, abs=1e-9)  # Poisson: F = 1
        assert sens[("k", "cv2")] == pytest.approx(-1.0, abs=1e-9)  # CV^2 = g / k


def _central_difference(func, net, pid, rel=1e-4):
    k = float(dict(zip(net.parameter_ids, net.parameter_values))[pid])
    h = rel * k
    up = func(net.with_parameters(**{pid: k + h}))
    down = func(net.with_parameters(**{pid: k - h}))
    return (up - down) / (2 * h)


@pytest.mark.parametrize("model", ["dimerisation", "autoregulation"])
def test_lna_matches_finite_differences_on_nonlinear_models(model):
    """Second-derivative terms (d2v/dx2, d2v/dx dk) only matter for nonlinear laws."""
    net = sn.load(bundled_path(model, ".ant"))
    sens = sensitivities(net, "lna")

    def moments(n):
        st = sn.lna(n, emre=False)
        return np.concatenate([st.mean.to_numpy(), st.variance.to_numpy()])

    for pid in sorted(set(sens["parameter"])):
        fd = _central_difference(moments, net, pid)
        rows = sens[sens["parameter"] == pid].set_index(["species", "measure"])["derivative"]
        for i, s in enumerate(net.species_ids):
            scale_m = abs(fd[i]) + 1e-6
            scale_v = abs(fd[net.n_species + i]) + 1e-6
            assert abs(rows[(s, "mean")] - fd[i]) < 1e-5 * scale_m + 1e-7, (pid, s)
            assert abs(rows[(s, "variance")] - fd[net.n_species + i]) < 1e-5 * scale_v + 1e-7, \
                (pid, s)


def test_fsp_matches_finite_differences_of_the_same_projection():
    """Dimerisation (nonlinear, two species): the derivative of the projected stationary law
    against central differences of sn.fsp on the same fixed projection (bounds pinned)."""
    net = sn.load(bundled_path("dimerisation", ".ant"))
    sens = sensitivities(net, "fsp", fsp_tol=1e-8)
    caps = sens.attrs["settings"]["caps"]
    bounds = {s: (0, int(c)) for s, c in caps.items()}

    def moments(n):
        st = sn.fsp(n, tol=1.0, bounds=bounds).stats
        return np.concatenate([st.mean.to_numpy(), st.variance.to_numpy()])

    for pid in ("kp", "gp", "k1", "k2"):
        fd = _central_difference(moments, net, pid)
        rows = sens[sens["parameter"] == pid].set_index(["species", "measure"])["derivative"]
        for i, s in enumerate(net.species_ids):
            assert rows[(s, "mean")] == pytest.approx(fd[i], rel=1e-5, abs=1e-8), (pid, s)
            assert rows[(s, "variance")] == pytest.approx(fd[net.n_species + i], rel=1e-5,
                                                          abs=1e-8), (pid, s)


def test_conservation_law_model():
    """A <-> B with a conserved total (binomial law): mean_A = T kb/(kf+kb); Var = T pq."""
    net = sn.load("model c; A => B; kf*A; B => A; kb*B; kf = 2; kb = 3; A = 20; B = 0; end")
    for method in ("lna", "fsp"):
        sens = sensitivities(net, method, species="A")
        got = _lookup(sens, "A", "mean")
        # ln mean_A = ln T + ln kb - ln(kf + kb)
        assert got["kf"] == pytest.approx(-2 / 5, abs=1e-9)
        assert got["kb"] == pytest.approx(1 - 3 / 5, abs=1e-9)
        fano = _lookup(sens, "A", "fano")
        # Fano_A = q = kf/(kf+kb): d ln q / d ln kf = 1 - kf/(kf+kb)
        assert fano["kf"] == pytest.approx(1 - 2 / 5, abs=1e-9)


def test_noise_control_ranks_by_magnitude():
    net = sn.load(bundled_path("telegraph", ".ant"))
    table = noise_control(sensitivities(net, "lna", species="M"), "cv2", species="M")
    assert list(table["rank"]) == [1, 2, 3, 4]
    assert np.all(np.diff(np.abs(table["value"].to_numpy())) <= 0)
    assert table.iloc[0]["parameter"] == "kon"
    assert "lowers cv2" in table.iloc[0]["effect"]


def test_bad_input():
    net = sn.load(bundled_path("telegraph", ".ant"))
    with pytest.raises(KeyError, match="nope"):
        sensitivities(net, parameters=["nope"])
    with pytest.raises(KeyError, match="Q"):
        sensitivities(net, species="Q")
    with pytest.raises(ValueError, match="method"):
        sensitivities(net, method="ssa")
    with pytest.raises(sn.NoSteadyState):
        sensitivities(sn.load(bundled_path("repressilator", ".ant")), "lna")


def test_public_name():
    assert sn.sensitivities is sensitivities
    assert isinstance(sn.noise_control(sensitivities(sn.load(bundled_path("birth_death", ".ant"))),
                                       "fano"), pd.DataFrame)


def test_local_and_compartment_parameters_against_finite_differences():
    """Concentration species in a compartment of size 2, a Michaelis-Menten law and a
    reaction-local parameter shadowing a global one: every default parameter (global and
    local) plus the compartment size, LNA vs central differences (rel. 1e-5)."""
    import libsbml
    text = sn.antimony_to_sbml(
        "model m; compartment c = 2; species A in c, B in c; R1: => A; k0*c; "
        "R2: A => B; k1*A*c/(Km + A); R3: B => ; g*B*c; k0 = 2; k1 = 3; Km = 2; g = 0.5; "
        "A = 0; B = 0; end")
    doc = libsbml.readSBMLFromString(text)
    local = doc.getModel().getReaction("R3").getKineticLaw().createLocalParameter()
    local.setId("g")
    local.setValue(0.7)
    net = sn.load(libsbml.writeSBMLToString(doc))
    sens = sensitivities(net, "lna", parameters=["k0", "k1", "Km", "R3.g", "c"])
    assert set(sensitivities(net, "lna")["parameter"]) == {"k0", "k1", "Km", "R3.g"}

    def moments(n):
        st = sn.lna(n, emre=False)
        return np.concatenate([st.mean.to_numpy(), st.variance.to_numpy()])

    for pid in ("k0", "k1", "Km", "R3.g", "c"):
        fd = _central_difference(moments, net, pid)
        rows = sens[sens["parameter"] == pid].set_index(["species", "measure"])["derivative"]
        ours = np.array([rows[(s, m)] for m in ("mean", "variance") for s in net.species_ids])
        np.testing.assert_allclose(ours, fd, rtol=1e-5, atol=1e-7 * np.max(np.abs(fd)),
                                   err_msg=pid)
    # the same parameters through the FSP (pinned projection for the differences)
    sens = sensitivities(net, "fsp", parameters=["k0", "k1", "Km", "R3.g", "c"], fsp_tol=1e-8)
    bounds = {s: (0, int(v)) for s, v in sens.attrs["settings"]["caps"].items()}

    def fsp_moments(n):
        st = sn.fsp(n, tol=1.0, bounds=bounds).stats
        return np.concatenate([st.mean.to_numpy(), st.variance.to_numpy()])

    for pid in ("k0", "k1", "Km", "R3.g", "c"):
        fd = _central_difference(fsp_moments, net, pid)
        rows = sens[sens["parameter"] == pid].set_index(["species", "measure"])["derivative"]
        ours = np.array([rows[(s, m)] for m in ("mean", "variance") for s in net.species_ids])
        np.testing.assert_allclose(ours, fd, rtol=1e-5, atol=1e-7 * np.max(np.abs(fd)),
                                   err_msg=f"fsp {pid}")
