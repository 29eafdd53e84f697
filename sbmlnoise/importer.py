"""Import SBML (any level/version libsbml reads), Antimony, or a RoadRunner model.

Public entry points: :func:`load` and :func:`from_roadrunner`. Both return a
:class:`~sbmlnoise.network.ReactionNetwork`; see :mod:`sbmlnoise.network` for the unit
conventions. What the importer does, following the SBML L3V2 specification:

* species symbols in math mean the concentration ``amount / size(compartment)`` unless the
  species has ``hasOnlySubstanceUnits`` or lives in a 0-D compartment; we rewrite every
  symbol to amounts so the state is always amounts;
* initial values come from ``initialAmount`` / ``initialConcentration``, then initial
  assignments and assignment rules (evaluated together at t=0 in dependency order);
* function definitions are inlined; local parameters get the scoped id
  ``"<reaction>.<local>"`` so they never clash with globals;
* assignment rules are inlined into kinetic laws (their dependency graph must be acyclic);
* species conversion factors (or the model's) scale the species' rows of the stoichiometry;
* stoichiometries set by initial assignments are evaluated at t=0.

Rate rules, algebraic rules, fast reactions, delays, events with delays and SBML packages
raise :class:`~sbmlnoise.errors.UnsupportedFeature` naming the element.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from pathlib import Path

import libsbml

from . import expr as ex
from .errors import ModelError, UnsupportedFeature
from .network import (Compartment, Event, MassAction, Parameter, ReactionNetwork, Reaction,
                      Species)

AVOGADRO = 6.02214076e23

_SID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SbmlnoiseWarning(UserWarning):
    """A model was read in a way the user may not expect (units, dropped constraints)."""


# =========================================================================== front door
def load(source, *, system_size: float | None = None,
         volume: float | None = None) -> ReactionNetwork:
    """Read a model into a :class:`ReactionNetwork`.

    Parameters
    ----------
    source : str or os.PathLike
        A path to an SBML (``.xml``/``.sbml``) or Antimony (``.ant``/``.txt``) file, or
        the text of either. SBML is recognised by content (it starts with ``<``).
    system_size : float, optional
        Molecules per model substance unit (``Omega``). Default: 1 for ``item`` or
        undefined substance units, ``N_A * scale`` for ``mole``.
    volume : float, optional
        Cell volume in litres: the model is read as a cell of this volume at the same
        concentrations (every compartment scaled by one factor, initial counts rounded
        to whole molecules; see ``docs/units.md`` and :mod:`sbmlnoise._volume`). Recorded
        in ``system_size_source``. Exclusive with ``system_size``.

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> net = sn.load("model bd; -> X; k; X -> ; g*X; k = 10; g = 1; X = 0; end")
    >>> net.species_ids, net.stoichiometry.tolist()
    (('X',), [[1.0, -1.0]])
    """
    if system_size is not None and not (system_size > 0 and math.isfinite(system_size)):
        raise ValueError("system_size must be a positive finite number")
    if volume is not None and system_size is not None:
        raise ValueError("pass either system_size= or volume=, not both")
    text, path = _read_source(source)
    if text.lstrip("\ufeff \t\r\n").startswith("<"):
        sbml_text = text
    else:
        sbml_text = antimony_to_sbml(text)
    net = _SbmlReader(sbml_text, path, system_size).read()
    if volume is not None:
        from ._volume import apply_volume

        net = apply_volume(net, volume)
    return net


def from_roadrunner(rr, *, system_size: float | None = None,
                    volume: float | None = None) -> ReactionNetwork:
    """Import a libRoadRunner (or Tellurium ``te.loada``) model with its *current*
    parameter values and initial amounts (``volume=``: as in :func:`load`)."""
    try:
        sbml_text = rr.getCurrentSBML()
    except AttributeError:
        raise TypeError("from_roadrunner expects a roadrunner.RoadRunner object") from None
    if volume is not None and system_size is not None:
        raise ValueError("pass either system_size= or volume=, not both")
    net = load(sbml_text, system_size=system_size)
    current = {}
    for pid in rr.getGlobalParameterIds():
        if pid in net.parameter_ids:
            current[pid] = float(rr.getValue(pid))
    if current:
        net = net.with_parameters(**current)
    if volume is not None:  # last, so the amounts it rounds are the final ones
        from ._volume import apply_volume

        net = apply_volume(net, volume)
    return net


def antimony_to_sbml(text: str) -> str:
    """Convert Antimony text to SBML with the antimony library (errors -> ModelError)."""
    import antimony

    antimony.clearPreviousLoads()
    code = antimony.loadAntimonyString(text)
    if code < 0:
        message = " ".join(antimony.getLastError().split())
        raise ModelError(f"Antimony: {message or 'could not parse the text'}")
    module = antimony.getMainModuleName()
    sbml_text = antimony.getSBMLString(module)
    if not sbml_text:
        raise ModelError(f"Antimony: module '{module}' produced no SBML")
    return sbml_text


def _read_source(source) -> tuple[str, str | None]:
    if isinstance(source, os.PathLike):
        path = Path(source)
        return _read_file(path), str(path)
    if not isinstance(source, str):
        raise TypeError(f"sn.load expects a path or model text, got {type(source).__name__}")
    stripped = source.strip()
    if "\n" not in stripped and len(stripped) < 4096 and not stripped.startswith("<"):
        candidate = Path(stripped)
        try:
            exists = candidate.is_file()
        except OSError:
            exists = False
        if exists:
            return _read_file(candidate), str(candidate)
        if candidate.suffix.lower() in (".xml", ".sbml", ".ant") and ";" not in stripped:
            raise ModelError(f"model file '{stripped}' does not exist")
    return source, None


def _read_file(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ModelError(f"cannot read model file '{path}': {err.strerror or err}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


# =========================================================================== reader
class _SbmlReader:
    """One-shot translation of an SBML document into a ReactionNetwork."""

    def __init__(self, sbml_text: str, path: str | None, system_size: float | None):
        self.sbml_text = sbml_text
        self.path = path
        self.user_system_size = system_size
        self.warnings: list[str] = []
        self.functions: dict[str, tuple[list[str], ex.Expr]] = {}
        self.stoichiometry_math: dict = {}
        self.stoichiometry_values: dict = {}

    # ------------------------------------------------------------------ document
    def _document(self):
        if len(self.sbml_text) > 200_000_000:
            raise ModelError("SBML document larger than 200 MB")
        if "<!ENTITY" in self.sbml_text:
            raise ModelError("SBML document declares XML entities (DOCTYPE/ENTITY); refused "
                             "to expand them")
        doc = libsbml.readSBMLFromString(self.sbml_text)
        fatal = [doc.getError(i) for i in range(doc.getNumErrors())
                 if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
        if fatal:
            raise ModelError(_describe(fatal[0], len(fatal)))
        model = doc.getModel()
        if model is None:
            raise ModelError("SBML document has no <model> element")
        for i in range(doc.getNumPlugins()):
            plugin = doc.getPlugin(i)
            package = plugin.getPackageName()
            if package in ("l3v2extendedmath", "distrib"):
                continue  # built into L3V2 math / our own uncertainty write-back
            if doc.getLevel() >= 3 and doc.isPackageEnabled(package) and \
                    doc.getPackageRequired(package):
                raise UnsupportedFeature(f"SBML package '{plugin.getPackageName()}' is required "
                                         "by this model and not supported",
                                         element="sbml", feature=f"package {plugin.getPackageName()}")
        doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, False)
        doc.setConsistencyChecks(libsbml.LIBSBML_CAT_MODELING_PRACTICE, False)
        doc.setConsistencyChecks(libsbml.LIBSBML_CAT_SBO_CONSISTENCY, False)
        doc.checkConsistency()
        fatal = [doc.getError(i) for i in range(doc.getNumErrors())
                 if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
        if fatal:
            raise ModelError(_describe(fatal[0], len(fatal)))
        return doc, model

    # ------------------------------------------------------------------ main
    def read(self) -> ReactionNetwork:
        doc, model = self._document()
        self.model = model
        self._reject_unsupported(model)
        self._read_functions(model)

        comps = {}
        for c in model.getListOfCompartments():
            comps[c.getId()] = c
        self.compartments = comps
        species = {s.getId(): s for s in model.getListOfSpecies()}
        self.sbml_species = species
        for sid, s in species.items():
            if s.getCompartment() not in comps:
                raise ModelError(f"species '{sid}' lives in undefined compartment "
                                 f"'{s.getCompartment()}'")

        # symbol -> expression turning the file's meaning into amount semantics
        self.species_value = {}
        for sid, s in species.items():
            if self._is_amount_valued(s):
                self.species_value[sid] = ex.Sym(sid)
            else:
                self.species_value[sid] = ex.div(ex.Sym(sid), ex.Sym(s.getCompartment()))

        # --- rules
        rules: dict[str, ex.Expr] = {}
        for rule in model.getListOfRules():
            if not rule.isAssignment():
                continue  # the others were rejected or (no math) dropped above
            var = rule.getVariable()
            if rule.getMath() is None:  # L3V2: a rule without math has no effect
                self.warnings.append(f"assignment rule for '{var}' has no math and is ignored")
                continue
            math_expr = self._math(rule.getMath(), f"assignment rule for '{var}'")
            if var in species:
                s = species[var]
                if not self._is_amount_valued(s):
                    math_expr = ex.mul(math_expr, ex.Sym(s.getCompartment()))
            rules[var] = math_expr

        # --- reactions (file laws, local parameters renamed)
        local_params: list[Parameter] = []
        reaction_laws: dict[str, ex.Expr] = {}
        for r in model.getListOfReactions():
            rid = r.getId()
            law = r.getKineticLaw()
            if law is None or law.getMath() is None:
                # valid SBML (constraint-based models, e.g. with the fbc package), but a
                # kinetic analysis needs a rate for every reaction
                raise UnsupportedFeature(f"reaction '{rid}' has no kinetic law; sbmlnoise needs "
                                         "a rate law for every reaction (constraint-based "
                                         "models are out of scope)", element=rid,
                                         feature="reaction without kinetic law")
            local_map = {}
            for lp in list(law.getListOfLocalParameters()) + list(law.getListOfParameters()):
                scoped = f"{rid}.{lp.getId()}"
                if scoped in local_map.values():
                    continue
                if not lp.isSetValue():
                    raise ModelError(f"local parameter '{lp.getId()}' of reaction '{rid}' has no value")
                local_map[lp.getId()] = scoped
                local_params.append(Parameter(scoped, float(lp.getValue()), "local", lp.getName()))
            reaction_laws[rid] = self._math(law.getMath(), f"kinetic law of reaction '{rid}'",
                                            local_map)

        # --- stoichiometry symbols and values
        stoich_ref_ids: dict[str, libsbml.SpeciesReference] = {}
        for r in model.getListOfReactions():
            for ref in list(r.getListOfReactants()) + list(r.getListOfProducts()):
                if ref.isSetId():
                    stoich_ref_ids[ref.getId()] = ref
                if ref.isSetStoichiometryMath() if hasattr(ref, "isSetStoichiometryMath") else False:
                    where = f"stoichiometryMath of '{ref.getSpecies()}' in reaction '{r.getId()}'"
                    math_expr = self._math(ref.getStoichiometryMath().getMath(), where)
                    if ex.symbols(math_expr) & (set(species) | {ex.TIME}):
                        raise UnsupportedFeature(f"{where} depends on species or time (varying "
                                                 "stoichiometry is not supported)",
                                                 element=r.getId(), feature="stoichiometryMath")
                    self.stoichiometry_math[self._ref_key(ref)] = (ref, math_expr)

        initial_assignments = {}
        for ia in model.getListOfInitialAssignments():
            sym = ia.getSymbol()
            if ia.getMath() is None:  # L3V2: an initial assignment without math has no effect
                self.warnings.append(f"initial assignment to '{sym}' has no math and is ignored")
                continue
            math_expr = self._math(ia.getMath(), f"initial assignment to '{sym}'")
            if sym in species and not self._is_amount_valued(species[sym]):
                math_expr = ex.mul(math_expr, ex.Sym(species[sym].getCompartment()))
            initial_assignments[sym] = math_expr

        # --- initial values (t = 0): IA > rule > attribute
        definitions: dict[str, ex.Expr] = {}
        for cid, c in comps.items():
            if self._zero_dimensional(c) and not c.isSetSize():
                definitions[cid] = ex.ONE
            elif c.isSetSize():
                definitions[cid] = ex.Num(c.getSize())
        for p in model.getListOfParameters():
            if p.isSetValue():
                definitions[p.getId()] = ex.Num(p.getValue())
        for sid, s in species.items():
            if s.isSetInitialAmount():
                definitions[sid] = ex.Num(s.getInitialAmount())
            elif s.isSetInitialConcentration():
                comp = comps[s.getCompartment()]
                if self._zero_dimensional(comp):
                    definitions[sid] = ex.Num(s.getInitialConcentration())
                else:
                    definitions[sid] = ex.mul(ex.Num(s.getInitialConcentration()),
                                              ex.Sym(s.getCompartment()))
        for ref_id, ref in stoich_ref_ids.items():
            definitions[ref_id] = ex.Num(ref.getStoichiometry()) if ref.isSetStoichiometry() \
                else ex.ONE
        for lp in local_params:
            definitions[lp.id] = ex.Num(lp.value)
        stoich_math_names = {}
        for key, (ref, math_expr) in self.stoichiometry_math.items():
            name = ref.getId() if ref.isSetId() else f"<stoichiometryMath {len(stoich_math_names)}>"
            definitions[name] = math_expr
            stoich_math_names[key] = name
        definitions.update(rules)
        definitions.update(initial_assignments)
        initial = _evaluate_definitions(definitions, reaction_laws, self.species_value)
        self.stoichiometry_values = {k: initial[name] for k, name in stoich_math_names.items()}

        # --- which variables are state, constant parameters, or rule-defined
        state_species = [sid for sid in species if sid not in rules]
        parameters: list[Parameter] = []
        for cid, c in comps.items():
            if cid in rules:
                continue
            if cid not in initial or not math.isfinite(initial[cid]):
                if self._compartment_used(cid, [*rules.values(), *reaction_laws.values(),
                                                     *initial_assignments.values()]):
                    raise ModelError(f"compartment '{cid}' has no size but its size is used "
                                     "(by a concentration species or in math)")
                initial[cid] = 1.0
                self.warnings.append(f"compartment '{cid}' has no size; it is never used, "
                                     "so 1 is assumed")
            parameters.append(Parameter(cid, initial[cid], "compartment", c.getName()))
        for p in model.getListOfParameters():
            pid = p.getId()
            if pid in rules:
                continue
            if pid not in initial:
                raise ModelError(f"parameter '{pid}' has no value (set 'value' or an initial "
                                 "assignment)")
            parameters.append(Parameter(pid, initial[pid], "global", p.getName()))
        parameters.extend(local_params)
        for ref_id in stoich_ref_ids:
            if ref_id not in rules:
                parameters.append(Parameter(ref_id, initial[ref_id], "stoichiometry"))

        # --- resolve assignment rules and reaction-id symbols into amount-semantics trees
        resolved = _resolve(rules, reaction_laws)
        constant_names = {p.id for p in parameters}
        for var in rules:
            if var in stoich_ref_ids and not ex.symbols(resolved[var]) <= constant_names:
                raise UnsupportedFeature(f"assignment rule to stoichiometry '{var}' (varying "
                                         "stoichiometry) is not supported", element=var,
                                         feature="variable stoichiometry")

        def final(e: ex.Expr) -> ex.Expr:
            return ex.substitute(e, resolved)

        # --- species objects
        species_objs = []
        for sid in state_species:
            s = species[sid]
            if sid not in initial or not math.isfinite(initial[sid]):
                raise ModelError(f"species '{sid}' has no initial amount or concentration")
            species_objs.append(Species(
                id=sid, name=s.getName() or sid, compartment=s.getCompartment(),
                initial_amount=initial[sid], boundary=s.getBoundaryCondition(),
                constant=s.getConstant(), has_only_substance_units=s.getHasOnlySubstanceUnits()))

        # --- reactions
        conversion = self._conversion_factors(model, species, initial)
        reactions: list[Reaction] = []
        taken = set(species) | set(comps) | {p.getId() for p in model.getListOfParameters()} \
            | {r.getId() for r in model.getListOfReactions()}
        for r in model.getListOfReactions():
            rid = r.getId()
            reactants = self._refs(r.getListOfReactants(), initial, rid, rules)
            products = self._refs(r.getListOfProducts(), initial, rid, rules)
            modifiers = tuple(m.getSpecies() for m in r.getListOfModifiers())
            rate = final(reaction_laws[rid])
            self._check_symbols(rate, rid, state_species, parameters)
            values = {p.id: p.value for p in parameters}
            channels = _split_reversible(rid, r.getName() or rid, reactants, products, modifiers,
                                         rate, r.getReversible(), values, taken)
            reactions.extend(channels)

        # --- events
        events = self._events(model, final, species)

        assignments = []
        for var in rules:
            if var in stoich_ref_ids:
                continue
            assignments.append((var, resolved[var]))

        omega, omega_source, units = self._system_size(model, species_objs, species)
        concentration_species = tuple(sid for sid in species
                                      if not self._is_amount_valued(species[sid]))
        return ReactionNetwork(
            id=model.getId() or "model", name=model.getName() or model.getId() or "model",
            species=tuple(species_objs), reactions=tuple(reactions), parameters=tuple(parameters),
            compartments=tuple(Compartment(cid, c.getName() or cid,
                                           float(initial.get(cid, math.nan)),
                                           c.getSpatialDimensionsAsDouble(), c.getConstant())
                               for cid, c in comps.items()),
            assignments=tuple(assignments), conversion_factors=tuple(conversion.items()),
            events=events, system_size=omega, system_size_source=omega_source,
            substance_units=units, sbml=self.sbml_text, source_path=self.path,
            warnings=tuple(self.warnings), concentration_species=concentration_species)

    # ------------------------------------------------------------------ pieces
    def _reject_unsupported(self, model) -> None:
        for rule in model.getListOfRules():
            if rule.isAlgebraic():
                raise UnsupportedFeature("algebraic rules are not supported (model needs a DAE "
                                         "solver)", element="algebraicRule", feature="AlgebraicRule")
            if rule.isRate() and rule.getMath() is None:
                self.warnings.append(f"rate rule for '{rule.getVariable()}' has no math and is "
                                     "ignored")
                continue
            if rule.isRate():
                raise UnsupportedFeature(f"rate rule for '{rule.getVariable()}' is not supported",
                                         element=rule.getVariable(), feature="RateRule")
        for r in model.getListOfReactions():
            if r.isSetFast() and r.getFast():
                raise UnsupportedFeature(f"reaction '{r.getId()}' is marked fast; fast reactions "
                                         "are not supported", element=r.getId(), feature="FastReaction")
        for e in model.getListOfEvents():
            if e.isSetDelay():
                raise UnsupportedFeature(f"event '{e.getId() or '(unnamed)'}' has a delay; delayed "
                                         "events are not supported", element=e.getId(),
                                         feature="EventWithDelay")
        if model.getNumConstraints():
            self.warnings.append(f"{model.getNumConstraints()} constraint(s) ignored")

    def _read_functions(self, model) -> None:
        for fd in model.getListOfFunctionDefinitions():
            lam = fd.getMath()
            if lam is None or not lam.isLambda():
                # L3V2: a function definition without math; only an error if it is called
                self.warnings.append(f"function definition '{fd.getId()}' has no lambda")
                continue
            n_args = lam.getNumBvars()
            bvars = [lam.getChild(i).getName() for i in range(n_args)]
            body_node = lam.getChild(lam.getNumChildren() - 1)
            self.functions[fd.getId()] = (bvars, _ast_to_expr(body_node, self.functions, {},
                                                              f"function '{fd.getId()}'",
                                                              bound=set(bvars)))

    def _compartment_used(self, cid: str, maths) -> bool:
        if any(s.getCompartment() == cid and not self._is_amount_valued(s)
               for s in self.sbml_species.values()):
            return True
        return any(cid in ex.symbols(m) for m in maths)

    def _is_amount_valued(self, s) -> bool:
        comp = self.compartments[s.getCompartment()]
        return s.getHasOnlySubstanceUnits() or self._zero_dimensional(comp)

    def _zero_dimensional(self, comp) -> bool:
        """A 0-D compartment has no size in SBML Level 1-2 (its species are amounts). SBML
        Level 3 dropped that rule: a 0-D compartment with a size behaves like any other
        compartment; one without a size keeps the amount reading (size 1)."""
        if comp.getSpatialDimensionsAsDouble() != 0:
            return False
        return comp.getLevel() < 3 or not comp.isSetSize()

    def _math(self, node, where: str, local_map: dict | None = None) -> ex.Expr:
        if node is None:
            raise ModelError(f"{where} has no math")
        raw = _ast_to_expr(node, self.functions, local_map or {}, where)
        if ex.depth(raw) > 500:
            raise ModelError(f"{where}: math nested deeper than 500 levels")
        return ex.substitute(raw, self.species_value)

    @staticmethod
    def _ref_key(ref) -> tuple:
        reaction = ref.getParentSBMLObject().getParentSBMLObject()
        return (reaction.getId(), ref.getSpecies(), ref.getParentSBMLObject().getElementName(),
                ref.getId() if ref.isSetId() else "")

    def _refs(self, refs, initial, rid, rules) -> tuple[tuple[str, float], ...]:
        out = []
        for ref in refs:
            sid = ref.getSpecies()
            if sid not in self.sbml_species:
                raise ModelError(f"reaction '{rid}' refers to undefined species '{sid}'")
            if sid in rules:
                # a rule-defined species cannot be changed by a reaction; SBML allows it
                # only as a boundary species, where the reaction does not change it.
                pass
            if self._ref_key(ref) in self.stoichiometry_values:
                nu = self.stoichiometry_values[self._ref_key(ref)]
            elif ref.isSetId() and ref.getId() in initial:
                nu = initial[ref.getId()]
            elif ref.isSetStoichiometry():
                nu = ref.getStoichiometry()
            else:
                nu = 1.0
            if not math.isfinite(nu):
                raise ModelError(f"reaction '{rid}': stoichiometry of '{sid}' is not finite")
            if abs(nu) > 1e6:
                raise ModelError(f"reaction '{rid}': stoichiometry {nu:g} of '{sid}' is implausibly large")
            if sid in rules:
                continue
            out.append((sid, float(nu)))
        return tuple(out)

    def _check_symbols(self, rate, rid, state_species, parameters) -> None:
        known = set(state_species) | {p.id for p in parameters} | {ex.TIME}
        for name in ex.symbols(rate):
            if name not in known:
                raise ModelError(f"kinetic law of reaction '{rid}' uses '{name}', which is not "
                                 "defined (or only defined by a rule the importer cannot use)")

    def _conversion_factors(self, model, species, initial) -> dict[str, float]:
        model_cf = model.getConversionFactor() if hasattr(model, "getConversionFactor") else ""
        out = {}
        for sid, s in species.items():
            cf = s.getConversionFactor() if hasattr(s, "getConversionFactor") and \
                s.isSetConversionFactor() else model_cf
            if cf:
                if cf not in initial:
                    raise ModelError(f"conversion factor '{cf}' of species '{sid}' is undefined")
                out[sid] = float(initial[cf])
        return out

    def _events(self, model, final, species) -> tuple[Event, ...]:
        events = []
        for k, e in enumerate(model.getListOfEvents()):
            eid = e.getId() or f"event_{k}"
            trig = e.getTrigger()
            if trig is None or trig.getMath() is None:
                # L3V2: an event without a trigger (math) never fires
                self.warnings.append(f"event '{eid}' has no trigger and never fires")
                continue
            trigger = final(self._math(trig.getMath(), f"trigger of event '{eid}'"))
            assigns = []
            for ea in e.getListOfEventAssignments():
                var = ea.getVariable()
                if ea.getMath() is None:  # L3V2: no math, no effect
                    continue
                value = final(self._math(ea.getMath(), f"event '{eid}' assignment to '{var}'"))
                if var in species and not self._is_amount_valued(species[var]):
                    value = ex.mul(value, ex.Sym(species[var].getCompartment()))
                assigns.append((var, value))
            priority = None
            if e.isSetPriority() and e.getPriority().getMath() is not None:
                priority = final(self._math(e.getPriority().getMath(), f"priority of event '{eid}'"))
            initial_value = trig.getInitialValue() if trig.isSetInitialValue() else True
            persistent = trig.getPersistent() if trig.isSetPersistent() else True
            events.append(Event(eid, trigger, tuple(assigns), bool(initial_value),
                                bool(persistent), priority,
                                bool(e.getUseValuesFromTriggerTime())))
        return tuple(events)

    def _system_size(self, model, species_objs, sbml_species) -> tuple[float, str, str]:
        unit_id = model.getSubstanceUnits() if model.getLevel() >= 3 else "substance"
        if not unit_id and model.getLevel() >= 3:
            units = {s.getSubstanceUnits() for s in sbml_species.values() if s.isSetSubstanceUnits()}
            unit_id = units.pop() if len(units) == 1 else ""
        kind, factor = _substance_unit(model, unit_id)
        if self.user_system_size is not None:
            return float(self.user_system_size), "user", kind
        if kind == "mole":
            # the typical stochastic model that kept the unit by oversight: plain mole (not
            # a scaled unit such as nanomole, which is chosen on purpose) and whole numbers
            # above 1 as amounts
            amounts = [s.initial_amount for s in species_objs if not s.constant and
                       s.initial_amount != 0]
            looks_like_counts = (factor == 1.0 and amounts and max(amounts) > 1
                                 and all(a == round(a) for a in amounts))
            if looks_like_counts:
                unit = unit_id or "substance"
                default = " (the SBML Level 2 default)" if model.getLevel() < 3 and \
                    model.getUnitDefinition("substance") is None else ""
                msg = (f"substance unit '{unit}' is mole{default} but the initial amounts "
                       "are whole numbers that look like molecule counts; they are read as "
                       "moles (x Avogadro). If they are counts, load with system_size=1")
                self.warnings.append(msg)
                warnings.warn(msg, SbmlnoiseWarning, stacklevel=4)
            return AVOGADRO * factor, "mole units (Avogadro)", kind
        if kind == "item":
            return factor, "item units", kind
        return 1.0, "undefined substance units: amounts read as counts", kind


def _substance_unit(model, unit_id: str) -> tuple[str, float]:
    """(kind, molecules-per-unit factor before Avogadro) of a substance unit id."""
    if unit_id in ("", None):
        if model.getLevel() < 3:
            return "mole", 1.0
        return "undefined", 1.0
    if unit_id in ("mole", "item"):
        return unit_id, 1.0
    if unit_id in ("dimensionless", "avogadro"):
        return ("item", 1.0) if unit_id == "dimensionless" else ("mole", 1.0)
    ud = model.getUnitDefinition(unit_id)
    if ud is None:
        if unit_id == "substance":
            return "mole", 1.0
        return "undefined", 1.0
    if ud.getNumUnits() != 1:
        return "undefined", 1.0
    u = ud.getUnit(0)
    factor = (u.getMultiplier() * 10.0 ** u.getScale()) ** u.getExponent()
    kind = libsbml.UnitKind_toString(u.getKind())
    if kind in ("mole", "item"):
        return kind, factor
    if kind == "dimensionless":
        return "item", factor
    return "undefined", 1.0


def _describe(error, count: int) -> str:
    msg = " ".join(error.getMessage().split())
    more = f" (and {count - 1} more errors)" if count > 1 else ""
    return f"invalid SBML at line {error.getLine()}: {msg}{more}"


# =========================================================================== math
# libsbml's ASTNode.getType() returns a bare SWIG pointer instead of an int once some other
# SWIG module (tellurium imports several) has been loaded, so the translation relies only
# on libsbml's predicates (isName, isNumber, ...), operator characters and element names.
_TIME_URL = "http://www.sbml.org/sbml/symbols/time"
_AVOGADRO_URL = "http://www.sbml.org/sbml/symbols/avogadro"

_NAMED_FUNCS = {
    "abs": "abs", "exp": "exp", "ln": "ln", "floor": "floor", "ceiling": "ceil", "ceil": "ceil",
    "factorial": "factorial", "sin": "sin", "cos": "cos", "tan": "tan", "sec": "sec",
    "csc": "csc", "cot": "cot", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "sech": "sech",
    "csch": "csch", "coth": "coth", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
    "arcsec": "arcsec", "arccsc": "arccsc", "arccot": "arccot", "arcsinh": "asinh",
    "arccosh": "acosh", "arctanh": "atanh", "arcsech": "arcsech", "arccsch": "arccsch",
    "arccoth": "arccoth", "not": "not", "lt": "lt", "leq": "leq", "gt": "gt", "geq": "geq",
    "eq": "eq", "neq": "neq", "piecewise": "piecewise", "min": "min", "max": "max",
    "rem": "rem", "quotient": "quotient", "and": "and", "or": "or", "xor": "xor",
}
_CONSTANTS = {"pi": math.pi, "exponentiale": math.e, "true": 1.0, "false": 0.0,
              "avogadro": AVOGADRO, "infinity": math.inf, "notanumber": math.nan}


def _ast_to_expr(node, functions, local_map, where, bound=frozenset()) -> ex.Expr:
    """Translate a libsbml ASTNode into our tree."""
    kids = [node.getChild(i) for i in range(node.getNumChildren())]
    name = node.getName()

    def conv(child):
        return _ast_to_expr(child, functions, local_map, where, bound)

    if node.isNumber():
        return ex.Num(float(node.getValue()))
    url = node.getDefinitionURLString() if hasattr(node, "getDefinitionURLString") else ""
    if node.isName() or (node.isConstant() and name == "avogadro"):
        if url == _TIME_URL:
            return ex.Sym(ex.TIME)
        if url == _AVOGADRO_URL:
            return ex.Num(AVOGADRO)
        if name is None or not _SID.match(name):
            raise ModelError(f"{where}: invalid identifier {name!r}")
        if name in bound:
            return ex.Sym(name)
        return ex.Sym(local_map.get(name, name))
    if node.isConstant():
        if name in _CONSTANTS:
            return ex.Num(_CONSTANTS[name])
        raise UnsupportedFeature(f"{where}: MathML constant '{name}' is not supported",
                                 feature=str(name))
    if hasattr(node, "isCSymbolFunction") and node.isCSymbolFunction():
        raise UnsupportedFeature(f"{where}: {name}() is not supported", feature=str(name))
    if name in ("delay", "rateOf"):
        raise UnsupportedFeature(f"{where}: {name}() is not supported", feature=name)
    if node.isLambda():
        raise ModelError(f"{where}: a lambda may only appear in a function definition")
    if node.isUserFunction():
        if name not in functions:
            raise ModelError(f"{where}: call of undefined function '{name}'")
        bvars, body = functions[name]
        if len(bvars) != len(kids):
            raise ModelError(f"{where}: function '{name}' takes {len(bvars)} arguments, "
                             f"got {len(kids)}")
        return ex.substitute(body, {b: conv(k) for b, k in zip(bvars, kids)})
    args = [conv(k) for k in kids]
    if node.isOperator():
        char = node.getCharacter()
        if char == "+":
            return ex.add(*args) if args else ex.ZERO
        if char == "*":
            return ex.mul(*args) if args else ex.ONE
        if char == "-":
            if len(args) == 1:
                return ex.neg(args[0])
            _arity(where, "minus", args, 2)
            return ex.sub(args[0], args[1])
        if char == "/":
            _arity(where, "divide", args, 2)
            return ex.Apply("/", tuple(args))
        if char == "^":
            _arity(where, "power", args, 2)
            return ex.Apply("^", tuple(args))
        raise UnsupportedFeature(f"{where}: operator {char!r} is not supported", feature=char)
    if name in ("pow", "power"):
        _arity(where, name, args, 2)
        return ex.Apply("^", tuple(args))
    if name == "root" or name == "sqrt":
        if len(args) == 1:
            return ex.Apply("sqrt", (args[0],))
        _arity(where, name, args, 2)
        if args[0] == ex.Num(2.0):
            return ex.Apply("sqrt", (args[1],))
        return ex.Apply("root", tuple(args))
    if name in ("log", "log10"):
        if len(args) == 1:
            return ex.Apply("log10", (args[0],))
        _arity(where, name, args, 2)
        if args[0] == ex.Num(10.0):
            return ex.Apply("log10", (args[1],))
        return ex.Apply("log", tuple(args))
    if name == "implies":
        _arity(where, name, args, 2)
        return ex.Apply("or", (ex.Apply("not", (args[0],)), args[1]))
    if name in _NAMED_FUNCS:
        op = _NAMED_FUNCS[name]
        if op in ("lt", "leq", "gt", "geq", "eq") and len(args) > 2:
            # n-ary relation: a < b < c means a < b and b < c (MathML)
            return ex.Apply("and", tuple(ex.Apply(op, (args[i], args[i + 1]))
                                         for i in range(len(args) - 1)))
        arity = ex.OPERATORS[op]
        if arity is not None:
            _arity(where, name, args, arity)
        return ex.Apply(op, tuple(args))
    raise UnsupportedFeature(f"{where}: MathML element '{name}' is not supported",
                             feature=str(name))


def _arity(where: str, name: str, args: list, wanted: int) -> None:
    if len(args) != wanted:
        raise ModelError(f"{where}: '{name}' takes {wanted} argument(s), got {len(args)}")


# =========================================================================== helpers
def _evaluate_definitions(definitions, reaction_laws, species_value) -> dict[str, float]:
    """Evaluate every defined symbol at t=0, following dependencies (cycles -> error)."""
    values: dict[str, float] = {}
    visiting: set[str] = set()
    exprs = dict(definitions)

    def value(name: str) -> float:
        if name in values:
            return values[name]
        if name == ex.TIME:
            return 0.0
        if name in visiting:
            raise ModelError(f"initial value of '{name}' depends on itself (cyclic initial "
                             "assignments or rules)")
        if name in reaction_laws and name not in exprs:
            expr = reaction_laws[name]
        elif name in exprs:
            expr = exprs[name]
        else:
            raise ModelError(f"'{name}' is used but has no value at t=0")
        visiting.add(name)
        deps = {d: value(d) for d in ex.symbols(expr) if d != ex.TIME}
        visiting.discard(name)
        values[name] = ex.evaluate(expr, deps)
        return values[name]

    for name in list(exprs):
        value(name)
    return values


def _resolve(rules: dict[str, ex.Expr], reaction_laws: dict[str, ex.Expr]) -> dict[str, ex.Expr]:
    """Inline assignment rules (and reaction-rate symbols) into each other."""
    pending = dict(rules)
    pending.update({rid: law for rid, law in reaction_laws.items() if rid not in rules})
    resolved: dict[str, ex.Expr] = {}
    visiting: set[str] = set()

    def resolve(name: str) -> ex.Expr:
        if name in resolved:
            return resolved[name]
        if name in visiting:
            raise ModelError(f"assignment rules are cyclic through '{name}'")
        visiting.add(name)
        expr = pending[name]
        subs = {d: resolve(d) for d in ex.symbols(expr) if d in pending}
        visiting.discard(name)
        resolved[name] = ex.substitute(expr, subs) if subs else expr
        return resolved[name]

    for name in pending:
        resolve(name)
    return {k: v for k, v in resolved.items() if k in rules or k in reaction_laws}


def _monomial(term: ex.Expr, state: set[str]):
    """Split a product into (constant factors, {species: order}) or None."""
    sign_consts: list[ex.Expr] = []
    orders: dict[str, int] = {}
    stack = [term]
    while stack:
        node = stack.pop()
        if not (ex.symbols(node) & (state | {ex.TIME})):
            sign_consts.append(node)
            continue
        if isinstance(node, ex.Sym):
            orders[node.name] = orders.get(node.name, 0) + 1
        elif isinstance(node, ex.Apply) and node.op == "*":
            stack.extend(node.args)
        elif isinstance(node, ex.Apply) and node.op == "neg":
            sign_consts.append(ex.Num(-1.0))
            stack.append(node.args[0])
        elif isinstance(node, ex.Apply) and node.op == "/":
            num, den = node.args
            if ex.symbols(den) & (state | {ex.TIME}):
                return None
            sign_consts.append(ex.Apply("/", (ex.ONE, den)))
            stack.append(num)
        elif (isinstance(node, ex.Apply) and node.op == "^" and isinstance(node.args[1], ex.Num)
              and float(node.args[1].value).is_integer() and 0 < node.args[1].value <= 16):
            inner = _monomial(node.args[0], state)
            if inner is None:
                return None
            n = int(node.args[1].value)
            base_consts, base_orders = inner
            if base_consts:
                sign_consts.append(ex.power(ex.mul(*base_consts), ex.Num(float(n))))
            for sid, order in base_orders.items():
                orders[sid] = orders.get(sid, 0) + n * order
        else:
            return None
    return sign_consts, orders


def _terms(rate: ex.Expr, limit: int = 8) -> list[ex.Expr]:
    """Expand ``rate`` into a sum of products (distributing over + and -), at most
    ``limit`` terms; a tree that does not expand is one term."""
    if isinstance(rate, ex.Apply):
        if rate.op == "+":
            out = [t for a in rate.args for t in _terms(a, limit)]
            return out if len(out) <= limit else [rate]
        if rate.op == "-":
            return _terms(rate.args[0], limit) + [ex.neg(t) for t in _terms(rate.args[1], limit)]
        if rate.op == "neg":
            return [ex.neg(t) for t in _terms(rate.args[0], limit)]
        if rate.op == "*":
            products = [[]]
            for factor in rate.args:
                parts = _terms(factor, limit)
                products = [p + [q] for p in products for q in parts]
                if len(products) > limit:
                    return [rate]
            return [ex.mul(*p) for p in products]
        if rate.op == "/":
            return [ex.Apply("/", (t, rate.args[1])) for t in _terms(rate.args[0], limit)]
    return [rate]


def _mass_action(term, stoich: dict[str, float], state: set[str], values) -> MassAction | None:
    split = _monomial(term, state)
    if split is None:
        return None
    consts, orders = split
    wanted = {s: int(nu) for s, nu in stoich.items() if nu}
    if any(float(nu) != int(nu) for nu in stoich.values()) or orders != wanted:
        return None
    k_expr = ex.mul(*consts) if consts else ex.ONE
    k = ex.evaluate(k_expr, values)
    if not math.isfinite(k):
        return None
    return MassAction(k, tuple(sorted(orders.items())), k_expr)


def _split_reversible(rid, name, reactants, products, modifiers, rate, reversible, values,
                      taken) -> list[Reaction]:
    """One channel, or a forward/backward pair when a reversible law splits."""
    state = set(values) ^ set(values)  # empty set, filled below
    state = {s for s, _ in reactants} | {s for s, _ in products} | set(modifiers)
    state |= {n for n in ex.symbols(rate) if n not in values and n != ex.TIME}
    react = dict(_merge(reactants))
    prod = dict(_merge(products))
    single = _mass_action(rate, react, state, values)
    if single is not None and single.rate_constant >= 0:
        return [Reaction(rid, name, reactants, products, rate, modifiers, reversible, rid, "net",
                         single)]
    if reversible:
        terms = _terms(rate)
        if len(terms) == 2:
            for fwd_term, rev_term in (terms, terms[::-1]):
                fwd = _mass_action(fwd_term, react, state, values)
                rev = _mass_action(ex.neg(rev_term), prod, state, values)
                if fwd and rev and fwd.rate_constant >= 0 and rev.rate_constant >= 0:
                    fwd_term = ex.mul(fwd.rate_constant_expr,
                                      *(ex.power(ex.Sym(sp), ex.Num(float(o)))
                                        for sp, o in fwd.orders))
                    rev_term = ex.neg(ex.mul(rev.rate_constant_expr,
                                             *(ex.power(ex.Sym(sp), ex.Num(float(o)))
                                               for sp, o in rev.orders)))
                    fid, bid = _fresh(f"{rid}_fwd", taken), _fresh(f"{rid}_rev", taken)
                    return [
                        Reaction(fid, f"{name} (forward)", reactants, products, fwd_term,
                                 modifiers, True, rid, "forward", fwd),
                        Reaction(bid, f"{name} (reverse)", products, reactants,
                                 ex.neg(rev_term), modifiers, True, rid, "reverse", rev),
                    ]
        split = _split_by_sign(rate, values)
        if split is not None:
            fwd_term, rev_term = split
            fid, bid = _fresh(f"{rid}_fwd", taken), _fresh(f"{rid}_rev", taken)
            return [
                Reaction(fid, f"{name} (forward)", reactants, products, fwd_term, modifiers,
                         True, rid, "forward", _mass_action(fwd_term, react, state, values)),
                Reaction(bid, f"{name} (reverse)", products, reactants, rev_term, modifiers,
                         True, rid, "reverse", _mass_action(rev_term, prod, state, values)),
            ]
    return [Reaction(rid, name, reactants, products, rate, modifiers, reversible, rid, "net", None)]


def _top_terms(rate: ex.Expr, constants=frozenset()) -> list[ex.Expr]:
    """Split a law at its top-level sum only: through +, -, negation, constant factors
    (symbols in ``constants``) and a common divisor, never into a product with a
    state-dependent factor (``A*(A-1)`` stays one term)."""
    if isinstance(rate, ex.Apply):
        if rate.op == "+":
            return [t for a in rate.args for t in _top_terms(a, constants)]
        if rate.op == "-":
            return (_top_terms(rate.args[0], constants)
                    + [ex.neg(t) for t in _top_terms(rate.args[1], constants)])
        if rate.op == "neg":
            return [ex.neg(t) for t in _top_terms(rate.args[0], constants)]
        if rate.op == "/":
            return [ex.neg(ex.Apply("/", (ex.neg(t), rate.args[1]))) if _is_negated(t)
                    else ex.Apply("/", (t, rate.args[1]))
                    for t in _top_terms(rate.args[0], constants)]
        if rate.op == "*":
            sums = [a for a in rate.args if isinstance(a, ex.Apply) and a.op in ("+", "-")]
            others = [a for a in rate.args if not any(a is b for b in sums)]
            if len(sums) == 1 and all(ex.symbols(a) <= constants for a in others):
                return [ex.mul(*others, t) for t in _top_terms(sums[0], constants)]
    return [rate]


def _is_negated(term: ex.Expr) -> bool:
    return (isinstance(term, ex.Apply) and term.op == "*" and isinstance(term.args[0], ex.Num)
            and term.args[0].value < 0) or (isinstance(term, ex.Num) and term.value < 0)


def _split_by_sign(rate: ex.Expr, values) -> tuple[ex.Expr, ex.Expr] | None:
    """``(forward, reverse)`` with ``rate = forward - reverse`` when the law's top-level
    terms fall into positive and explicitly negated ones (e.g. a reversible
    Michaelis-Menten law or ``k1*P*(P-1)/2 - k2*P2``); ``None`` otherwise."""
    terms = _top_terms(rate, frozenset(values))
    if len(terms) < 2 or len(terms) > 16:
        return None
    positive = [t for t in terms if not _is_negated(t)]
    negative = [ex.neg(t) for t in terms if _is_negated(t)]
    if not positive or not negative:
        return None
    if any(_is_negated(t) for t in negative) or any(
            isinstance(t, ex.Num) for t in positive + negative):
        return None
    return ex.add(*positive), ex.add(*negative)


def _merge(pairs):
    out: dict[str, float] = {}
    for sid, nu in pairs:
        out[sid] = out.get(sid, 0.0) + nu
    return out.items()


def _fresh(candidate: str, taken: set[str]) -> str:
    name, k = candidate, 1
    while name in taken:
        k += 1
        name = f"{candidate}{k}"
    taken.add(name)
    return name
