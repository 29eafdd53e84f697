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

Rate rules, algebraic rules (with the variable each determines, by bipartite matching),
fast reactions, ``delay()``, ``rateOf()`` (replaced by the time derivative, chain rule over
the model's continuously changing symbols), delayed events and variable stoichiometry are
carried by the network for the rate equations; stochastic backends refuse them. ``comp``
models are flattened with libsbml's CompFlatteningConverter; ``fbc``, ``layout``,
``render`` and ``groups`` do not affect the kinetics and their validation errors become
warnings. Other required packages raise :class:`~sbmlnoise.errors.UnsupportedFeature`.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from pathlib import Path

import libsbml

from .. import expr as ex
from ..errors import ModelError, UnsupportedFeature
from ..kinetics import reversible_channels
from ..network import (
    Compartment,
    Event,
    FastReaction,
    Parameter,
    ReactionNetwork,
    Reaction,
    Species,
)

AVOGADRO = 6.02214076e23
#: the value of the ``avogadro`` csymbol fixed by the SBML Level 3 specification
SBML_AVOGADRO = 6.02214179e23

_SID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: packages that do not change the kinetics: ignored (their validation errors are warnings)
_IGNORED_PACKAGES = {"l3v2extendedmath", "distrib", "fbc", "layout", "render", "groups",
                     "comp", "annot", "req"}
#: libsbml validation errors that cannot change a simulation: 10313, a units attribute
#: naming an undefined unit (units are not used for the numbers)
_HARMLESS_ERRORS = {10313}
#: prefix of the symbol that stands for rateOf(X) until it is replaced by dX/dt
RATE_OF = "<rateOf>"


class SbmlnoiseWarning(UserWarning):
    """A model was read in a way the user may not expect (units, dropped constraints)."""


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
    from ._guard import guarded_source  # regular files only, encodings, comment size, imports
    guarded = guarded_source(source)
    if guarded is not None:
        return guarded
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
        doc = self._flatten_comp(doc)
        model = doc.getModel()
        used = set()
        for i in range(doc.getNumPlugins()):
            package = doc.getPlugin(i).getPackageName()
            if package in _IGNORED_PACKAGES or not doc.isPackageEnabled(package):
                continue
            if doc.getLevel() >= 3 and doc.getPackageRequired(package):
                raise UnsupportedFeature(f"SBML package '{package}' is required by this model "
                                         "and changes its meaning in a way sbmlnoise does not "
                                         "implement", element="sbml", feature=f"package {package}")
        _check_function_sizes(model)  # before libsbml's validator expands them
        doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, False)
        doc.setConsistencyChecks(libsbml.LIBSBML_CAT_MODELING_PRACTICE, False)
        doc.setConsistencyChecks(libsbml.LIBSBML_CAT_SBO_CONSISTENCY, False)
        doc.checkConsistency()
        fatal = []
        for i in range(doc.getNumErrors()):
            err = doc.getError(i)
            if err.getSeverity() < libsbml.LIBSBML_SEV_ERROR:
                continue
            if err.getErrorId() in _HARMLESS_ERRORS:
                self.warnings.append("ignored (no effect on the numbers): "
                                     f"{' '.join(err.getMessage().split())[:200]}")
                continue
            package = err.getPackage() if hasattr(err, "getPackage") else "core"
            if package and package not in ("core", "") and package not in used:
                # a validation error confined to a package that has no effect on the
                # kinetics (layout, render, fbc, ...): warn, do not refuse
                self.warnings.append(f"SBML package '{package}' validation error ignored "
                                     f"(the package does not affect the kinetics): "
                                     f"{' '.join(err.getMessage().split())[:200]}")
                continue
            fatal.append(err)
        if fatal:
            raise ModelError(_describe(fatal[0], len(fatal)))
        return doc, model

    def _flatten_comp(self, doc):
        """Flatten a hierarchical (``comp``) model with libsbml's CompFlatteningConverter
        into one plain SBML model (submodels' ids get their prefixes)."""
        if doc.getLevel() < 3 or not doc.isPackageEnabled("comp"):
            return doc
        if self.path:  # external model definitions are resolved relative to the file
            doc.setLocationURI(Path(self.path).resolve().as_uri())
        props = libsbml.ConversionProperties()
        props.addOption("flatten comp", True)
        props.addOption("leave_ports", False)
        props.addOption("abortIfUnflattenable", "none")
        # libsbml validates before flattening; the caller has already rejected errors
        props.addOption("performValidation", False)
        status = doc.convert(props)
        if status != libsbml.LIBSBML_OPERATION_SUCCESS:
            errors = [doc.getError(i) for i in range(doc.getNumErrors())
                      if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
            reason = _describe(errors[0], len(errors)) if errors else f"status {status}"
            raise UnsupportedFeature(f"comp: libsbml could not flatten this hierarchical "
                                     f"model ({reason})", element="sbml", feature="package comp")
        flat = libsbml.readSBMLFromString(libsbml.writeSBMLToString(doc))
        if flat.getModel() is None:
            raise ModelError("comp: the flattened model is empty")
        self.sbml_text = libsbml.writeSBMLToString(flat)
        self.warnings.append("hierarchical model (comp) flattened with libsbml")
        return flat

    # ------------------------------------------------------------------ main
    def read(self) -> ReactionNetwork:
        doc, model = self._document()
        self.model = model
        self._reject_unsupported(model)
        self._read_functions(model)
        comps, species = self._read_containers(model)
        rules, rate_rules_raw, algebraic_raw, fast_ids = self._read_rules(model, species)
        local_params, reaction_laws = self._read_laws(model)
        stoich_ref_ids, initial_assignments = self._read_references(model, species)

        rules, reaction_laws, initial_assignments, algebraic_raw = self._with_derivatives(
            model, species, rules, rate_rules_raw, fast_ids, reaction_laws,
            initial_assignments, algebraic_raw)
        algebraic_vars = self._algebraic_variables(model, algebraic_raw, rules, rate_rules_raw,
                                                   stoich_ref_ids, fast_ids)

        initial, stoich_math_names = self._initial_values(
            model, comps, species, stoich_ref_ids, local_params, algebraic_vars,
            rate_rules_raw, rules, initial_assignments, reaction_laws)
        self.stoich_math_names = stoich_math_names
        state_species, parameters = self._parameters(
            model, comps, species, rules, reaction_laws, initial_assignments, initial,
            local_params, stoich_ref_ids)

        # --- resolve assignment rules and reaction-id symbols into amount-semantics trees
        resolved = _resolve(rules, reaction_laws)

        def final(e: ex.Expr) -> ex.Expr:
            return ex.substitute(e, resolved)

        self.final = final
        variable_stoich = self._variable_stoichiometry(
            model, parameters, rate_rules_raw, algebraic_vars, rules, resolved,
            stoich_ref_ids, initial, stoich_math_names)

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
        fast: list[FastReaction] = []
        for r in model.getListOfReactions():
            rid = r.getId()
            reactants = self._refs(r.getListOfReactants(), initial, rid, rules)
            products = self._refs(r.getListOfProducts(), initial, rid, rules)
            modifiers = tuple(m.getSpecies() for m in r.getListOfModifiers())
            rate = final(reaction_laws[rid])
            self._check_symbols(rate, rid, state_species, parameters)
            if rid in fast_ids:
                self._check_fast_stoichiometry(model, r, variable_stoich, rate_rules_raw)
                net_change: dict[str, float] = {}
                for sid, nu in [(a, -b) for a, b in reactants] + list(products):
                    sp = species[sid]
                    if not (sp.getBoundaryCondition() or sp.getConstant()):
                        net_change[sid] = net_change.get(sid, 0.0) + nu * conversion.get(sid, 1.0)
                fast.append(FastReaction(rid, rate, tuple(net_change.items())))
                continue
            values = {p.id: p.value for p in parameters}
            channels = _split_reversible(rid, r.getName() or rid, reactants, products, modifiers,
                                         rate, r.getReversible(), values, taken)
            reactions.extend(channels)
        roles = []
        for k, (key, (ref, _)) in enumerate(self.stoichiometry_math.items()):
            roles.append((stoich_math_names[key], key[0], key[1],
                          -1.0 if key[2] == "listOfReactants" else 1.0))
        for ref_id, ref in stoich_ref_ids.items():
            if ref_id not in dict((r[0], r) for r in roles):
                key = self._ref_key(ref)
                roles.append((ref_id, key[0], key[1],
                              -1.0 if key[2] == "listOfReactants" else 1.0))

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
            warnings=tuple(self.warnings), concentration_species=concentration_species,
            rate_rules=tuple((v, final(self.deriv[v])) for v in rate_rules_raw),
            algebraic_rules=tuple(final(g) for g in algebraic_raw),
            algebraic_variables=tuple(algebraic_vars), fast_reactions=tuple(fast),
            variable_stoichiometry=tuple(variable_stoich), species_references=tuple(roles),
            initial_history=tuple((v, final(e)) for v, e in initial_assignments.items()
                                  if ex.TIME in ex.symbols(e)))

    def _read_containers(self, model):
        """Compartments and species; the symbol -> amount-semantics map."""
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

        return comps, species

    def _read_rules(self, model, species):
        """Assignment rules (amount semantics), rate rules, algebraic rules, fast ids."""
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
        rate_rules_raw: dict[str, ex.Expr] = {}
        algebraic_raw: list[ex.Expr] = []
        for k, rule in enumerate(model.getListOfRules()):
            if rule.getMath() is None:
                continue
            if rule.isRate():
                var = rule.getVariable()
                rate_rules_raw[var] = self._math(rule.getMath(), f"rate rule for '{var}'")
            elif rule.isAlgebraic():
                algebraic_raw.append(self._math(rule.getMath(), f"algebraic rule {k + 1}"))
        fast_ids = {r.getId() for r in model.getListOfReactions()
                    if r.isSetFast() and r.getFast()}

        return rules, rate_rules_raw, algebraic_raw, fast_ids

    def _read_laws(self, model):
        """Kinetic laws with local parameters renamed ``<reaction>.<local>``."""
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

        return local_params, reaction_laws

    def _read_references(self, model, species):
        """Species-reference ids, stoichiometryMath trees and initial assignments."""
        # --- stoichiometry symbols and values
        stoich_ref_ids: dict[str, libsbml.SpeciesReference] = {}
        for r in model.getListOfReactions():
            for ref in list(r.getListOfReactants()) + list(r.getListOfProducts()):
                if ref.isSetId():
                    stoich_ref_ids[ref.getId()] = ref
                if ref.isSetStoichiometryMath() if hasattr(ref, "isSetStoichiometryMath") else False:
                    where = f"stoichiometryMath of '{ref.getSpecies()}' in reaction '{r.getId()}'"
                    math_expr = self._math(ref.getStoichiometryMath().getMath(), where)
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

        return stoich_ref_ids, initial_assignments

    def _initial_values(self, model, comps, species, stoich_ref_ids, local_params,
                        algebraic_vars, rate_rules_raw, rules, initial_assignments,
                        reaction_laws):
        """Every symbol's value at t = 0 (IA > rule > attribute)."""
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
        for var in algebraic_vars:
            definitions.setdefault(var, ex.ZERO)  # a start for the t=0 solve
        for var in rate_rules_raw:
            if var not in definitions and var not in initial_assignments:
                # no value anywhere (e.g. BioModels BIOMD0000000034): integrate from 0
                self.warnings.append(f"'{var}' has a rate rule but no initial value; "
                                     "0 is assumed")
                definitions[var] = ex.ZERO
        definitions.update(rules)
        definitions.update(initial_assignments)
        initial = _evaluate_definitions(definitions, reaction_laws, self.species_value)
        self.stoichiometry_values = {k: initial[name] for k, name in stoich_math_names.items()}

        return initial, stoich_math_names

    def _parameters(self, model, comps, species, rules, reaction_laws, initial_assignments,
                    initial, local_params, stoich_ref_ids):
        """Constant-valued symbols: compartments, globals, locals, stoichiometries."""
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

        return state_species, parameters

    def _with_derivatives(self, model, species, rules, rate_rules_raw, fast_ids,
                          reaction_laws, initial_assignments, algebraic_raw):
        """Rate rules in amount semantics (``self.deriv``) and every ``rateOf()``
        replaced by its time derivative."""
        self.rules_raw, self.reaction_laws_raw = rules, reaction_laws
        self.deriv = self._derivatives(model, species, rules, rate_rules_raw, fast_ids)
        self.rate_of = {}
        maths = [*rules.values(), *reaction_laws.values(), *initial_assignments.values(),
                 *self.deriv.values(), *algebraic_raw]
        for m in maths:
            for name in ex.symbols(m):
                if name.startswith(RATE_OF):
                    self.rate_of[name] = self._rate_of(name[len(RATE_OF):])
        rules = {k: self._sub_rate_of(v) for k, v in rules.items()}
        reaction_laws = {k: self._sub_rate_of(v) for k, v in reaction_laws.items()}
        initial_assignments = {k: self._sub_rate_of(v) for k, v in initial_assignments.items()}
        self.deriv = {k: self._sub_rate_of(v) for k, v in self.deriv.items()}
        algebraic_raw = [self._sub_rate_of(g) for g in algebraic_raw]
        return rules, reaction_laws, initial_assignments, algebraic_raw

    def _variable_stoichiometry(self, model, parameters, rate_rules_raw, algebraic_vars,
                                rules, resolved, stoich_ref_ids, initial,
                                stoich_math_names) -> list:
        """(id, tree, value at t=0) of stoichiometries set by a rule or stoichiometryMath
        that uses anything not constant."""
        final = self.final
        constant_names = {p.id for p in parameters if p.kind == "local"}
        constant_names |= {p.getId() for p in model.getListOfParameters() if p.getConstant()}
        constant_names |= {c.getId() for c in model.getListOfCompartments() if c.getConstant()}
        constant_names -= set(rate_rules_raw) | set(algebraic_vars) | {
            ea.getVariable() for e in model.getListOfEvents()
            for ea in e.getListOfEventAssignments()}
        variable_stoich = []
        for var in rules:
            if var in stoich_ref_ids and not ex.symbols(resolved[var]) <= constant_names:
                variable_stoich.append((var, resolved[var], float(initial[var])))
        for key, (ref, math_expr) in self.stoichiometry_math.items():
            if not ex.symbols(math_expr) <= constant_names:
                variable_stoich.append((stoich_math_names[key], final(math_expr),
                                        float(self.stoichiometry_values[key])))

        return variable_stoich

    def _check_fast_stoichiometry(self, model, r, variable_stoich, rate_rules_raw) -> None:
        """A fast reaction's stoichiometry must stay constant (its equilibrium manifold is
        built once)."""
        changing = {v for v, _, _ in variable_stoich} | set(rate_rules_raw) | {
            ea.getVariable() for e in model.getListOfEvents()
            for ea in e.getListOfEventAssignments()}
        for ref in list(r.getListOfReactants()) + list(r.getListOfProducts()):
            key = self._ref_key(ref)
            if (ref.isSetId() and ref.getId() in changing) or (
                    key in self.stoichiometry_math and
                    self.stoich_math_names.get(key) in changing):
                raise UnsupportedFeature(
                    f"fast reaction '{r.getId()}' has a stoichiometry that changes during "
                    "the simulation; fast reactions need constant stoichiometry",
                    element=r.getId(), feature="FastReaction with variable stoichiometry")

    # ------------------------------------------------------------------ pieces
    def _reject_unsupported(self, model) -> None:
        for rule in model.getListOfRules():
            if rule.getMath() is None and not rule.isAssignment():
                what = "rate" if rule.isRate() else "algebraic"
                self.warnings.append(f"{what} rule for '{rule.getVariable()}' has no math and "
                                     "is ignored")
        if model.getNumConstraints():
            self.warnings.append(f"{model.getNumConstraints()} constraint(s) ignored")

    # ------------------------------------------------------------------ derivatives
    def _derivatives(self, model, species, rules, rate_rules_raw, fast_ids) -> dict:
        """d/dt of every variable that changes continuously, in amount semantics and in
        terms of file symbols (reaction ids stand for their rates): species changed by
        reactions, and rate-rule targets (a concentration species' rule
        ``d[S]/dt = f`` becomes ``d n/dt = V f + [S] dV/dt``)."""
        deriv: dict[str, ex.Expr] = {}
        model_cf = model.getConversionFactor() if hasattr(model, "getConversionFactor") else ""
        for r in model.getListOfReactions():
            rid = r.getId()
            for sign, refs in ((-1.0, r.getListOfReactants()), (1.0, r.getListOfProducts())):
                for ref in refs:
                    sid = ref.getSpecies()
                    sp = species.get(sid)
                    if sp is None or sp.getBoundaryCondition() or sp.getConstant() \
                            or sid in rules or sid in rate_rules_raw:
                        continue
                    if rid in fast_ids:
                        continue  # held at equilibrium; no explicit rate
                    key = self._ref_key(ref)
                    if key in self.stoichiometry_math:
                        nu = self.stoichiometry_math[key][1]
                    elif ref.isSetId():
                        nu = ex.Sym(ref.getId())
                    else:
                        nu = ex.Num(ref.getStoichiometry() if ref.isSetStoichiometry() else 1.0)
                    cf = sp.getConversionFactor() if hasattr(sp, "getConversionFactor") and \
                        sp.isSetConversionFactor() else model_cf
                    term = ex.mul(ex.Num(sign), nu, ex.Sym(rid), *((ex.Sym(cf),) if cf else ()))
                    deriv[sid] = ex.add(deriv[sid], term) if sid in deriv else term
        for var, f in rate_rules_raw.items():
            if var not in species:
                deriv[var] = f
        self.deriv = deriv
        for var, f in rate_rules_raw.items():
            if var in species and not self._is_amount_valued(species[var]):
                comp = ex.Sym(species[var].getCompartment())
                # d(V c)/dt = V dc/dt + c dV/dt with c = n / V
                d_comp = self._time_derivative(comp)
                deriv[var] = ex.add(ex.mul(comp, f),
                                    ex.mul(ex.div(ex.Sym(var), comp), d_comp))
            elif var in species:
                deriv[var] = f
        return deriv

    def _time_derivative(self, expr: ex.Expr, depth: int = 0) -> ex.Expr:
        """d expr / dt by the chain rule over the model's continuously changing symbols."""
        if depth > 50:
            raise UnsupportedFeature("rateOf(): derivative chain deeper than 50 rules",
                                     feature="rateOf")
        terms = []
        for name in ex.symbols(expr):
            rate: ex.Expr
            if name == ex.TIME:
                rate = ex.ONE
            elif name.startswith(RATE_OF):
                raise UnsupportedFeature(f"rateOf() of an expression containing rateOf("
                                         f"{name[len(RATE_OF):]}) (a second derivative) is "
                                         "not supported", element=name[len(RATE_OF):],
                                         feature="rateOf")
            elif name in self.deriv:
                rate = self.deriv[name]
            elif name in self.rules_raw:
                rate = self._time_derivative(self.rules_raw[name], depth + 1)
            elif name in self.reaction_laws_raw:
                rate = self._time_derivative(self.reaction_laws_raw[name], depth + 1)
            else:
                continue  # constant between events
            if rate == ex.ZERO:
                continue
            if _has_delay(expr):
                raise UnsupportedFeature("rateOf() of an expression with delay() is not "
                                         "supported", feature="rateOf")
            terms.append(ex.mul(ex.diff(expr, name), rate))
        return ex.add(*terms) if terms else ex.ZERO

    def _rate_of(self, target: str) -> ex.Expr:
        """rateOf(target) as a tree: the derivative of the value the symbol has in the
        file (a concentration for a concentration species)."""
        if target in self.sbml_species:
            return self._time_derivative(self.species_value[target])
        return self._time_derivative(ex.Sym(target))

    def _sub_rate_of(self, expr: ex.Expr) -> ex.Expr:
        expr = _rate_of_in_delay(expr)
        for _ in range(10):
            names = [n for n in ex.symbols(expr) if n.startswith(RATE_OF)]
            if not names:
                return expr
            for n in names:
                if n not in self.rate_of:
                    self.rate_of[n] = self._rate_of(n[len(RATE_OF):])
            expr = ex.substitute(expr, {n: self.rate_of[n] for n in names})
        raise UnsupportedFeature("rateOf() definitions refer to each other in a cycle",
                                 feature="rateOf")

    def _algebraic_variables(self, model, algebraic, rules, rate_rules, stoich_refs,
                             fast_ids) -> list[str]:
        """The variable each algebraic rule determines: a maximum bipartite matching
        between rules and the non-constant symbols that nothing else determines
        (not set by a rule, not changed by a non-fast reaction)."""
        if not algebraic:
            return []
        import networkx as nx

        changed_by_reactions = set()
        for r in model.getListOfReactions():
            for ref in list(r.getListOfReactants()) + list(r.getListOfProducts()):
                sp = self.sbml_species.get(ref.getSpecies())
                if sp is not None and not sp.getBoundaryCondition():
                    changed_by_reactions.add(ref.getSpecies())
        free = set()
        for sid, sp in self.sbml_species.items():
            if not sp.getConstant() and sid not in changed_by_reactions:
                free.add(sid)
        for c in model.getListOfCompartments():
            if not c.getConstant():
                free.add(c.getId())
        for p in model.getListOfParameters():
            if not p.getConstant():
                free.add(p.getId())
        for ref_id, ref in stoich_refs.items():
            if model.getLevel() >= 3 and not ref.getConstant():
                free.add(ref_id)
        free -= set(rules) | set(rate_rules)

        def used(expr, seen=()):
            out = set()
            for n in ex.symbols(expr):
                if n in rules and n not in seen:
                    out |= used(rules[n], (*seen, n))
                else:
                    out.add(n)
            return out

        # prefer variables nothing else touches: no initial value, not assigned by events
        event_targets = {ea.getVariable() for e in model.getListOfEvents()
                         for ea in e.getListOfEventAssignments()}
        valued = set()
        for sid, sp in self.sbml_species.items():
            if sp.isSetInitialAmount() or sp.isSetInitialConcentration():
                valued.add(sid)
        valued |= {p.getId() for p in model.getListOfParameters() if p.isSetValue()}
        valued |= {c.getId() for c in model.getListOfCompartments() if c.isSetSize()}
        valued |= {ia.getSymbol() for ia in model.getListOfInitialAssignments()}
        graph = nx.Graph()
        rule_nodes = [("rule", k) for k in range(len(algebraic))]
        graph.add_nodes_from(rule_nodes)
        for k, g in enumerate(algebraic):
            for n in sorted(used(g) & free):
                boundary = n in self.sbml_species and \
                    self.sbml_species[n].getBoundaryCondition()
                weight = 1.0 + (n not in valued) + 0.5 * (n not in event_targets) \
                    + 0.25 * (not boundary)
                graph.add_edge(("rule", k), ("var", n), weight=weight)
        pairs = nx.max_weight_matching(graph, maxcardinality=True)
        matching = {}
        for a, b in pairs:
            rule, var = (a, b) if a[0] == "rule" else (b, a)
            matching[rule] = var
        unmatched = [k for k in range(len(algebraic)) if ("rule", k) not in matching]
        if unmatched:
            raise UnsupportedFeature(
                f"algebraic rule {unmatched[0] + 1} determines no variable that is not already "
                "set otherwise (the system is overdetermined or not of index 1)",
                element=f"algebraicRule {unmatched[0] + 1}", feature="AlgebraicRule")
        return [matching[("rule", k)][1] for k in range(len(algebraic))]

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
            _check_depth(body_node, f"function '{fd.getId()}'")
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
        _check_depth(node, where)
        raw = _ast_to_expr(node, self.functions, local_map or {}, where)
        if ex.depth(raw) > MAX_MATH_DEPTH:
            raise ModelError(f"{where}: math nested deeper than {MAX_MATH_DEPTH} levels "
                             "(after inlining function definitions)")
        if ex.tree_size(raw, MAX_MATH_SIZE) > MAX_MATH_SIZE:
            raise ModelError(f"{where}: math expands to more than {MAX_MATH_SIZE:,} terms "
                             "once function definitions are inlined (too large)")
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
            def fin(node, where):
                return final(self._sub_rate_of(self._math(node, where)))
            trigger = fin(trig.getMath(), f"trigger of event '{eid}'")
            assigns = []
            scales = []
            for ea in e.getListOfEventAssignments():
                var = ea.getVariable()
                if ea.getMath() is None:  # L3V2: no math, no effect
                    continue
                value = fin(ea.getMath(), f"event '{eid}' assignment to '{var}'")
                scale = None
                if var in species and not self._is_amount_valued(species[var]):
                    scale = species[var].getCompartment()
                    value = ex.mul(value, ex.Sym(scale))
                assigns.append((var, value))
                scales.append(scale)
            priority = None
            if e.isSetPriority() and e.getPriority().getMath() is not None:
                priority = fin(e.getPriority().getMath(), f"priority of event '{eid}'")
            delay = None
            if e.isSetDelay() and e.getDelay().getMath() is not None:
                delay = fin(e.getDelay().getMath(), f"delay of event '{eid}'")
            initial_value = trig.getInitialValue() if trig.isSetInitialValue() else True
            persistent = trig.getPersistent() if trig.isSetPersistent() else True
            events.append(Event(eid, trigger, tuple(assigns), bool(initial_value),
                                bool(persistent), priority,
                                bool(e.getUseValuesFromTriggerTime()), delay,
                                tuple(scales)))
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
_DELAY_URL = "http://www.sbml.org/sbml/symbols/delay"
_RATE_OF_URL = "http://www.sbml.org/sbml/symbols/rateOf"

#: MathML element name -> operator: the ``mathml`` column of ``expr.OPERATOR_TABLE``
#: (``log``/``root`` with their qualifiers, ``implies`` and the n-ary relations are
#: rewritten in :func:`_ast_to_expr`)
_NAMED_FUNCS = ex.MATHML_NAMES
_CONSTANTS = {"pi": math.pi, "exponentiale": math.e, "true": 1.0, "false": 0.0,
              "avogadro": SBML_AVOGADRO, "infinity": math.inf, "notanumber": math.nan}


#: deepest MathML nesting translated (deeper: ModelError, before any recursion); code
#: generation and Python's compiler recurse once or twice per level
MAX_MATH_DEPTH = 200
#: largest expression (as a written-out tree, after inlining functions) translated
MAX_MATH_SIZE = 1_000_000


def _check_function_sizes(model) -> None:
    """Refuse function definitions that expand to more than :data:`MAX_MATH_SIZE` terms
    when inlined (e.g. f_k(x) = f_(k-1)(x) + f_(k-1)(x): 2^k terms). The size of each
    body is counted with every call replaced by the callee's size, in one pass over the
    definitions, so the count itself never expands anything."""
    sizes: dict[str, float] = {}
    for fd in model.getListOfFunctionDefinitions():
        lam = fd.getMath()
        if lam is None:
            continue
        total = 0.0
        stack = [lam.getChild(lam.getNumChildren() - 1)] if lam.getNumChildren() else []
        while stack:
            node = stack.pop()
            name = node.getName()
            total += sizes.get(name, 1.0) if node.isUserFunction() else 1.0
            stack.extend(node.getChild(i) for i in range(node.getNumChildren()))
        sizes[fd.getId()] = total
        if total > MAX_MATH_SIZE:
            raise ModelError(f"function definition '{fd.getId()}' expands to more than "
                             f"{MAX_MATH_SIZE:,} terms when its calls are inlined (too large)")


def _check_depth(node, where: str) -> None:
    """Refuse MathML nested deeper than :data:`MAX_MATH_DEPTH` (iterative walk, so the
    check itself cannot overflow the stack)."""
    stack = [(node, 1)]
    while stack:
        item, d = stack.pop()
        if d > MAX_MATH_DEPTH:
            raise ModelError(f"{where}: math nested deeper than {MAX_MATH_DEPTH} levels")
        chain = item.getCharacter() if item.isOperator() and \
            item.getCharacter() in "+*" else None
        for i in range(item.getNumChildren()):
            child = item.getChild(i)
            # a chain of the same sum/product is one n-ary operation (no extra depth)
            same = chain is not None and child.isOperator() and child.getCharacter() == chain
            stack.append((child, d if same else d + 1))


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
            return ex.Num(SBML_AVOGADRO)
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
    csymbol = hasattr(node, "isCSymbolFunction") and node.isCSymbolFunction()
    if csymbol or url in (_DELAY_URL, _RATE_OF_URL):
        node_type = node.getType()
        is_delay = url == _DELAY_URL or (isinstance(node_type, int) and
                                         node_type == libsbml.AST_FUNCTION_DELAY)
        if not is_delay:  # the only other csymbol function of SBML L3V2 is rateOf; its
            # text (name) may be anything (SBML Test Suite cases 01321, 01322)
            if len(kids) != 1 or not kids[0].isName():
                raise ModelError(f"{where}: rateOf() takes one identifier")
            target = kids[0].getName()
            return ex.Sym(RATE_OF + local_map.get(target, target))
        else:
            args = [conv(k) for k in kids]
            _arity(where, "delay", args, 2)
            return ex.Apply("delay", tuple(args))
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
    if node.isOperator() and node.getCharacter() in "+*":
        # libsbml reads an n-ary sum/product as a left-deep chain of binary nodes:
        # collect the operands iteratively so a long sum does not recurse per term
        char = node.getCharacter()
        leaves, stack = [], [node]
        while stack:
            item = stack.pop()
            if item.isOperator() and item.getCharacter() == char:
                stack.extend(item.getChild(i) for i in range(item.getNumChildren() - 1, -1, -1))
            else:
                leaves.append(item)
        args = [conv(k) for k in leaves]
        return (ex.add(*args) if args else ex.ZERO) if char == "+" else \
            (ex.mul(*args) if args else ex.ONE)
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


def _rate_of_in_delay(expr: ex.Expr, inside: bool = False) -> ex.Expr:
    """Inside ``delay(e, tau)``, ``rateOf(X)`` reads the history, which is constant before
    t = 0: replace it by ``piecewise(rateOf(X), time >= 0, 0)``."""
    if isinstance(expr, ex.Sym):
        if inside and expr.name.startswith(RATE_OF):
            return ex.Apply("piecewise", (expr, ex.Apply("geq", (ex.Sym(ex.TIME), ex.ZERO)),
                                          ex.ZERO))
        return expr
    if isinstance(expr, ex.Apply):
        if expr.op == "delay":
            return ex.Apply("delay", (_rate_of_in_delay(expr.args[0], True),
                                      _rate_of_in_delay(expr.args[1], inside)))
        if not any(isinstance(a, ex.Apply) or (isinstance(a, ex.Sym) and inside)
                   for a in expr.args):
            return expr
        return ex.Apply(expr.op, tuple(_rate_of_in_delay(a, inside) for a in expr.args))
    return expr


def _has_delay(expr: ex.Expr) -> bool:
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ex.Apply):
            if node.op == "delay":
                return True
            stack.extend(node.args)
    return False


def _split_reversible(rid, name, reactants, products, modifiers, rate, reversible, values,
                      taken) -> list[Reaction]:
    """One channel, or a forward/reverse pair when a reversible law splits (the rule is
    :func:`sbmlnoise.kinetics.reversible_channels`)."""
    state = {s for s, _ in reactants} | {s for s, _ in products} | set(modifiers)
    state |= {n for n in ex.symbols(rate) if n not in values and n != ex.TIME}
    channels = reversible_channels(rate, dict(_merge(reactants)), dict(_merge(products)),
                                   state, values, reversible)
    if len(channels) == 1:
        _, law, ma = channels[0]
        return [Reaction(rid, name, reactants, products, law, modifiers, reversible, rid,
                         "net", ma)]
    (_, fwd_law, fwd), (_, rev_law, rev) = channels
    fid, bid = _fresh(f"{rid}_fwd", taken), _fresh(f"{rid}_rev", taken)
    return [
        Reaction(fid, f"{name} (forward)", reactants, products, fwd_law, modifiers, True, rid,
                 "forward", fwd),
        Reaction(bid, f"{name} (reverse)", products, reactants, rev_law, modifiers, True, rid,
                 "reverse", rev),
    ]


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
