"""Which backend parameters a caller may pass through: (backend, name, type) -> refusal or None.

A caller's ``params`` reach the solver only if this policy accepts them. The rules, in order:

1. Free-text parameters are refused unless reviewed: a string-typed parameter is accepted only
   when it is listed in ``REVIEWED_STRINGS`` for its backend. Every listed one is an
   enumeration that the solver itself validates (SCIP ``char`` parameters and our named
   settings, protobuf enum fields of CP-SAT, GLOP and PDLP, four HiGHS option choices). A
   string parameter can name a file, a directory, a library to load or a settings prefix, so
   nothing unreviewed is let through, whatever its name.
2. Parameters that steer files, logs or output are refused whatever their type: a name with a
   component such as ``file``, ``dir``, ``path``, ``log``, ``output``, ``print``, ``dump``,
   ``write``, ``visual`` or ``display`` (components are split at ``/``, ``_`` and ``.``), or a
   SCIP group that only reads, writes or displays (``reading/``, ``write/``, ``visual/``,
   ``display/``).
3. Debugging switches (``debug`` component) are refused: some abort the process.
4. Limits the server caps through its own options are refused: time and memory limits, thread
   and worker counts, and SCIP's ``concurrent/`` and ``parallel/`` groups (set ``time_limit``
   and ``threads`` instead).

The CLI's ``--unsafe-params`` (local use only) skips this policy; the server has no such switch.
"""

from __future__ import annotations

import re

# Rule 1: reviewed enumerations, per backend. Anything else string-typed is refused.
_SCIP_ENUMS = frozenset(
    {
        # our named settings (service/solvers/scip.py: NAMED_SETTINGS)
        "emphasis",
        "heuristics",
        "presolving",
        "separating",
        # SCIP char parameters: one letter out of a fixed set, checked by SCIP
        "branching/scorefunc",
        "branching/lpgainnormalize",
        "branching/firstsbchild",
        "branching/treemodel/highrule",
        "branching/treemodel/lowrule",
        "branching/treemodel/filterhigh",
        "branching/treemodel/filterlow",
        "branching/treemodel/fallbackinf",
        "branching/treemodel/fallbacknoprim",
        "branching/pscost/strategy",
        "branching/distribution/scoreparam",
        "branching/lookahead/scoringfunction",
        "branching/lookahead/deeperscoringfunction",
        "branching/lookahead/scoringscoringfunction",
        "conflict/useinflp",
        "conflict/useboundlp",
        "conflict/reduction",
        "lp/initalgorithm",
        "lp/resolvealgorithm",
        "lp/pricing",
        "nodeselection/childsel",
        "reoptimization/varorderinterdiction",
        "separating/orthofunc",
        "separating/efficacynorm",
        "separating/cutselrestart",
        "separating/cutselsubscip",
        "constraints/nonlinear/varboundrelax",
        "constraints/nonlinear/rownotremovable",
        "constraints/nonlinear/violscale",
        "constraints/nonlinear/checkvarlocks",
        "constraints/nonlinear/branching/scoreagg",
        "constraints/nonlinear/branching/violsplit",
        "constraints/nonlinear/linearizeheursol",
        "constraints/SOS1/branchingrule",
        "presolving/sparsify/rowsort",
        "estimation/restarts/restartpolicy",
        "estimation/method",
        "estimation/completiontype",
        "solvingphases/transitionmethod",
        "solvingphases/xtype",
        "heuristics/shiftandpropagate/sortkey",
        "heuristics/scheduler/banditalgo",
        "heuristics/adaptivediving/scoretype",
        "heuristics/adaptivediving/seltype",
        "heuristics/farkasdiving/scaletype",
        "heuristics/nlpdiving/nlpstart",
        "heuristics/nlpdiving/varselrule",
        "heuristics/distributiondiving/scoreparam",
        "heuristics/rens/startsol",
        "heuristics/alns/banditalgo",
        "heuristics/gins/potential",
        "heuristics/lpface/subscipobjective",
        "heuristics/bound/bound",
        "heuristics/undercover/coveringobj",
        "heuristics/undercover/fixingorder",
        "cutselection/dynamic/filtermode",
        "benders/default/cutstrengthenintpoint",
    }
)
# protobuf enum fields (values checked against the enum's names)
_CPSAT_ENUMS = frozenset(
    {
        "preferred_variable_order",
        "initial_polarity",
        "minimization_algorithm",
        "binary_minimization_algorithm",
        "clause_cleanup_ordering",
        "max_sat_assumption_order",
        "max_sat_stratification",
        "search_branching",
        "shared_tree_split_strategy",
        "fp_rounding",
    }
)
_GLOP_ENUMS = frozenset(
    {
        "glop.scaling_method",
        "glop.feasibility_rule",
        "glop.optimization_rule",
        "glop.cost_scaling",
        "glop.initial_basis",
        "glop.solve_dual_problem",
    }
)
_PDLP_ENUMS = frozenset({"pdlp.scheduler_type", "pdlp.restart_strategy", "pdlp.linesearch_rule"})
# HiGHS string options that take one of a few words (checked by HiGHS)
_HIGHS_CHOICES = ("solver", "presolve", "parallel", "run_crossover")
# MathOpt's common emphasis / algorithm settings (service/solvers/mathopt.py)
_MATHOPT_NAMED = frozenset({"heuristics", "cuts", "scaling", "lp_algorithm"})
_MATHOPT_HIGHS = frozenset(f"highs.{k}" for k in _HIGHS_CHOICES)

REVIEWED_STRINGS: dict[str, frozenset[str]] = {
    "scip": _SCIP_ENUMS,
    "cpsat": _CPSAT_ENUMS,
    "highs": frozenset(_HIGHS_CHOICES),
    "ortools-highs": _MATHOPT_NAMED | _MATHOPT_HIGHS,
    "glop": _MATHOPT_NAMED | _GLOP_ENUMS,
    "pdlp": _MATHOPT_NAMED | _PDLP_ENUMS,
    "ortools-scip": _MATHOPT_NAMED,
    "fake": frozenset({"status"}),  # the scripted test backend: a status name
}

# Rule 2: components that name files or steer logs and output.
_OUTPUT_PARTS = frozenset(
    {
        "log",
        "logs",
        "output",
        "print",
        "dump",
        "export",
        "write",
        "visual",
        "display",
        "stdout",
        "stderr",
        "verbosity",
        "verblevel",
        "heurverblevel",
        "nlpverblevel",
    }
)
_FILE_PARTS = frozenset({"file", "files", "filename", "dir", "directory", "path", "lib", "prefix"})
_FILE_ENDINGS = ("filename", "optfile", "hsllib", "pardisolib", "setprefix", "setname")
_OUTPUT_GROUPS = ("reading/", "write/", "visual/", "display/")
# Rule 4: what the server's own options set and cap.
_CAPPED_PARTS = frozenset({"threads", "nthreads", "workers"})
_CAPPED_GROUPS = ("concurrent/", "parallel/")
_CAPPED_NAMES = frozenset(
    {
        "limits/time",
        "limits/softtime",
        "limits/memory",
        "max_time_in_seconds",
        "max_memory_in_mb",
        "glop.max_time_in_seconds",
        "time_limit",
    }
)
_SPLIT = re.compile(r"[/_.]")


def refusal(backend: str, name: str, typ: type) -> str | None:
    """Why a caller may not set parameter ``name`` (of type ``typ``) of ``backend``; None when
    it may. ``name`` is as the backend's parameter table spells it."""
    parts = [p.lower() for p in _SPLIT.split(name) if p]
    if _FILE_PARTS.intersection(parts) or any(p.endswith(_FILE_ENDINGS) for p in parts):
        return "names a file, directory or library"
    if name.startswith(_OUTPUT_GROUPS) or _OUTPUT_PARTS.intersection(parts):
        return "controls logging, display or file output"
    if "debug" in parts:
        return "is a debugging switch"
    if name in _CAPPED_NAMES or name.startswith(_CAPPED_GROUPS) or _CAPPED_PARTS & set(parts):
        return "is a time, memory or thread limit, which the server sets (time_limit, threads)"
    if typ is str and name not in REVIEWED_STRINGS.get(backend, frozenset()):
        return "is free text; only reviewed enumerations are accepted"
    return None


def allowed(backend: str, name: str, typ: type) -> bool:
    """True when a caller may set this parameter."""
    return refusal(backend, name, typ) is None
