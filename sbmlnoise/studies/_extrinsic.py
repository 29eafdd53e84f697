"""Extrinsic noise from parameter variability: the law of total variance.

Cells differ in their parameters ``k`` (enzyme levels, cell size, ...). If ``k`` follows a
distribution ``pi(k)`` across cells and, given ``k``, a cell's copy number ``n`` follows the
stationary law of the model, then (law of total variance)

    E[n]   = E_k[ mu(k) ],
    Var[n] = E_k[ sigma^2(k) ] + Var_k[ mu(k) ]
           =   intrinsic       +   extrinsic,

with ``mu(k)``, ``sigma^2(k)`` the conditional (stationary) mean and variance given by a
noise backend. Dividing by ``E[n]^2`` gives the familiar ``CV^2_total = CV^2_int +
CV^2_ext`` (Swain, Elowitz & Siggia 2002, doi:10.1073/pnas.162041399; Hilfinger & Paulsson
2011, doi:10.1073/pnas.1018832108).

The outer expectation over ``k`` is computed either

* by **Gauss quadrature** (``quadrature=n`` nodes per parameter, tensor product for two
  parameters): the Gauss rule of the distribution's own weight (Hermite for ``norm`` and
  ``lognorm``, generalised Laguerre for ``gamma``/``expon``, Jacobi for ``beta``, Legendre
  for ``uniform``), exact when ``mu`` and ``sigma^2`` are polynomials of degree
  ``< n`` in the underlying variable (e.g. ``k/g`` for birth-death); other continuous
  distributions use Gauss-Legendre in the quantile ``u = F(k)`` (approximate; converges as
  ``n`` grows), discrete ones the exact sum over their support (mass ``>= 1 - 1e-12``);
* or by **sampling** (``samples=N`` draws, seed ``seed``): sample means with standard
  errors (``*_stderr`` columns; for the extrinsic variance the asymptotic standard error
  of a sample variance). With ``method="ssa"`` every sample's mean carries its own
  batch-means error; its average square is subtracted from the extrinsic variance
  (otherwise estimation noise would count as extrinsic noise).

Parameter distributions can also come from the model: SBML Level 3 ``distrib`` package
``<uncertainty>`` elements on global parameters with an ``uncertParameter`` of type
``distribution`` (:func:`distributions_from_sbml`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from ..errors import ModelError, SimulationError, UnsupportedFeature
from ..network import ReactionNetwork
from ..importer._tellurium import accepts_model

__all__ = ["extrinsic_noise", "distributions_from_sbml", "gauss_rule"]

_DISTRIB_URL = "http://www.sbml.org/sbml/symbols/distrib/"


# =========================================================================== front door
@accepts_model
def extrinsic_noise(net: ReactionNetwork, distributions: Mapping | None = None,
                    method: str = "lna", *, samples: int | None = None,
                    quadrature: int | None = None, seed: int | None = None,
                    species: Sequence[str] | str | None = None, workers: int | None = None,
                    client=None, progress: bool | None = None, fsp_tol: float = 1e-8,
                    max_states: int = 200_000, t_end: float | None = None,
                    burn_in: float | None = None) -> pd.DataFrame:
    """Decompose the stationary noise into intrinsic and extrinsic parts.

    Parameters
    ----------
    net : ReactionNetwork, str or os.PathLike
        A network, or a path / SBML / Antimony text / COMBINE archive to load.
    distributions : mapping of str -> frozen scipy.stats distribution, optional
        Parameter id -> its distribution across cells (independent parameters), e.g.
        ``{"k": scipy.stats.gamma(4, scale=2.5)}``. Default: the distributions the model
        declares with the SBML ``distrib`` package (:func:`distributions_from_sbml`).
    method : {"lna", "fsp", "ssa"}
        Backend for the conditional statistics given the parameters.
    samples : int, optional
        Monte Carlo: this many parameter draws. Default for ``method="ssa"``: 200.
    quadrature : int, optional
        Gauss quadrature with this many nodes per parameter (one or two parameters; LNA and
        FSP only). Default for the LNA and FSP: 20 nodes when ``samples`` is not given.
    seed : int, optional
        Seeds the parameter draws and the SSA runs (reproducible for any ``workers``).
    species : str or sequence of str, optional
    workers, client, progress
        Parallel evaluation as in :func:`sbmlnoise.scan`.
    fsp_tol, max_states, t_end, burn_in
        Backend settings (see :func:`sbmlnoise.scan`).

    Returns
    -------
    pandas.DataFrame
        Index ``species``; columns ``mean`` (counts), ``variance_total``,
        ``variance_intrinsic`` (``E[Var(n|k)]``), ``variance_extrinsic``
        (``Var(E[n|k])``, counts^2), ``fano_total``, ``cv2_total``, ``cv2_intrinsic``,
        ``cv2_extrinsic``; with sampling also ``mean_stderr``,
        ``variance_total_stderr``, ``variance_intrinsic_stderr``,
        ``variance_extrinsic_stderr``. ``attrs``: ``method``, ``mode``
        (``"quadrature"``/``"sampling"``), ``nodes`` or ``samples``, ``distributions``
        (their descriptions).

    Raises
    ------
    ValueError
        No distributions given or declared; both ``samples`` and ``quadrature``;
        quadrature with the SSA or with more than two parameters.
    SimulationError
        The backend failed at a node / sample (the message names the parameter values).

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> from scipy import stats
    >>> net = sn.load("model bd; => X; k; X => ; g*X; k = 10; g = 1; X = 0; end")
    >>> d = sn.extrinsic_noise(net, {"k": stats.gamma(4, scale=2.5)}, quadrature=4)
    >>> round(float(d.loc["X", "variance_total"]), 9)  # E[k/g] + Var[k/g] = 10 + 25
    35.0
    """
    from ._scan import _run, _species, as_network

    net = as_network(net)
    method = str(method).lower()
    if method not in ("lna", "fsp", "ssa"):
        raise ValueError(f"unknown method '{method}'; choose lna, fsp or ssa")
    dists = dict(distributions) if distributions is not None else distributions_from_sbml(net)
    if not dists:
        raise ValueError(f"no parameter distributions: pass {{parameter: scipy.stats "
                         f"distribution}} or declare them in model '{net.id}' with the SBML "
                         "distrib package")
    for pid, dist in dists.items():
        if pid not in net.parameter_ids:
            raise KeyError(f"no parameter '{pid}' in model '{net.id}'")
        if not hasattr(dist, "rvs") or not hasattr(dist, "ppf"):
            raise TypeError(f"the distribution of '{pid}' must be a frozen scipy.stats "
                            "distribution, e.g. scipy.stats.gamma(4, scale=2.5)")
    if samples is not None and quadrature is not None:
        raise ValueError("give either samples= or quadrature=, not both")
    if samples is None and quadrature is None:
        if method == "ssa" or len(dists) > 2:
            samples = 200
        else:
            quadrature = 20
    wanted = _species(net, species)
    names = list(dists)
    points, weights, mode = _nodes(dists, names, method, samples, quadrature, seed)
    options = {"method": method, "species": wanted, "fsp_tol": float(fsp_tol),
               "max_states": int(max_states), "t_end": t_end, "burn_in": burn_in,
               "relaxation_times": 2000.0}
    seeds = np.random.SeedSequence(seed).spawn(len(points))
    tasks = [(net.with_parameters(**dict(zip(names, map(float, pt)))), options,
              int(seeds[i].generate_state(1)[0])) for i, pt in enumerate(points)]
    results = _run(tasks, workers, client, progress if progress is not None else False,
                   label=f"extrinsic {net.id}")
    for pt, res in zip(points, results):
        if res["error"]:
            at = ", ".join(f"{p}={v:.6g}" for p, v in zip(names, pt))
            raise SimulationError(f"extrinsic_noise: {method} failed at {at}: {res['error']}")
    frame = _combine(results, wanted, weights, method)
    frame.attrs.update(method=method, mode=mode, distributions={p: _describe(d) for p, d
                                                                in dists.items()})
    frame.attrs["nodes" if mode == "quadrature" else "samples"] = len(points)
    return frame


def _nodes(dists: dict, names: list[str], method: str, samples: int | None,
           quadrature: int | None, seed) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Parameter points (n_points, n_params), weights (None when sampled) and the mode."""
    if quadrature is not None:
        if method == "ssa":
            raise ValueError("quadrature needs exact conditional moments; use method='lna' "
                             "or 'fsp', or samples= with the SSA")
        if len(names) > 2:
            raise ValueError("quadrature is for one or two parameters; use samples=")
        points, weights = _tensor_rule([dists[p] for p in names], int(quadrature))
        return points, weights, "quadrature"
    if samples is None or int(samples) < 2:
        raise ValueError("samples must be >= 2")
    rng = np.random.default_rng(seed)
    points = np.column_stack([np.asarray(dists[p].rvs(size=int(samples), random_state=rng),
                                         dtype=float) for p in names])
    return points, None, "sampling"


def _combine(results, wanted, weights, method) -> pd.DataFrame:
    mu = np.array([[r["rows"][j]["mean"] for j in range(len(wanted))] for r in results])
    var = np.array([[r["rows"][j]["variance"] for j in range(len(wanted))] for r in results])
    out: dict = {}
    if weights is not None:
        mean = weights @ mu
        intr = weights @ var
        extr = weights @ (mu - mean) ** 2
    else:
        n = mu.shape[0]
        mean = mu.mean(axis=0)
        intr = var.mean(axis=0)
        extr = mu.var(axis=0, ddof=1)
        noise = 0.0
        if method == "ssa":
            se = np.array([[r["rows"][j].get("mean_stderr", 0.0) for j in range(len(wanted))]
                           for r in results])
            noise = (se ** 2).mean(axis=0)
            extr = np.maximum(extr - noise, 0.0)
        dev = mu - mean
        m4 = (dev ** 4).mean(axis=0)
        s2 = mu.var(axis=0, ddof=1)
        out["mean_stderr"] = mu.std(axis=0, ddof=1) / math.sqrt(n)
        out["variance_intrinsic_stderr"] = var.std(axis=0, ddof=1) / math.sqrt(n)
        out["variance_extrinsic_stderr"] = np.sqrt(np.maximum(
            m4 - s2 ** 2 * (n - 3) / (n - 1), 0.0) / n)
        out["variance_total_stderr"] = (var + dev ** 2).std(axis=0, ddof=1) / math.sqrt(n)
    total = intr + extr
    with np.errstate(divide="ignore", invalid="ignore"):
        frame = pd.DataFrame({"mean": mean, "variance_total": total,
                              "variance_intrinsic": intr, "variance_extrinsic": extr,
                              "fano_total": total / mean, "cv2_total": total / mean ** 2,
                              "cv2_intrinsic": intr / mean ** 2,
                              "cv2_extrinsic": extr / mean ** 2},
                             index=pd.Index(wanted, name="species"))
    for key, value in out.items():
        frame[key] = value
    return frame


# =========================================================================== quadrature
def _describe(dist) -> str:
    try:
        shapes, loc, scale = dist.dist._parse_args(*dist.args, **dist.kwds)
        args = ", ".join([f"{s:g}" for s in shapes] + [f"loc={loc:g}", f"scale={scale:g}"])
        return f"{dist.dist.name}({args})"
    except (AttributeError, TypeError):
        return repr(dist)


def gauss_rule(dist, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights (summing to 1) of an ``n``-point Gauss rule for ``E[f(K)]``,
    ``K ~ dist`` (a frozen scipy.stats distribution).

    Exact for polynomials of degree ``< 2n`` in ``K`` for ``norm``, ``gamma``,
    ``expon``, ``beta``, ``uniform``, and in ``log K`` for ``lognorm``. Other continuous
    distributions: Gauss-Legendre in the quantile (approximate). Discrete distributions:
    their support with mass ``>= 1 - 1e-12`` (exact up to that mass; ``n`` is ignored).

    >>> from scipy import stats
    >>> x, w = gauss_rule(stats.gamma(3, scale=2), 3)
    >>> round(float(w @ x), 12), round(float(w @ x**2 - (w @ x)**2), 12)
    (6.0, 12.0)
    """
    n = int(n)
    if n < 1:
        raise ValueError("the number of quadrature nodes must be >= 1")
    name = getattr(getattr(dist, "dist", None), "name", None)
    if isinstance(getattr(dist, "dist", None), stats.rv_discrete):
        lo, hi = dist.ppf(1e-13), dist.ppf(1 - 1e-13)
        if not (np.isfinite(lo) and np.isfinite(hi)) or hi - lo > 100_000:
            raise UnsupportedFeature(f"discrete distribution {_describe(dist)} has too wide "
                                     "a support for an exact sum; use samples=")
        x = np.arange(lo, hi + 1, dtype=float)
        w = dist.pmf(x)
        return x, w / w.sum()
    shapes, loc, scale = dist.dist._parse_args(*dist.args, **dist.kwds)
    if name == "norm":
        t, w = special.roots_hermitenorm(n)
        x = loc + scale * t
    elif name == "lognorm":
        t, w = special.roots_hermitenorm(n)
        x = loc + scale * np.exp(shapes[0] * t)
    elif name in ("gamma", "expon"):
        a = shapes[0] if name == "gamma" else 1.0
        t, w = special.roots_genlaguerre(n, a - 1.0)
        x = loc + scale * t
    elif name == "uniform":
        t, w = special.roots_legendre(n)
        x = loc + scale * (t + 1.0) / 2.0
    elif name == "beta":
        a, b = shapes
        t, w = special.roots_jacobi(n, b - 1.0, a - 1.0)
        x = loc + scale * (t + 1.0) / 2.0
    else:
        t, w = special.roots_legendre(n)
        x = dist.ppf((t + 1.0) / 2.0)
    w = np.asarray(w, dtype=float)
    return np.asarray(x, dtype=float), w / w.sum()


def _tensor_rule(dists: list, n: int) -> tuple[np.ndarray, np.ndarray]:
    rules = [gauss_rule(d, n) for d in dists]
    points = np.array(list(itertools.product(*[r[0] for r in rules])), dtype=float)
    weights = np.array([math.prod(c) for c in itertools.product(*[r[1] for r in rules])])
    keep = weights > 0
    return points[keep], weights[keep]


# =========================================================================== SBML distrib
def _frozen(kind: str, args: list[float], pid: str):
    """scipy.stats distribution of an SBML distrib csymbol (parameterisation of the
    distrib specification)."""
    try:
        if kind == "normal" and len(args) == 2:
            return stats.norm(loc=args[0], scale=args[1])
        if kind == "normal" and len(args) == 4:  # truncated: mean, sd, min, max
            m, s, lo, hi = args
            return stats.truncnorm((lo - m) / s, (hi - m) / s, loc=m, scale=s)
        if kind == "uniform" and len(args) == 2:
            return stats.uniform(loc=args[0], scale=args[1] - args[0])
        if kind == "gamma" and len(args) == 2:  # shape, scale
            return stats.gamma(args[0], scale=args[1])
        if kind == "lognormal" and len(args) == 2:  # mean and sd of the logarithm
            return stats.lognorm(args[1], scale=math.exp(args[0]))
        if kind == "exponential" and len(args) == 1:  # rate
            return stats.expon(scale=1.0 / args[0])
        if kind == "poisson" and len(args) == 1:
            return stats.poisson(args[0])
        if kind == "binomial" and len(args) == 2:
            return stats.binom(int(args[0]), args[1])
        if kind == "chisquare" and len(args) == 1:
            return stats.chi2(args[0])
        if kind == "laplace" and len(args) == 2:
            return stats.laplace(loc=args[0], scale=args[1])
        if kind == "cauchy" and len(args) == 2:
            return stats.cauchy(loc=args[0], scale=args[1])
        if kind == "rayleigh" and len(args) == 1:
            return stats.rayleigh(scale=args[0])
    except (ValueError, ZeroDivisionError):
        pass
    raise UnsupportedFeature(f"parameter '{pid}': distrib distribution '{kind}' with "
                             f"{len(args)} arguments is not supported", element=pid,
                             feature=f"distrib {kind}")


def distributions_from_sbml(net: ReactionNetwork) -> dict:
    """Parameter distributions declared with the SBML L3 ``distrib`` package.

    Reads ``<distrib:uncertainty>`` on global parameters: an ``uncertParameter`` of type
    ``distribution`` whose math applies a distrib csymbol to numbers (or to constant
    parameters), e.g. ``gamma(4, 2.5)``. Supported: normal (mean, sd; truncated with
    min, max), uniform (min, max), gamma (shape, scale), lognormal (mean and sd of the
    logarithm), exponential (rate), poisson, binomial, chisquare, laplace, cauchy,
    rayleigh. Returns ``{parameter id: frozen scipy.stats distribution}`` (empty if none).
    """
    if not net.sbml:
        return {}
    import libsbml

    doc = libsbml.readSBMLFromString(net.sbml)
    model = doc.getModel()
    if model is None:
        return {}
    values = dict(zip(net.parameter_ids, net.parameter_values))
    out = {}
    for p in model.getListOfParameters():
        plug = p.getPlugin("distrib")
        if plug is None or p.getId() not in values:
            continue
        for u in range(plug.getNumUncertainties()):
            unc = plug.getUncertainty(u)
            for k in range(unc.getNumUncertParameters()):
                up = unc.getUncertParameter(k)
                if up.getType() != libsbml.DISTRIB_UNCERTTYPE_DISTRIBUTION or not up.isSetMath():
                    continue
                out[p.getId()] = _from_math(up, values, p.getId())
    return out


def _from_math(up, values: dict, pid: str):
    ast = up.getMath()
    url = up.getDefinitionURL() if up.isSetDefinitionURL() else ""
    if ast.getNumChildren() == 0 and not url:
        raise ModelError(f"parameter '{pid}': distrib uncertainty has no distribution call")
    kind = (ast.getName() or "").strip().lower()
    node_url = ast.getDefinitionURLString() if hasattr(ast, "getDefinitionURLString") else ""
    for candidate in (node_url, url):
        if candidate and candidate.startswith(_DISTRIB_URL):
            kind = candidate[len(_DISTRIB_URL):].strip().lower()
            break
    args = []
    for i in range(ast.getNumChildren()):
        child = ast.getChild(i)
        if child.isNumber():
            args.append(float(child.getValue()))
        elif child.isName() and child.getName() in values:
            args.append(float(values[child.getName()]))
        else:
            raise UnsupportedFeature(f"parameter '{pid}': distrib argument "
                                     f"'{_formula(child)}' is not a number or a parameter",
                                     element=pid, feature="distrib math")
    return _frozen(kind, args, pid)


def _formula(ast) -> str:
    import libsbml
    return libsbml.formulaToL3String(ast) or "?"
