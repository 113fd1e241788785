"""`olist-harness scale-data --factor N --out DIR`: an Olist-shaped folder N times the real size.

Writes the eight Kaggle CSVs the models read (not geolocation) under their original names, headers and file
conventions, with the real data's pitfalls: repeat buyers with one customer_id per order (~3 % of customers,
a long tail of heavy buyers), orders without payments, vouchers split over several payment_sequential,
installments and interest, review_ids shared by two orders and orders reviewed twice, every order status with
its empty timestamps, late deliveries, zip prefixes with leading zeros, products without category or sizes,
categories without translation, review texts that need quoting. File conventions, geography, categories,
review texts and monthly growth are the bundled sample's (sample.py); distributions (prices, freight, items
per order, delays, statuses, payment types…) follow summary statistics of the real files, kept below as
quantile and weight tables: no row of the real data is used.

Vectorised with NumPy and written block by block, so memory stays bounded at any factor: the order side is
made in blocks of BLOCK unique customers (their orders, items, payments and reviews together), the catalogue
in blocks of BLOCK products or sellers; only the products' prices and sellers are kept for the whole run.

Deterministic: every block draws from its own generator, np.random.default_rng(SeedSequence([seed, stream,
block])) (stream: sellers, products or orders), in the order of the code below; BLOCK is part of the format.
Only integer draws and exact float products are used (no libm, no float sums), ids are a bijective mix of
(kind, block, row), and rows are rendered into fixed-width NUL-padded byte slots whose NULs are then dropped:
same seed and factor, same bytes, on every machine (for a given NumPy version).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Self

import numpy as np

from . import sample

DEFAULT_SEED = 20180901
BLOCK = 50_000  # unique customers (or products, sellers) per block: changing it changes the data
# Olist at 1x: unique customers, products, sellers (orders, items, payments and reviews follow from them).
REAL_CUSTOMERS, REAL_PRODUCTS, REAL_SELLERS = 96_096, 32_951, 3_095

EPOCH = datetime(2016, 1, 1)  # timestamps are int64 seconds since EPOCH; MISSING is an empty field
DAY, MISSING = 86_400, -1
END = int((sample.END - EPOCH).total_seconds())  # the snapshot: no delivery after it
LAST_NORMAL_PURCHASE = int((sample.LAST_NORMAL_PURCHASE - EPOCH).total_seconds())  # later: canceled
CALENDAR_DAYS = 5 * 366  # timestamps up to 2020: far past any date drawn below


class Weighted:
    """Draws values with integer weights (an integer CDF: exact on every machine)."""

    def __init__(self, weights: dict[int, int]) -> None:
        self.values = np.array(list(weights), np.int64)
        self.cdf = np.cumsum(list(weights.values()), dtype=np.int64)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.values[np.searchsorted(self.cdf, rng.integers(0, self.cdf[-1], n), side="right")]


class Quantiles:
    """Draws from a piecewise-linear inverse CDF: {per-mille probability: value}, interpolated in integers."""

    def __init__(self, knots: dict[int, int]) -> None:
        self.p = np.array(list(knots), np.int64) * 1000  # in per million
        self.v = np.array(list(knots.values()), np.int64)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        u = rng.integers(0, 1_000_000, n)
        j = np.searchsorted(self.p, u, side="right") - 1
        return self.v[j] + (self.v[j + 1] - self.v[j]) * (u - self.p[j]) // (self.p[j + 1] - self.p[j])


# --- calibration: summary statistics of the real files (counts per 1x, or quantiles) ---

# Orders per unique customer: the real counts for 1-5, then a k^-3.5 tail holding the real 11 of 96,096 with
# 6+ orders: the maximum is in the teens at 1x (16 in the real data) and grows about as factor^0.4.
HEAVY_BUYERS = {k: math.isqrt(10**24 // k**7) for k in range(6, 201)}
ORDERS_PER_CUSTOMER = Weighted(
    {k: n * (sum(HEAVY_BUYERS.values()) // 11) for k, n in {1: 93_099, 2: 2_745, 3: 203, 4: 30, 5: 8}.items()}
    | HEAVY_BUYERS
)
SIBLING_PERCENT = 30  # a repeat buyer's later order placed seconds after the previous one (a second basket)
MOVER_PERCENT = 15  # repeat buyers who move: their later orders have another address
STATUS = Weighted(dict(enumerate([96_478, 1_107, 625, 609, 314, 301, 5, 2])))  # of sample.STATUSES
DELIVERED, SHIPPED, CANCELED, UNAVAILABLE, INVOICED, PROCESSING, CREATED, APPROVED = range(8)
# seconds from purchase to approval, approval to carrier, carrier to customer; days to the estimated date
APPROVAL = Quantiles({0: 60, 50: 518, 100: 605, 250: 774, 500: 1_236, 750: 52_491, 900: 124_775,
                      950: 174_469, 990: 324_599, 1000: 1_300_000})  # fmt: skip
TO_CARRIER = Quantiles({0: 3_600, 50: 21_411, 100: 39_015, 250: 75_644, 500: 157_110, 750: 309_352,
                        900: 518_228, 950: 699_663, 990: 1_481_842, 1000: 3_000_000})  # fmt: skip
TO_CUSTOMER = Quantiles({0: 40_000, 10: 70_151, 50: 97_071, 100: 160_694, 250: 354_236, 500: 613_420,
                         750: 1_039_316, 900: 1_632_958, 950: 2_091_719, 990: 3_540_935,
                         1000: 8_000_000})  # fmt: skip
LATE_PPM = 81_100  # of deliveries, by LATE_BY seconds after the estimated date
LATE_BY = Quantiles({0: 216, 10: 7_445, 50: 56_375, 100: 68_753, 250: 161_326, 500: 501_802, 750: 1_021_462,
                     900: 1_860_320, 950: 2_560_828, 990: 5_422_431, 1000: 8_000_000})  # fmt: skip
ESTIMATE_DAYS = Quantiles({0: 2, 10: 7, 50: 11, 100: 14, 250: 19, 500: 24, 750: 29, 900: 35, 950: 39,
                           990: 51, 1000: 60})  # fmt: skip
SHIPPING_LIMIT = Quantiles({0: 86_400, 10: 171_617, 100: 344_923, 500: 518_400, 900: 777_600,
                            990: 1_555_200, 1000: 2_592_000})  # fmt: skip
# empty timestamps, per million: delivered orders without one; canceled orders never approved, that reached
# the carrier, and of those delivered all the same
DELIVERED_WITHOUT = {"approved": 150, "carrier": 20, "customer": 80}
CANCELED_UNAPPROVED, CANCELED_AT_CARRIER, CANCELED_DELIVERED = 225_600, 120_000, 80_000

# items: product lines per order, units per line (one row per unit), price and freight in cents
LINES = Weighted({1: 95_430, 2: 2_846, 3: 298, 4: 70, 5: 8, 6: 10, 7: 3, 8: 1})
UNITS = Weighted(
    {1: 95_337, 2: 5_382, 3: 953, 4: 390, 5: 168, 6: 172, 7: 4, 8: 2, 10: 5, 12: 2, 15: 2, 20: 2}
)
WITH_ITEMS_PPM = {CREATED: 0, UNAVAILABLE: 10_000, CANCELED: 740_000}  # other statuses: all
PRICE = Quantiles({0: 85, 10: 999, 50: 1_700, 100: 2_380, 200: 3_490, 300: 4_749, 400: 5_900, 500: 7_499,
                   600: 9_500, 700: 11_990, 800: 15_000, 900: 22_980, 950: 34_990, 990: 89_000,
                   999: 211_000, 1000: 673_500})  # fmt: skip
CENTS = Weighted({90: 356, 0: 291, 99: 182, 50: 23, -1: 148})  # how prices end; -1: any
DISCOUNTED_PERCENT = 15  # an item sold below the product's price
FREIGHT = Quantiles({0: 1, 10: 664, 50: 778, 100: 886, 200: 1_219, 300: 1_409, 400: 1_511, 500: 1_629,
                     600: 1_788, 700: 1_943, 800: 2_330, 900: 3_414, 950: 4_519, 990: 8_457, 999: 17_564,
                     1000: 40_968})  # fmt: skip
FREE_FREIGHT_PPM = 3_400

# payments: one method per order; vouchers per voucher order; credit-card installments
PAYMENT_TYPES = ["credit_card", "boleto", "voucher", "debit_card", "not_defined"]
CARD, BOLETO, VOUCHER, DEBIT, NOT_DEFINED, CARD_AND_VOUCHER = range(6)
METHOD = Weighted({CARD: 74_259, BOLETO: 19_784, CARD_AND_VOUCHER: 2_245, VOUCHER: 1_621, DEBIT: 1_527})
VOUCHERS = Weighted({1: 3_066, 2: 436, 3: 148, 4: 79, 5: 40, 6: 30, 7: 17, 8: 14, 9: 4, 10: 8, 11: 8, 12: 4,
                     13: 3, 14: 2, 15: 1, 18: 2, 21: 2, 25: 1, 29: 1})  # fmt: skip
CARD_INSTALLMENTS = [25_455, 12_413, 10_461, 7_098, 5_239, 3_920, 1_626, 4_268, 644, 5_328, 23, 133, 16, 15,
                     74, 5, 8, 27, 0, 17, 3, 1, 1, 18]  # fmt: skip
INSTALLMENTS = Weighted(dict(enumerate(CARD_INSTALLMENTS, start=1)))  # 1-24
NO_PAYMENT_PPM, NOT_DEFINED_PPM, INTEREST_PPM = 10, 5_000, 7_000  # of all, canceled, installment orders

# reviews: none for some orders; a second one (other review_id, later) for some; scores by how it went
NO_REVIEW_PPM, SECOND_REVIEW_PPM, SHARED_REVIEW_PERCENT = 7_700, 5_500, 75
SCORES = np.cumsum([[73, 7, 7, 4, 9], [68, 7, 8, 7, 9], [46, 8, 11, 12, 22], [7, 3, 8, 20, 62]], axis=1)
FAILED, UNDELIVERED, LATE, ON_TIME = range(4)  # rows of SCORES
TITLE_PPM, MESSAGE_PPM = 116_600, 413_000
ANSWER = Quantiles({0: 7_709, 10: 32_653, 50: 53_434, 100: 68_546, 250: 86_826, 500: 144_736, 750: 268_148,
                    900: 419_558, 950: 602_268, 990: 1_906_330, 1000: 5_000_000})  # fmt: skip

# products
NO_CATEGORY_PPM, NO_SIZE_PPM = 18_500, 60
NAME_LENGTH = Quantiles({0: 5, 10: 20, 50: 29, 100: 33, 250: 42, 500: 51, 750: 57, 900: 59, 990: 63,
                         1000: 76})  # fmt: skip
DESCRIPTION_LENGTH = Quantiles({0: 4, 10: 84, 100: 207, 250: 339, 500: 595, 750: 972, 900: 1_578,
                                990: 3_286, 1000: 3_992})  # fmt: skip
PHOTOS = Weighted({1: 16_489, 2: 6_263, 3: 3_860, 4: 2_428, 5: 1_484, 6: 968, 7: 343, 8: 192, 9: 105, 10: 95})
WEIGHT_G = Quantiles({0: 0, 10: 60, 100: 175, 250: 300, 500: 700, 750: 1_900, 900: 6_300, 990: 22_538,
                      1000: 40_425})  # fmt: skip
LENGTH_CM = Quantiles({0: 7, 10: 16, 200: 17, 500: 25, 750: 38, 900: 53, 990: 100, 1000: 105})
HEIGHT_CM = Quantiles({0: 2, 10: 2, 100: 4, 250: 8, 500: 13, 750: 21, 900: 33, 990: 69, 1000: 105})
WIDTH_CM = Quantiles({0: 6, 10: 11, 100: 11, 250: 15, 500: 20, 750: 30, 900: 40, 990: 63, 1000: 118})

PRODUCTS, SELLERS, TRANSLATION = (
    "olist_products_dataset.csv",
    "olist_sellers_dataset.csv",
    "product_category_name_translation.csv",
)
# the generator of each kind of block, and the salt of each kind of id
STREAMS = {"sellers": 1, "products": 2, "orders": 3}
ID_KINDS = {"seller": 1, "product": 2, "order": 3, "customer": 4, "customer_unique": 5, "review": 6}


# --- rendering: every field is a fixed-width slot of bytes, padded with NUL; a row's NULs are dropped ---

HEX = np.frombuffer(b"0123456789abcdef", np.uint8)
QUOTE = ord('"')


def _calendar(days: int, fmt: str, step: timedelta, width: int) -> np.ndarray:
    return np.frombuffer(
        b"".join((EPOCH + i * step).strftime(fmt).encode() for i in range(days)), np.uint8
    ).reshape(days, width)


DATES = _calendar(CALENDAR_DAYS, "%Y-%m-%d ", timedelta(days=1), 11)
CLOCK = _calendar(DAY, "%H:%M:%S", timedelta(seconds=1), 8)


class Vocabulary:
    """Texts rendered once as CSV fields (quoted as in the Kaggle files); code 0 is the empty field."""

    def __init__(self, texts: Sequence[str], kind: str = "s") -> None:
        fields = [b""] + [sample.csv_field(t, kind).encode() for t in texts]
        width = max(map(len, fields))
        self.slots = np.frombuffer(b"".join(f.ljust(width, b"\0") for f in fields), np.uint8)
        self.slots = self.slots.reshape(len(fields), width)
        self.codes = {t: i for i, t in enumerate(texts, start=1)}

    def render(self, codes: np.ndarray) -> np.ndarray:
        return self.slots[codes]


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection of uint64, so distinct keys give distinct ids."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def ids(seed: int, kind: str, keys: np.ndarray) -> np.ndarray:
    """32 lowercase hex digits per key, distinct keys giving distinct ids: uint8 array (n, 32)."""
    salt = np.random.SeedSequence([seed, ID_KINDS[kind]]).generate_state(2, np.uint64)
    keys = keys.astype(np.uint64)
    high = _mix(keys ^ salt[0])
    low = _mix(high ^ salt[1])
    shifts = np.arange(60, -4, -4, dtype=np.uint64)
    nibbles = np.concatenate(
        [(high[:, None] >> shifts) & np.uint64(15), (low[:, None] >> shifts) & np.uint64(15)], 1
    )
    return HEX[nibbles]


def id_field(hexes: np.ndarray, always_quoted: bool = False) -> np.ndarray:
    """An id as Kaggle writes it: quoted when it starts with a digit (always, in the reviews file)."""
    quote = np.full(len(hexes), QUOTE, np.uint8)
    if not always_quoted:
        quote[hexes[:, 0] > ord("9")] = 0
    return np.column_stack([quote, hexes, quote])


def digits(values: np.ndarray, width: int, empty: np.ndarray | None = None) -> np.ndarray:
    """Non-negative integers in decimal, without leading zeros (rows in `empty`: the empty field)."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    d = values.astype(np.int64)[:, None] // powers % 10
    out = (d + ord("0")).astype(np.uint8)
    leading = np.cumsum(d, axis=1) == 0
    leading[:, -1] = False
    out[leading] = 0
    if empty is not None:
        out[empty] = 0
    return out


def zip_field(prefixes: np.ndarray) -> np.ndarray:
    """A zip prefix: five digits with its leading zeros, quoted (it starts with a digit)."""
    d = (prefixes.astype(np.int64)[:, None] // 10 ** np.arange(4, -1, -1) % 10 + ord("0")).astype(np.uint8)
    quote = np.full((len(prefixes), 1), QUOTE, np.uint8)
    return np.hstack([quote, d, quote])


def money(cents: np.ndarray) -> np.ndarray:
    """Reais with two decimals: 1234 → 12.34, 5 → 0.05."""
    point = np.full((len(cents), 1), ord("."), np.uint8)
    return np.hstack([digits(cents // 100, 8), point, digits(cents % 100 + 100, 3)[:, 1:]])


def stamp(seconds: np.ndarray) -> np.ndarray:
    """%Y-%m-%d %H:%M:%S, or the empty field for MISSING."""
    missing = seconds == MISSING
    s = np.where(missing, 0, seconds)
    out = np.hstack([DATES[s // DAY], CLOCK[s % DAY]])
    out[missing] = 0
    return out


def render(columns: Sequence[np.ndarray], newline: str = "\n") -> bytes:
    """CSV lines of the rendered columns (one uint8 array (rows, width) each)."""
    n = len(columns[0])
    comma = np.full((n, 1), ord(","), np.uint8)
    end = np.tile(np.frombuffer(newline.encode(), np.uint8), (n, 1))
    parts = [p for column in columns for p in (column, comma)]
    parts[-1] = end
    flat = np.hstack(parts).ravel()
    return flat[flat != 0].tobytes()


# --- drawing helpers ---


def block_rng(seed: int, stream: str, block: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, STREAMS[stream], block]))


def chance(rng: np.random.Generator, n: int, ppm: int | np.ndarray) -> np.ndarray:
    return rng.integers(0, 1_000_000, n) < ppm


def rare(rng: np.random.Generator, eligible: np.ndarray, ppm: int, first_block: bool) -> np.ndarray:
    """Eligible rows drawn at `ppm` per million; in the first block at least its first eligible row, so even
    a small folder has every pitfall."""
    hit = eligible & chance(rng, len(eligible), ppm)
    if first_block and eligible.any():
        hit[np.argmax(eligible)] = True
    return hit


def popular(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """n indexes into range(size), a few very often (u² skew), the favourites spread over the range."""
    u = rng.random(n)
    rank = np.minimum((u * u * size).astype(np.int64), size - 1)
    a = size * 618_034 // 1_000_000 + 1  # an affine bijection of range(size): a coprime to size
    while math.gcd(a, size) != 1:
        a += 1
    return (rank * a + size // 3) % size


def within(groups: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """0, 1, … within each run of equal `groups` (rows grouped by group, `counts` rows per group)."""
    return np.arange(len(groups)) - (np.cumsum(counts) - counts)[groups]


@dataclass(frozen=True)
class Geography:
    """sample.GEOGRAPHY as arrays: a state by weight, its capital half of the time, a zip in the city."""

    states: Vocabulary
    cities: Vocabulary
    weights: Weighted
    seller_weights: Weighted
    first_city: np.ndarray  # per state
    city_count: np.ndarray
    city_state: np.ndarray  # per city (state code)
    city_code: np.ndarray
    zip_low: np.ndarray
    zip_high: np.ndarray

    @classmethod
    def build(cls) -> Geography:
        states = Vocabulary([g[0] for g in sample.GEOGRAPHY])
        cities = Vocabulary(list(dict.fromkeys(c[0] for g in sample.GEOGRAPHY for c in g[3])))
        flat = [(s, *c) for s, g in enumerate(sample.GEOGRAPHY) for c in g[3]]
        counts = np.array([len(g[3]) for g in sample.GEOGRAPHY])
        return cls(
            states,
            cities,
            Weighted({s: g[1] for s, g in enumerate(sample.GEOGRAPHY)}),
            Weighted({s: g[2] for s, g in enumerate(sample.GEOGRAPHY) if g[2]}),
            np.cumsum(counts) - counts,
            counts,
            np.array([states.codes[sample.GEOGRAPHY[s][0]] for s, *_ in flat]),
            np.array([cities.codes[c] for _, c, _, _ in flat]),
            np.array([lo for *_, lo, _ in flat]),
            np.array([hi for *_, hi in flat]),
        )

    def draw(self, rng: np.random.Generator, n: int, sellers: bool = False) -> np.ndarray:
        """City index per address (into the flat city table) and zip prefix: int64 array (2, n)."""
        state = (self.seller_weights if sellers else self.weights).draw(rng, n)
        capital = rng.integers(0, 2, n) == 0
        city = self.first_city[state] + np.where(capital, 0, rng.integers(0, self.city_count[state]))
        return np.stack([city, rng.integers(self.zip_low[city], self.zip_high[city] + 1)])

    def fields(self, city: np.ndarray, prefix: np.ndarray) -> list[np.ndarray]:
        return [
            zip_field(prefix),
            self.cities.render(self.city_code[city]),
            self.states.render(self.city_state[city]),
        ]


GEO = Geography.build()
CATEGORIES = Vocabulary([c[0] for c in sample.CATEGORIES])
STATUSES = Vocabulary(sample.STATUSES)
PAYMENTS = Vocabulary(PAYMENT_TYPES)
MOOD_ORDER = ["bad", "so-so", "good"]  # scores 1-2, 3, 4-5
TITLES, MESSAGES = (Vocabulary([t for m in MOOD_ORDER for t in sample.REVIEW_TEXTS[m][i]]) for i in (0, 1))
CATEGORY = Weighted({code: c[2] for code, c in enumerate(sample.CATEGORIES, start=1)})


def _months() -> tuple[Weighted, np.ndarray, np.ndarray]:
    """sample.MONTH_WEIGHTS as (month draw, first second, seconds in it), clipped to START…END."""
    first, length = [], []
    for (year, month), _ in sample.MONTH_WEIGHTS:
        lo = max(datetime(year, month, 1), sample.START)
        hi = min(datetime(year + month // 12, month % 12 + 1, 1) - timedelta(seconds=1), sample.END)
        first.append(int((lo - EPOCH).total_seconds()))
        length.append(int((hi - lo).total_seconds()) + 1)
    weights = Weighted({i: w for i, (_, w) in enumerate(sample.MONTH_WEIGHTS)})
    return weights, np.array(first, np.int64), np.array(length, np.int64)


MONTHS, MONTH_FIRST, MONTH_SECONDS = _months()


def _text_ranges(which: int) -> tuple[np.ndarray, np.ndarray]:
    counts = np.array([len(sample.REVIEW_TEXTS[m][which]) for m in MOOD_ORDER])
    return 1 + np.cumsum(counts) - counts, counts


TEXT_RANGES = [_text_ranges(0), _text_ranges(1)]


def review_texts(rng: np.random.Generator, score: np.ndarray) -> list[np.ndarray]:
    """Title and message codes (0: empty) whose mood follows the score."""
    mood = np.where(score <= 2, 0, np.where(score == 3, 1, 2))
    codes = []
    for (first, count), ppm in zip(TEXT_RANGES, (TITLE_PPM, MESSAGE_PPM), strict=True):
        code = first[mood] + rng.integers(0, count[mood])
        codes.append(np.where(chance(rng, len(score), ppm), code, 0))
    return codes


def review_scores(rng: np.random.Generator, how: np.ndarray) -> np.ndarray:
    """1-5 by how the order went (a row of SCORES)."""
    cdf = SCORES[how]
    return 1 + (rng.integers(0, cdf[:, -1])[:, None] >= cdf).sum(axis=1)


# --- the blocks ---


def sizes(factor: float) -> dict[str, int]:
    """Unique customers, products and sellers at `factor` x Olist."""
    return {
        "customers": max(1, round(REAL_CUSTOMERS * factor)),
        "products": max(len(sample.CATEGORIES), round(REAL_PRODUCTS * factor)),
        "sellers": max(1, round(REAL_SELLERS * factor)),
    }


def blocks(total: int) -> Iterator[tuple[int, int]]:
    """(block index, rows in it) of `total` rows cut in BLOCK-sized blocks."""
    for b in range((total + BLOCK - 1) // BLOCK):
        yield b, min(BLOCK, total - b * BLOCK)


Chunk = dict[str, tuple[int, bytes]]  # file → (rows, CSV lines)


def seller_block(seed: int, block: int, n: int) -> Chunk:
    rng = block_rng(seed, "sellers", block)
    index = block * BLOCK + np.arange(n)
    columns = [id_field(ids(seed, "seller", index)), *GEO.fields(*GEO.draw(rng, n, sellers=True))]
    return {SELLERS: (n, render(columns))}


@dataclass(frozen=True)
class Catalog:
    price: np.ndarray  # cents, per product
    seller: np.ndarray  # seller index, per product


def product_block(seed: int, block: int, n: int, sellers: int) -> tuple[Chunk, Catalog]:
    """Products: every category in the first block (the untranslated two too), then by popularity; some
    without category (nor name, description, photos) or without weight and sizes."""
    rng = block_rng(seed, "products", block)
    first = block == 0
    category = CATEGORY.draw(rng, n)
    if first:
        category[: len(sample.CATEGORIES)] = np.arange(1, len(sample.CATEGORIES) + 1)
    cents = CENTS.draw(rng, n)
    cents = np.where(cents < 0, rng.integers(0, 100, n), cents)
    price = np.maximum(PRICE.draw(rng, n) // 100 * 100 + cents, 85)
    seller = popular(rng, n, sellers)
    texts = [NAME_LENGTH.draw(rng, n), DESCRIPTION_LENGTH.draw(rng, n), PHOTOS.draw(rng, n)]
    size = [WEIGHT_G.draw(rng, n), LENGTH_CM.draw(rng, n), HEIGHT_CM.draw(rng, n), WIDTH_CM.draw(rng, n)]
    eligible = np.arange(n) >= len(sample.CATEGORIES)
    no_category = rare(rng, eligible, NO_CATEGORY_PPM, first)
    no_size = rare(rng, eligible & ~no_category, NO_SIZE_PPM, first)
    columns = [
        id_field(ids(seed, "product", block * BLOCK + np.arange(n))),
        CATEGORIES.render(np.where(no_category, 0, category)),
        *(digits(v, 4, no_category) for v in texts),
        *(digits(v, 5, no_size) for v in size),
    ]
    return {PRODUCTS: (n, render(columns))}, Catalog(price, seller)


@dataclass(frozen=True)
class Rows:
    """Arrays of equal length, one per column or attribute."""

    def take(self, index: np.ndarray) -> Self:
        return type(self)(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


@dataclass(frozen=True)
class Orders(Rows):
    """A block's orders, grouped by customer in time order. A sibling is an order placed seconds after the
    customer's previous one (a second basket, as in the real data): its main order's status and address."""

    customer: np.ndarray  # unique customer in the block
    sibling: np.ndarray
    main: np.ndarray  # the order itself, or the sibling's main order
    purchase: np.ndarray  # seconds since EPOCH (as every timestamp), MISSING: empty
    approved: np.ndarray
    carrier: np.ndarray
    delivered: np.ndarray
    estimated: np.ndarray
    limit: np.ndarray  # the items' shipping limit
    status: np.ndarray  # index into sample.STATUSES
    city: np.ndarray  # index into Geography's flat city table
    zip_prefix: np.ndarray


def draw_orders(rng: np.random.Generator, n_customers: int, first: bool) -> Orders:
    """Orders of n_customers unique customers, with the empty timestamps of each status; a few repeat
    buyers move house; deliveries after the snapshot have not happened (still shipped)."""
    n_orders = ORDERS_PER_CUSTOMER.draw(rng, n_customers)
    customer = np.repeat(np.arange(n_customers), n_orders)
    m = len(customer)
    purchase = MONTH_FIRST[month := MONTHS.draw(rng, m)] + rng.integers(0, MONTH_SECONDS[month])
    purchase = purchase[np.lexsort((purchase, customer))]
    rank = within(customer, n_orders)
    sibling = (rank > 0) & (rng.integers(0, 100, m) < SIBLING_PERCENT)
    main = np.maximum.accumulate(np.where(sibling, 0, np.arange(m)))
    purchase = np.where(sibling, np.minimum(purchase[main] + rng.integers(5, 301, m), END), purchase)
    status = STATUS.draw(rng, m)
    if first:  # every status at least once
        showcase = np.flatnonzero(~sibling & (purchase < LAST_NORMAL_PURCHASE))[: len(sample.STATUSES)]
        status[showcase] = np.arange(len(showcase))
    status = status[main]
    status[purchase >= LAST_NORMAL_PURCHASE] = CANCELED
    home, moved = GEO.draw(rng, n_customers), GEO.draw(rng, n_customers)
    mover = (n_orders > 1) & (rng.integers(0, 100, n_customers) < MOVER_PERCENT)
    moves_at = 1 + rng.integers(0, np.maximum(n_orders - 1, 1))
    moved_now = (mover[customer] & (rank >= moves_at[customer]))[main]
    city, zip_prefix = np.where(moved_now, moved[:, customer], home[:, customer])

    approved = purchase + APPROVAL.draw(rng, m)
    carrier = approved + TO_CARRIER.draw(rng, m)
    delivered = carrier + TO_CUSTOMER.draw(rng, m)
    estimated = (purchase // DAY + ESTIMATE_DAYS.draw(rng, m)) * DAY
    late = chance(rng, m, LATE_PPM)
    delivered = np.where(late, np.maximum(delivered, estimated + LATE_BY.draw(rng, m)), delivered)
    early_day = delivered // DAY + rng.integers(1, 8, m)  # on time: the estimate is after the delivery
    estimated = np.where(late | (delivered < estimated), estimated, early_day * DAY)
    limit = approved + SHIPPING_LIMIT.draw(rng, m)
    is_delivered, canceled = status == DELIVERED, status == CANCELED
    at_carrier = canceled & chance(rng, m, CANCELED_AT_CARRIER)
    no_approval = (status == CREATED) | (canceled & chance(rng, m, CANCELED_UNAPPROVED))
    no_approval |= rare(rng, is_delivered, DELIVERED_WITHOUT["approved"], first)
    no_carrier = ~(is_delivered | (status == SHIPPED) | at_carrier)
    no_carrier |= rare(rng, is_delivered & ~no_approval, DELIVERED_WITHOUT["carrier"], first)
    no_customer = ~(is_delivered | rare(rng, at_carrier, CANCELED_DELIVERED, first)) | (delivered > END)
    no_customer |= rare(rng, is_delivered & ~no_approval & ~no_carrier, DELIVERED_WITHOUT["customer"], first)
    status[is_delivered & (delivered > END)] = SHIPPED
    approved[no_approval], carrier[no_carrier], delivered[no_customer] = MISSING, MISSING, MISSING
    return Orders(
        customer,
        sibling,
        main,
        purchase,
        approved,
        carrier,
        delivered,
        estimated,
        limit,
        status,
        city,
        zip_prefix,
    )


@dataclass(frozen=True)
class Items(Rows):
    """Order items, one row per unit, grouped by order."""

    order: np.ndarray
    number: np.ndarray  # order_item_id: 1, 2, … within the order
    product: np.ndarray  # product index
    price: np.ndarray  # cents
    freight: np.ndarray


def draw_items(rng: np.random.Generator, orders: Orders, catalog: Catalog) -> Items:
    """Product lines (a few products sell a lot), several units of some: none for created orders, few for
    unavailable ones; some sold below the product's price, a few with free shipping."""
    m = len(orders.status)
    ppm = np.select([orders.status == s for s in WITH_ITEMS_PPM], list(WITH_ITEMS_PPM.values()), 10**6)
    lines = np.where(chance(rng, m, ppm), LINES.draw(rng, m), 0)
    line_order = np.repeat(np.arange(m), lines)
    n = len(line_order)
    product = popular(rng, n, len(catalog.price))
    discounted = rng.integers(0, 100, n) < DISCOUNTED_PERCENT
    price = np.where(
        discounted, catalog.price[product] * rng.integers(80, 100, n) // 100, catalog.price[product]
    )
    freight = np.where(chance(rng, n, FREE_FREIGHT_PPM), 0, FREIGHT.draw(rng, n))
    line = np.repeat(np.arange(n), UNITS.draw(rng, n))
    order = line_order[line]
    number = within(order, np.bincount(order, minlength=m)) + 1
    return Items(order, number, product[line], price[line], freight[line])


@dataclass(frozen=True)
class Payments(Rows):
    order: np.ndarray
    sequential: np.ndarray  # 1, 2, … within the order
    type: np.ndarray  # index into PAYMENT_TYPES
    installments: np.ndarray
    value: np.ndarray  # cents


def draw_payments(rng: np.random.Generator, orders: Orders, items: Items, first: bool) -> Payments:
    """The order's price + freight (plus interest on some installment plans) by one method; vouchers split
    over several rows, after the card's; not_defined 0.00 on some canceled orders; rarely no payment."""
    m = len(orders.status)
    gmv = np.zeros(m, np.int64)
    np.add.at(gmv, items.order, items.price + items.freight)
    has_items = np.bincount(items.order, minlength=m) > 0
    total = np.where(has_items, gmv, PRICE.draw(rng, m) + FREIGHT.draw(rng, m))
    method = METHOD.draw(rng, m)
    method[rare(rng, orders.status == CANCELED, NOT_DEFINED_PPM, first)] = NOT_DEFINED
    unpaid = rare(rng, orders.status == DELIVERED, NO_PAYMENT_PPM, first)
    with_vouchers = (method == VOUCHER) | (method == CARD_AND_VOUCHER)
    vouchers = np.where(with_vouchers, VOUCHERS.draw(rng, m), 0)
    share = np.where(method == VOUCHER, 100, np.where(method == CARD_AND_VOUCHER, rng.integers(20, 97, m), 0))
    covered = total * share // 100
    card = (method == CARD) | (method == CARD_AND_VOUCHER)
    card_total = total - covered
    installments = np.where(card, np.minimum(INSTALLMENTS.draw(rng, m), np.maximum(1, card_total // 500)), 1)
    interest = (installments > 1) & chance(rng, m, INTEREST_PPM)
    card_total += np.where(interest, card_total * rng.integers(5, 151, m) // 1000, 0)

    rows = np.where(unpaid, 0, (method != VOUCHER) + vouchers)
    order = np.repeat(np.arange(m), rows)
    sequential = within(order, rows)
    head = (sequential == 0) & (method[order] != VOUCHER)  # the one row of the method, or the card's
    # the vouchers share `covered` in proportion to random weights: floors of cumulative shares, exact sums
    weight = np.where(head, 0, rng.integers(1, 101, len(order)))
    upto = np.cumsum(weight)
    first_row = np.cumsum(rows) - rows
    before = (upto - weight)[first_row[order]]
    whole = np.maximum(upto[(first_row + rows - 1)[order]] - before, 1)
    part = covered[order]
    voucher = part * (upto - before) // whole - part * (upto - before - weight) // whole
    head_value = np.where(card, card_total, np.where(method == NOT_DEFINED, 0, total))
    head_type = np.where(method == CARD_AND_VOUCHER, CARD, method)
    return Payments(
        order,
        sequential + 1,
        np.where(head, head_type[order], VOUCHER),
        np.where(head, installments[order], 1),
        np.where(head, head_value[order], voucher),
    )


@dataclass(frozen=True)
class Reviews(Rows):
    order: np.ndarray
    key: np.ndarray  # of the review_id, in the block
    score: np.ndarray
    title: np.ndarray  # code in TITLES, 0: empty
    message: np.ndarray  # code in MESSAGES
    created: np.ndarray
    answered: np.ndarray


def draw_reviews(rng: np.random.Generator, orders: Orders, first: bool) -> Reviews:
    """Scores by how the order went; a sibling often shares its main order's review (one review_id, two
    orders); a few orders are reviewed twice (another review_id, later), some never."""
    o, m = orders, len(orders.status)
    how = np.select(
        [
            (o.status == CANCELED) | (o.status == UNAVAILABLE),
            o.delivered == MISSING,
            o.delivered > o.estimated,
        ],
        [FAILED, UNDELIVERED, LATE],
        ON_TIME,
    )
    reviewed = ~chance(rng, m, NO_REVIEW_PPM)
    score = review_scores(rng, how)
    created_day = np.select(
        [how == FAILED, how == UNDELIVERED],
        [o.purchase // DAY + rng.integers(2, 26, m), o.estimated // DAY + rng.integers(0, 4, m)],
        o.delivered // DAY + rng.integers(0, 2, m),
    )
    created = created_day * DAY
    answered = created + ANSWER.draw(rng, m)
    title, message = review_texts(rng, score)
    key = np.arange(m)
    shared = o.sibling & (rng.integers(0, 100, m) < SHARED_REVIEW_PERCENT) & reviewed[o.main]
    for values in (key, score, title, message, created, answered):
        values[shared] = values[o.main[shared]]
    reviewed |= shared
    once = np.flatnonzero(reviewed)
    twice = np.flatnonzero(rare(rng, reviewed & ~shared, SECOND_REVIEW_PPM, first))
    score2 = review_scores(rng, how[twice])
    created2 = created[twice] + rng.integers(1, 16, len(twice)) * DAY
    title2, message2 = review_texts(rng, score2)
    answered2 = created2 + ANSWER.draw(rng, len(twice))
    return Reviews(
        np.concatenate([once, twice]),
        np.concatenate([key[once], 2**31 + twice]),
        np.concatenate([score[once], score2]),
        np.concatenate([title[once], title2]),
        np.concatenate([message[once], message2]),
        np.concatenate([created[once], created2]),
        np.concatenate([answered[once], answered2]),
    )


def order_block(seed: int, block: int, n_customers: int, catalog: Catalog) -> Chunk:
    """n_customers unique customers: their customer rows (one per order), orders, items, payments, reviews."""
    rng = block_rng(seed, "orders", block)
    orders = draw_orders(rng, n_customers, block == 0)
    items = draw_items(rng, orders, catalog)
    payments = draw_payments(rng, orders, items, block == 0)
    reviews = draw_reviews(rng, orders, block == 0)

    # The files in no useful order, as the originals; items grouped by order, in the orders file's order.
    m = len(orders.status)
    customer_rows, order_rows = rng.permutation(m), rng.permutation(m)
    payments = payments.take(rng.permutation(len(payments.order)))
    reviews = reviews.take(rng.permutation(len(reviews.order)))
    position = np.empty(m, np.int64)
    position[order_rows] = np.arange(m)
    items = items.take(np.argsort(position[items.order], kind="stable"))

    key = np.uint64(block) << np.uint64(32)  # ids of the order side: (block, row in block)
    order_id = ids(seed, "order", key + np.arange(m, dtype=np.uint64))
    customer_id = ids(seed, "customer", key + np.arange(m, dtype=np.uint64))
    unique_id = ids(seed, "customer_unique", key + orders.customer.astype(np.uint64))
    c, o = orders.take(customer_rows), orders.take(order_rows)
    return {
        "olist_customers_dataset.csv": (
            m,
            render(
                [
                    id_field(customer_id[customer_rows]),
                    id_field(unique_id[customer_rows]),
                    *GEO.fields(c.city, c.zip_prefix),
                ]
            ),
        ),
        "olist_orders_dataset.csv": (
            m,
            render(
                [
                    id_field(order_id[order_rows]),
                    id_field(customer_id[order_rows]),
                    STATUSES.render(o.status + 1),
                ]
                + [stamp(t) for t in (o.purchase, o.approved, o.carrier, o.delivered, o.estimated)]
            ),
        ),
        "olist_order_items_dataset.csv": (
            len(items.order),
            render(
                [
                    id_field(order_id[items.order]),
                    digits(items.number, 3),
                    id_field(ids(seed, "product", items.product)),
                    id_field(ids(seed, "seller", catalog.seller[items.product])),
                    stamp(orders.limit[items.order]),
                    money(items.price),
                    money(items.freight),
                ]
            ),
        ),
        "olist_order_payments_dataset.csv": (
            len(payments.order),
            render(
                [
                    id_field(order_id[payments.order]),
                    digits(payments.sequential, 2),
                    PAYMENTS.render(payments.type + 1),
                    digits(payments.installments, 2),
                    money(payments.value),
                ]
            ),
        ),
        "olist_order_reviews_dataset.csv": (
            len(reviews.order),
            render(
                [
                    id_field(ids(seed, "review", key + reviews.key.astype(np.uint64)), always_quoted=True),
                    id_field(order_id[reviews.order], always_quoted=True),
                    digits(reviews.score, 1),
                    TITLES.render(reviews.title),
                    MESSAGES.render(reviews.message),
                    stamp(reviews.created),
                    stamp(reviews.answered),
                ],
                newline="\r\n",
            ),
        ),
    }


class Writer:
    """The Kaggle files of one folder, written under temporary names and renamed when all are complete."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.rows = dict.fromkeys(sample.TABLES, 0)
        self.files = {
            name: (out_dir / f".{name}.tmp").open("wb") for name in sample.TABLES if name != TRANSLATION
        }
        for name, f in self.files.items():
            table = sample.TABLES[name]
            f.write((",".join(f'"{c}"' for c in table.columns) + table.newline).encode())

    def write(self, chunk: Chunk) -> None:
        for name, (rows, data) in chunk.items():
            self.files[name].write(data)
            self.rows[name] += rows

    def close(self, complete: bool) -> None:
        for name, f in self.files.items():
            f.close()
            tmp = self.out_dir / f".{name}.tmp"
            if complete:
                tmp.replace(self.out_dir / name)
            else:
                tmp.unlink(missing_ok=True)


def generate(out_dir: Path, factor: float, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Write the folder at `factor` x Olist into out_dir (created if missing); return the rows per file."""
    if factor <= 0:
        raise ValueError(f"factor must be positive, not {factor}")
    n = sizes(factor)
    out_dir.mkdir(parents=True, exist_ok=True)
    writer = Writer(out_dir)
    try:
        for b, rows in blocks(n["sellers"]):
            writer.write(seller_block(seed, b, rows))
        catalogs = []
        for b, rows in blocks(n["products"]):
            chunk, catalog = product_block(seed, b, rows, n["sellers"])
            writer.write(chunk)
            catalogs.append(catalog)
        catalog = Catalog(
            np.concatenate([c.price for c in catalogs]), np.concatenate([c.seller for c in catalogs])
        )
        for b, rows in blocks(n["customers"]):
            writer.write(order_block(seed, b, rows, catalog))
    except BaseException:
        writer.close(complete=False)
        raise
    writer.close(complete=True)
    translated = [[name, english] for name, english, *_ in sample.CATEGORIES if english is not None]
    sample.write_table(out_dir, sample.TABLES[TRANSLATION], translated)
    return writer.rows | {TRANSLATION: len(translated)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--factor", type=float, required=True, help="size in multiples of Olist (0.1, 1, 10…)"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to write the CSVs into")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )


def main(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        counts = generate(args.out, args.factor, args.seed)
    except ValueError as exc:
        print(f"scale-data: {exc}")
        return 2
    except OSError as exc:
        print(f"scale-data: cannot write into {args.out}: {exc}")
        return 1
    total = 0
    for name, rows in counts.items():
        size = (args.out / name).stat().st_size
        total += size
        print(f"{name:<42} {rows:>11,} rows {size:>15,} bytes")
    took = time.perf_counter() - started
    print(f"scale-data: {args.factor:g}x Olist in {args.out}: {total:,} bytes in {took:.1f} s")
    return 0
