"""The date model's phrases: the character tables and the generator of (phrase, ISO date)
pairs that tools/dates/train.py trains on and holds out, and that tools/dates/threshold.py
calibrates the answer check with. Standard library only (no torch), so CI can run it."""

import datetime
import random

# ----------------------------------------------------------------------------- tokenizer
PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"]
SRC_CHARS = " ',-./0123456789abcdefghijklmnopqrstuvwxyz"
TGT_CHARS = "-0123456789"
SRC_VOCAB = len(SPECIALS) + len(SRC_CHARS)
TGT_VOCAB = len(SPECIALS) + len(TGT_CHARS)
MAX_SRC = 48          # characters of a phrase
TGT_LEN = 10          # "YYYY-MM-DD"
MAX_TGT = 12          # decoder positions: bos + 10 characters (+ one spare)

SRC_ID = {c: i + len(SPECIALS) for i, c in enumerate(SRC_CHARS)}
TGT_ID = {c: i + len(SPECIALS) for i, c in enumerate(TGT_CHARS)}


def encode_src(text):
    return [SRC_ID.get(c, UNK) for c in text.lower()]


def encode_tgt(text):
    return [TGT_ID[c] for c in text]


def decode_tgt(ids):
    out = []
    for i in ids:
        if i == EOS:
            break
        out.append(TGT_CHARS[i - len(SPECIALS)] if i >= len(SPECIALS) else "?")
    return "".join(out)


# ----------------------------------------------------------------------------- the data
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"]
MONTH_ABBR = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
              "nov", "dec"]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAY_ABBR = [["mon"], ["tue", "tues"], ["wed"], ["thu", "thur", "thurs"], ["fri"],
                ["sat"], ["sun"]]
UNITS = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
UNIT_ORD = ["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh",
            "eighth", "ninth"]
TEEN_ORD = ["tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth",
            "sixteenth", "seventeenth", "eighteenth", "nineteenth"]
FIRST_DAY = datetime.date(1950, 1, 1)
LAST_DAY = datetime.date(2049, 12, 31)


def ordinal_suffix(d):
    if 10 <= d % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")


def ordinal_word(d, r):
    if d < 10:
        return UNIT_ORD[d]
    if d < 20:
        return TEEN_ORD[d - 10]
    tens = {2: "twenty", 3: "thirty"}[d // 10]
    if d % 10 == 0:
        return tens[:-1] + "ieth"                      # twentieth, thirtieth
    return tens + r.choice(["-", " "]) + UNIT_ORD[d % 10]


def day_text(d, r):
    k = r.random()
    if k < 0.25:
        return str(d)
    if k < 0.35:
        return "%02d" % d
    if k < 0.7:
        return str(d) + ordinal_suffix(d)
    return ordinal_word(d, r)


def month_text(m, r):
    k = r.random()
    if k < 0.5:
        return MONTHS[m - 1]
    abbr = "sept" if m == 9 and r.random() < 0.3 else MONTH_ABBR[m - 1]
    return abbr + "." if k < 0.65 and m != 5 else abbr


def year_text(y, r):
    return "'%02d" % (y % 100) if r.random() < 0.12 else str(y)


def weekday_text(date, r):
    w = date.weekday()
    name = WEEKDAYS[w] if r.random() < 0.5 else r.choice(WEEKDAY_ABBR[w])
    return name + r.choice([", ", " "])


def numeric_phrase(date, r):
    y, m, d = date.year, date.month, date.day
    k = r.random()
    two = lambda n: "%02d" % n
    pad = lambda n: two(n) if r.random() < 0.5 else str(n)
    if k < 0.3:
        return "%d%s%s%s%s" % (y, *(lambda s: (s, two(m), s, two(d)))(r.choice("-/")))
    if k < 0.65:
        year = str(y) if r.random() < 0.5 else two(y % 100)
        return "%s/%s/%s" % (pad(m), pad(d), year)
    if k < 0.75:
        return "%s-%s-%d" % (pad(m), pad(d), y)
    year = str(y) if r.random() < 0.5 else two(y % 100)
    return "%s.%s.%s" % (pad(d), pad(m), year)


def text_phrase(date, r):
    day, month, year = day_text(date.day, r), month_text(date.month, r), year_text(date.year, r)
    comma = r.choice([",", ""])
    k = r.random()
    if k < 0.4:                                         # 28th (of) november(,) 2026
        the = "the " if r.random() < 0.2 else ""
        of = " of" if r.random() < 0.4 else ""
        body = "%s%s%s %s%s %s" % (the, day, of, month, comma, year)
    elif k < 0.85:                                      # november (the) 28th(,) 2026
        the = "the " if r.random() < 0.15 else ""
        body = "%s %s%s%s %s" % (month, the, day, comma, year)
    else:                                               # 28-nov-2026, 28 nov 26
        sep = r.choice(["-", " "])
        abbr = MONTH_ABBR[date.month - 1]
        yr = str(date.year) if r.random() < 0.5 else "%02d" % (date.year % 100)
        body = "%s%s%s%s%s" % ("%02d" % date.day if r.random() < 0.5 else str(date.day),
                               sep, abbr, sep, yr)
    if r.random() < 0.35:
        body = weekday_text(date, r) + body
    return body


def apply_case(text, r):
    k = r.random()
    if k < 0.55:
        return text
    if k < 0.8:
        return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))
    if k < 0.95:
        return text.upper()
    return "".join(c.upper() if r.random() < 0.5 else c for c in text)


def random_date(r):
    span = (LAST_DAY - FIRST_DAY).days
    return FIRST_DAY + datetime.timedelta(days=r.randint(0, span))


def phrase(r):
    """One (phrase, ISO date) pair; the date is drawn first, the phrase written from it."""
    while True:
        date = random_date(r)
        text = numeric_phrase(date, r) if r.random() < 0.3 else text_phrase(date, r)
        text = apply_case(text, r)
        if len(text) <= MAX_SRC:
            return text, date.isoformat()


def make_sets(train_size, heldout_size, train_seed, heldout_seed):
    r = random.Random(heldout_seed)
    heldout, seen = [], set()
    while len(heldout) < heldout_size:
        p = phrase(r)
        if p[0] not in seen:
            seen.add(p[0])
            heldout.append(p)
    r = random.Random(train_seed)
    train = []
    while len(train) < train_size:
        p = phrase(r)
        if p[0] not in seen:                            # never a held-out phrase
            train.append(p)
    return train, heldout
