"""Human-written dates → ISO 8601, generated with seeds (the seq2seq recipes' data).

    from recipes.data import dates
    sources, targets = dates.load("train")      # ["dimanche 22 novembre 2026", ...], ["2026-11-22", ...]
    dates.describe(sources[0])                  # nothing else is needed: the target is exact

Each example is a day between 1950-01-01 and 2049-12-31 written by Babel (CLDR month and day
names) in one of 12 locales and one of the locale's formats (CLDR short/medium/long/full plus
a few hand patterns), sometimes lower- or upper-cased. Days are split by a hash: a test day
never appears in training, in any format. Two-digit years follow one pivot (00–49 → 20xx,
50–99 → 19xx) and the only month-first numeric format (en_US short "11/22/26") is left out,
so every input has exactly one reading.
"""

import datetime
import hashlib

import numpy as np

from recipes.data import kinds

FIRST_DAY, LAST_DAY = datetime.date(1950, 1, 1), datetime.date(2049, 12, 31)
LOCALES = ("en_US", "en_GB", "fr_FR", "de_DE", "es_ES", "it_IT", "pt_BR", "nl_NL", "sv_SE", "pl_PL", "tr_TR", "id_ID")
# CLDR's named formats, and patterns that write every field (Babel/LDML pattern syntax).
FORMATS = ("short", "medium", "long", "full", "d MMM y", "EEEE d MMMM y", "EEE, d MMM y", "MMMM d, y", "dd.MM.y", "y/MM/dd")
SPLITS = {"train": 50_000, "test": 5_000}
TEST_DAY_SHARE = 10  # one day in 10 (by hash) belongs to the test split
INFO = {
    "name": "dates",
    "kind": "text",
    "splits": dict(SPLITS),
    "description": f"Dates from {FIRST_DAY} to {LAST_DAY} written by Babel in {len(LOCALES)} locales × "
    f"{len(FORMATS)} formats (random case), target ISO 8601; test days never seen in training.",
    "license": "generated (CC0); month and day names from the Unicode CLDR via Babel (Unicode license)",
}


def _is_test_day(day):
    return int(hashlib.sha256(day.isoformat().encode()).hexdigest(), 16) % TEST_DAY_SHARE == 0


def _days(split):
    span = (LAST_DAY - FIRST_DAY).days + 1
    days = [FIRST_DAY + datetime.timedelta(k) for k in range(span)]
    return [day for day in days if _is_test_day(day) == (split == "test")]


def write(day, locale, form):
    """`day` written in `locale` with a CLDR format name or LDML pattern."""
    from babel.dates import format_date

    return format_date(day, form, locale=locale)


def load(split="train", seed=0, limit=None):
    """(sources, targets): lists of human-written dates and their ISO 8601 forms, one per example.

    Same split and seed, same lists on every machine. `limit` keeps the first N examples.
    """
    count = SPLITS[kinds.check_split(split)]
    count = count if limit is None else min(int(limit), count)
    rng = np.random.default_rng([seed, list(SPLITS).index(split)])
    days = _days(split)
    sources, targets = [], []
    while len(sources) < count:
        day = days[rng.integers(len(days))]
        locale, form = LOCALES[rng.integers(len(LOCALES))], FORMATS[rng.integers(len(FORMATS))]
        if locale == "en_US" and form == "short":  # month first: "11/12/26" would be ambiguous
            continue
        text = write(day, locale, form)
        case = rng.integers(4)  # as written, as written, lower, upper
        sources.append(text.lower() if case == 2 else text.upper() if case == 3 else text)
        targets.append(day.isoformat())
    return sources, targets


class Dates(kinds.TextPairs):
    def info(self):
        return dict(INFO, splits=dict(SPLITS))

    def _load(self, split, seed, limit, source, data_dir):
        return load(split, seed, limit)


DATASETS = [Dates(INFO["name"])]
