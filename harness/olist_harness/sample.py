"""`olist-harness generate-sample DIR`: the bundled synthetic, Olist-shaped sample (seeds/olist_sample).

Writes the eight Kaggle CSVs the models read (not geolocation) under their original names, headers and file
conventions, with made-up values shaped like the real data and every quirk of it: repeat buyers with one
customer_id per order, orders without payments, vouchers, installments and interest, duplicate and double
reviews, every order status with its empty timestamps, late deliveries, zip prefixes with leading zeros,
products without category or size, categories without translation, review texts that need CSV quoting.

Same seed, same bytes, on every machine: only `random.Random.random()` is drawn (Python keeps its sequence
stable), arithmetic is integer cents/seconds or exact float products, CSVs are serialised by hand.
"""

from __future__ import annotations

import argparse
import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

DEFAULT_SEED = 20160904
T = TypeVar("T")

START = datetime(2016, 9, 4)
END = datetime(2018, 10, 17, 23, 59, 59)
LAST_NORMAL_PURCHASE = datetime(2018, 9, 1)  # like the real data: later orders are all canceled
DAY = 86_400

# (year, month) → relative order volume: a slow start in 2016, growth through 2017, a plateau in 2018.
MONTH_WEIGHTS: list[tuple[tuple[int, int], int]] = [
    ((2016, 9), 2), ((2016, 10), 12), ((2016, 12), 1), ((2017, 1), 25), ((2017, 2), 45), ((2017, 3), 65),
    ((2017, 4), 60), ((2017, 5), 85), ((2017, 6), 78), ((2017, 7), 92), ((2017, 8), 98), ((2017, 9), 98),
    ((2017, 10), 105), ((2017, 11), 160), ((2017, 12), 120), ((2018, 1), 150), ((2018, 2), 140),
    ((2018, 3), 150), ((2018, 4), 145), ((2018, 5), 145), ((2018, 6), 132), ((2018, 7), 135),
    ((2018, 8), 138), ((2018, 9), 1), ((2018, 10), 1),
]  # fmt: skip

# state, customer weight, seller weight, cities as (name, first zip prefix, last zip prefix)
GEOGRAPHY: list[tuple[str, int, int, list[tuple[str, int, int]]]] = [
    ("SP", 4200, 6000, [("sao paulo", 1000, 5999), ("guarulhos", 7000, 7399), ("osasco", 6000, 6299),
                        ("santo andre", 9000, 9299), ("sao bernardo do campo", 9600, 9899),
                        ("campinas", 13000, 13149), ("santos", 11000, 11099), ("sorocaba", 18000, 18109),
                        ("ribeirao preto", 14000, 14114), ("franca", 14400, 14414)]),
    ("RJ", 1300, 550, [("rio de janeiro", 20000, 23799), ("niteroi", 24000, 24399),
                       ("duque de caxias", 25000, 25099), ("nova iguacu", 26000, 26099)]),
    ("MG", 1170, 800, [("belo horizonte", 30000, 31999), ("contagem", 32000, 32399),
                       ("juiz de fora", 36000, 36099), ("uberlandia", 38400, 38414)]),
    ("RS", 550, 400, [("porto alegre", 90000, 91999), ("canoas", 92000, 92499),
                      ("caxias do sul", 95000, 95099)]),
    ("PR", 510, 1100, [("curitiba", 80000, 82999), ("londrina", 86000, 86099), ("maringa", 87000, 87099)]),
    ("SC", 370, 600, [("florianopolis", 88000, 88099), ("blumenau", 89000, 89099),
                      ("joinville", 89200, 89239)]),
    ("BA", 340, 60, [("salvador", 40000, 42599), ("feira de santana", 44000, 44099)]),
    ("DF", 220, 100, [("brasilia", 70000, 72799)]),
    ("ES", 200, 70, [("vitoria", 29000, 29099), ("vila velha", 29100, 29129)]),
    ("GO", 200, 130, [("goiania", 74000, 74899)]),
    ("PE", 170, 30, [("recife", 50000, 52999)]),
    ("CE", 130, 20, [("fortaleza", 60000, 61599)]),
    ("PA", 100, 0, [("belem", 66000, 66999)]),
    ("MT", 90, 0, [("cuiaba", 78000, 78109)]),
    ("MA", 75, 0, [("sao luis", 65000, 65109)]),
    ("MS", 70, 0, [("campo grande", 79000, 79129)]),
    ("PB", 55, 0, [("joao pessoa", 58000, 58099)]),
    ("RN", 50, 0, [("natal", 59000, 59099)]),
    ("PI", 50, 0, [("teresina", 64000, 64099)]),
    ("AL", 40, 0, [("maceio", 57000, 57099)]),
    ("SE", 35, 0, [("aracaju", 49000, 49099)]),
    ("TO", 30, 0, [("palmas", 77000, 77270)]),
    ("RO", 25, 0, [("porto velho", 76800, 76834)]),
    ("AM", 15, 0, [("manaus", 69000, 69099)]),
    ("AC", 8, 0, [("rio branco", 69900, 69923)]),
    ("AP", 7, 0, [("macapa", 68900, 68911)]),
    ("RR", 5, 0, [("boa vista", 69300, 69339)]),
]  # fmt: skip

# Portuguese name, English name (None: untranslated, as in the real translation file), product weight,
# price range in reais, product weight range in grams.
CATEGORIES: list[tuple[str, str | None, int, int, int, int, int]] = [
    ("cama_mesa_banho", "bed_bath_table", 110, 20, 350, 300, 4000),
    ("beleza_saude", "health_beauty", 100, 10, 450, 100, 2000),
    ("esporte_lazer", "sports_leisure", 85, 15, 700, 150, 8000),
    ("moveis_decoracao", "furniture_decor", 80, 25, 900, 400, 15000),
    ("informatica_acessorios", "computers_accessories", 75, 20, 1200, 100, 5000),
    ("utilidades_domesticas", "housewares", 70, 10, 350, 200, 6000),
    ("relogios_presentes", "watches_gifts", 60, 50, 1800, 100, 1000),
    ("telefonia", "telephony", 45, 10, 600, 50, 800),
    ("ferramentas_jardim", "garden_tools", 40, 15, 600, 300, 10000),
    ("automotivo", "auto", 40, 15, 700, 200, 9000),
    ("brinquedos", "toys", 40, 15, 500, 150, 6000),
    ("cool_stuff", "cool_stuff", 35, 20, 900, 200, 7000),
    ("perfumaria", "perfumery", 33, 15, 400, 100, 1200),
    ("bebes", "baby", 30, 15, 700, 200, 9000),
    ("eletronicos", "electronics", 25, 10, 500, 50, 2000),
    ("papelaria", "stationery", 22, 5, 200, 50, 2000),
    ("fashion_bolsas_e_acessorios", "fashion_bags_accessories", 20, 15, 300, 100, 1500),
    ("pet_shop", "pet_shop", 18, 10, 300, 200, 10000),
    ("eletroportateis", "small_appliances", 15, 40, 1600, 500, 12000),
    ("consoles_games", "consoles_games", 12, 30, 2500, 100, 5000),
    ("eletrodomesticos", "home_appliances", 10, 80, 2500, 1000, 25000),
    ("alimentos_bebidas", "food_drink", 8, 10, 150, 200, 5000),
    ("pcs", "computers", 5, 900, 6500, 2000, 15000),
    ("pc_gamer", None, 4, 400, 4500, 500, 12000),
    ("portateis_cozinha_e_preparadores_de_alimentos", None, 4, 60, 900, 800, 8000),
]

STATUSES = [
    "delivered",
    "shipped",
    "canceled",
    "unavailable",
    "invoiced",
    "processing",
    "created",
    "approved",
]
STATUS_WEIGHTS = [9520, 140, 90, 60, 50, 50, 45, 45]
INSTALLMENTS = list(range(1, 25))
INSTALLMENT_WEIGHTS = [500, 120, 100, 70, 50, 40, 16, 42, 7, 52, 1, 4, 1, 1, 2, 1, 1, 3, 1, 2, 1, 1, 1, 10]

# review titles and messages (made up) by mood: good (score 4-5), so-so (3), bad (1-2)
REVIEW_TEXTS: dict[str, tuple[list[str], list[str]]] = {
    "good": (
        ["Recomendo", "Ótimo", "Excelente produto", "Muito bom", "Super recomendo!", "Entrega rápida"],
        [
            "Produto chegou antes do prazo, muito bem embalado.",
            "Ótimo produto, recomendo!",
            "Tudo certo, entrega rápida.",
            'Comprei o "kit completo" e veio tudo certinho.',
            "Muito bom.\r\nRecomendo a loja a todos.",
            "Excelente qualidade, superou as expectativas. Voltarei a comprar",
            "Gostei bastante do produto",
            "Entrega dentro do prazo e produto conforme o anúncio.",
            "Chegou rápido, bem embalado, produto de qualidade!\r\n\r\nObrigada!",
        ],
    ),
    "so-so": (
        ["Bom, mas demorou", "Razoável"],
        [
            "O produto é bom, mas a entrega demorou um pouco.",
            "Razoável. A cor é diferente da foto",
            'Veio "quase" igual ao anúncio, mas funciona.',
            "Produto ok.\r\nEmbalagem amassada.",
        ],
    ),
    "bad": (
        ["Ruim", "Não recebi", "Produto com defeito"],
        [
            "Não recebi o produto até agora.",
            "Comprei 2 unidades e recebi só 1, aguardo retorno da loja.",
            'Produto com defeito, o "botão" não funciona.',
            "Péssimo atendimento.\r\nNinguém responde os e-mails.\r\nNão recomendo",
            "Entrega atrasada, produto errado",
            "Pedido cancelado sem aviso, quero meu dinheiro de volta",
        ],
    ),
}


@dataclass(frozen=True)
class Table:
    """One Kaggle file: its columns, per-column quoting and the original file's conventions.

    kinds, one letter per column: "s" text, quoted only when it starts with a digit or holds , " or a line
    break (as in the originals); "q" always quoted; "n" number or timestamp, never quoted.
    """

    file: str
    header: str  # the column names, space separated
    kinds: str
    newline: str = "\n"
    quoted_header: bool = True
    bom: bool = False
    final_newline: bool = True

    @property
    def columns(self) -> list[str]:
        return self.header.split()


TABLES: dict[str, Table] = {
    t.file: t
    for t in [
        Table(
            "olist_customers_dataset.csv",
            "customer_id customer_unique_id customer_zip_code_prefix customer_city customer_state",
            "sssss",
        ),
        Table(
            "olist_orders_dataset.csv",
            "order_id customer_id order_status order_purchase_timestamp order_approved_at "
            "order_delivered_carrier_date order_delivered_customer_date order_estimated_delivery_date",
            "sssnnnnn",
        ),
        Table(
            "olist_order_items_dataset.csv",
            "order_id order_item_id product_id seller_id shipping_limit_date price freight_value",
            "snssnnn",
        ),
        Table(
            "olist_order_payments_dataset.csv",
            "order_id payment_sequential payment_type payment_installments payment_value",
            "snsnn",
        ),
        Table(
            "olist_order_reviews_dataset.csv",
            "review_id order_id review_score review_comment_title review_comment_message "
            "review_creation_date review_answer_timestamp",
            "qqnssnn",
            newline="\r\n",
        ),
        Table(
            "olist_products_dataset.csv",
            "product_id product_category_name product_name_lenght product_description_lenght "
            "product_photos_qty product_weight_g product_length_cm product_height_cm product_width_cm",
            "ssnnnnnnn",
        ),
        Table(
            "olist_sellers_dataset.csv", "seller_id seller_zip_code_prefix seller_city seller_state", "ssss"
        ),
        Table(
            "product_category_name_translation.csv",
            "product_category_name product_category_name_english",
            "ss",
            newline="\r\n",
            quoted_header=False,
            bom=True,
            final_newline=False,
        ),
    ]
}


class Rng:
    """Draws built on `random.Random.random()` alone, whose sequence Python guarantees across versions."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed).random

    def chance(self, p: float) -> bool:
        return self._random() < p

    def between(self, lo: int, hi: int) -> int:
        """An integer in [lo, hi]."""
        return lo + int(self._random() * (hi - lo + 1))

    def skewed(self, lo: int, hi: int) -> int:
        """An integer in [lo, hi], most of them near lo (u³: exact float products, no libm)."""
        u = self._random()
        return lo + int((hi - lo) * u * u * u)

    def pick(self, items: Sequence[T]) -> T:
        return items[int(self._random() * len(items))]

    def weighted(self, items: Sequence[T], weights: Sequence[int]) -> T:
        x = int(self._random() * sum(weights))
        for item, weight in zip(items, weights, strict=True):
            x -= weight
            if x < 0:
                return item
        return items[-1]

    def shuffle(self, items: list[T]) -> None:
        for i in range(len(items) - 1, 0, -1):
            j = int(self._random() * (i + 1))
            items[i], items[j] = items[j], items[i]


@dataclass(frozen=True)
class Address:
    zip_prefix: str
    city: str
    state: str


@dataclass(frozen=True)
class Product:
    product_id: str
    category: str
    price: int  # cents
    grams: int
    seller_id: str
    seller_state: str


@dataclass
class Order:
    uid: str
    archetype: str
    address: Address
    purchase: datetime
    main: Order | None = None  # set on an order placed seconds after `main` by the same customer
    order_id: str = ""
    status: str = "delivered"
    delivered: datetime | None = None  # at the customer
    late: bool = False  # delivered after the estimated date
    items: list[list[str]] = field(default_factory=list)
    review: list[str] | None = None  # the single review row, kept for a sibling order to share


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def stamp(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def csv_field(text: str, kind: str) -> str:
    if kind == "q" or (
        kind == "s" and text and (text[0] in "0123456789" or any(c in text for c in ',"\r\n'))
    ):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_table(out_dir: Path, table: Table, rows: list[list[str]]) -> None:
    header = [f'"{c}"' if table.quoted_header else c for c in table.columns]
    lines = [",".join(header)]
    lines += [",".join(csv_field(v, k) for v, k in zip(row, table.kinds, strict=True)) for row in rows]
    text = (
        ("\ufeff" if table.bom else "")
        + table.newline.join(lines)
        + (table.newline if table.final_newline else "")
    )
    tmp = out_dir / f".{table.file}.tmp"
    tmp.write_bytes(text.encode("utf-8"))
    tmp.replace(out_dir / table.file)


class Builder:
    """Builds every table's rows; the order of draws is fixed, so a seed gives one sample."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = Rng(seed)
        self.counters: dict[str, int] = {}
        self.rows: dict[str, list[list[str]]] = {name: [] for name in TABLES}

    def new_id(self, kind: str) -> str:
        """32 lowercase hex chars, like Olist's ids: the md5 of a per-kind counter."""
        n = self.counters[kind] = self.counters.get(kind, 0) + 1
        return hashlib.md5(f"olist-sample:{self.seed}:{kind}:{n}".encode(), usedforsecurity=False).hexdigest()

    def address(self, sellers: bool = False) -> Address:
        rng = self.rng
        state, cities = rng.weighted(
            [(g[0], g[3]) for g in GEOGRAPHY], [g[2 if sellers else 1] for g in GEOGRAPHY]
        )
        city, lo, hi = cities[0] if rng.chance(0.5) else rng.pick(cities)  # the capital dominates
        return Address(f"{rng.between(lo, hi):05d}", city, state)

    def sellers(self, n: int) -> list[tuple[str, str]]:
        sellers = []
        for _ in range(n):
            seller_id, where = self.new_id("seller"), self.address(sellers=True)
            self.rows["olist_sellers_dataset.csv"].append(
                [seller_id, where.zip_prefix, where.city, where.state]
            )
            sellers.append((seller_id, where.state))
        return sellers

    def products(self, n: int, sellers: list[tuple[str, str]]) -> list[Product]:
        rng, products = self.rng, []
        for i in range(n):
            # every category three times first (the untranslated ones too), then by popularity
            cat = (
                CATEGORIES[i % len(CATEGORIES)]
                if i < 3 * len(CATEGORIES)
                else rng.weighted(CATEGORIES, [c[2] for c in CATEGORIES])
            )
            name, _, _, lo, hi, g_lo, g_hi = cat
            price = rng.skewed(lo, hi) * 100 + rng.pick([90, 90, 99, 0, 50, rng.between(0, 99)])
            grams = rng.skewed(g_lo, g_hi)
            seller_id, seller_state = sellers[rng.skewed(0, len(sellers) - 1)]  # a few big sellers
            sizes = [str(grams), str(rng.between(16, 100)), str(rng.between(2, 70)), str(rng.between(11, 80))]
            texts = [str(rng.between(12, 70)), str(rng.skewed(60, 3500)), str(rng.skewed(1, 10))]
            if i % 41 == 40:  # as in the real file: no category, so no name/description/photo data either
                name, texts = "", ["", "", ""]
            if i % 233 == 100:  # and a few without weight and dimensions
                sizes = ["", "", "", ""]
            product_id = self.new_id("product")
            self.rows["olist_products_dataset.csv"].append([product_id, name, *texts, *sizes])
            products.append(Product(product_id, cat[0], price, grams, seller_id, seller_state))
        return products

    def purchase_time(self) -> datetime:
        (year, month) = self.rng.weighted([m for m, _ in MONTH_WEIGHTS], [w for _, w in MONTH_WEIGHTS])
        first = max(datetime(year, month, 1), START)
        last = min(datetime(year + month // 12, month % 12 + 1, 1) - timedelta(seconds=1), END)
        return first + timedelta(seconds=self.rng.between(0, int((last - first).total_seconds())))

    def people(self, counts: dict[str, int]) -> list[Order]:
        """Customers (customer_unique_id) by behaviour, with the timestamps of their orders."""
        rng, orders = self.rng, []
        for archetype, count in counts.items():
            for _ in range(count):
                uid, home = self.new_id("customer_unique"), self.address()
                if archetype in ("small", "big"):
                    n = 1
                elif archetype == "lost":  # nothing but canceled/unavailable orders
                    n = rng.weighted([1, 2], [80, 20])
                elif archetype == "repeat":
                    n = rng.weighted([2, 3, 4, 5, 6], [62, 22, 8, 5, 3])
                else:
                    n = rng.between(5, 10)
                times = sorted(self.purchase_time() for _ in range(n))
                moves_at = rng.between(1, n - 1) if n > 1 and rng.chance(0.15) else n  # some customers move
                new_home = self.address() if moves_at < n else home
                for k, moment in enumerate(times):
                    orders.append(Order(uid, archetype, new_home if k >= moves_at else home, moment))
        # orders split in two: same customer, same moment, a second basket (they may share one review)
        for main in [o for o in orders if o.archetype in ("repeat", "vip")][::30]:
            later = min(main.purchase + timedelta(seconds=rng.between(5, 300)), END)
            orders.append(Order(main.uid, main.archetype, main.address, later, main))
        # the real range: first purchase on 2016-09-04, last on 2018-10-17 (one-order customers: no sibling)
        single = [o for o in orders if o.archetype in ("small", "big")]
        first, last = min(single, key=lambda o: o.purchase), max(single, key=lambda o: o.purchase)
        first.purchase = datetime.combine(START.date(), first.purchase.time())
        last.purchase = datetime.combine(END.date(), last.purchase.time())
        return sorted(orders, key=lambda o: o.purchase)

    def status(self, order: Order) -> str:
        if order.main is not None:
            return order.main.status
        if order.archetype == "lost":
            return self.rng.weighted(["canceled", "unavailable"], [60, 40])
        if order.purchase >= LAST_NORMAL_PURCHASE:
            return "canceled"
        return self.rng.weighted(STATUSES, STATUS_WEIGHTS)

    def basket(self, order: Order, buckets: dict[str, list[Product]]) -> list[tuple[Product, int]]:
        """(product, units) for one order: small baskets for most, expensive ones for big spenders/VIPs."""
        rng = self.rng
        bucket_weights = {
            "small": [85, 15, 0],
            "lost": [70, 25, 5],
            "repeat": [65, 30, 5],
            "big": [0, 30, 70],
            "vip": [20, 40, 40],
        }[order.archetype]
        if order.main is not None:
            bucket_weights = [80, 20, 0]
        n_products = rng.weighted([1, 2, 3], [92, 7, 1] if order.archetype != "vip" else [60, 30, 10])
        basket = []
        for _ in range(n_products):
            product = rng.pick(buckets[rng.weighted(["cheap", "mid", "high"], bucket_weights)])
            units = rng.weighted([1, 2, 3, 4, 6], [190, 6, 2, 1, 1])
            if order.archetype == "big" and product.price < 50_000:
                units = rng.between(2, 4)
            basket.append((product, units))
        return basket

    def order(self, order: Order, buckets: dict[str, list[Product]]) -> None:
        rng, status = self.rng, self.status(order)
        order.status, order.order_id, customer_id = status, self.new_id("order"), self.new_id("customer")
        here = order.address
        self.rows["olist_customers_dataset.csv"].append(
            [customer_id, order.uid, here.zip_prefix, here.city, here.state]
        )

        # lifecycle: empty timestamps as in the real data for each status
        purchase = order.purchase
        approved: datetime | None = purchase + timedelta(seconds=rng.between(600, 3 * 3600))
        if rng.chance(0.15):
            approved = purchase + timedelta(seconds=rng.between(3 * 3600, 60 * 3600))
        estimated = midnight(purchase.date() + timedelta(days=rng.between(12, 40)))
        carrier: datetime | None = approved + timedelta(seconds=rng.between(DAY, 6 * DAY))
        order.late = rng.chance(0.08)
        if order.late:
            delivered: datetime | None = estimated + timedelta(seconds=rng.between(DAY, 20 * DAY))
        else:
            delivered = carrier + timedelta(
                seconds=rng.between(DAY, int((estimated - carrier).total_seconds()))
            )
        if status == "delivered":
            approved = None if rng.chance(0.002) else approved
            carrier = None if rng.chance(0.002) else carrier
            delivered = None if rng.chance(0.002) else delivered
        elif status == "shipped":
            delivered = None
        elif status == "canceled":
            approved = None if rng.chance(0.25) else approved
            carrier = carrier if rng.chance(0.2) else None
            delivered = delivered if carrier and rng.chance(0.5) else None  # canceled after delivery
        else:
            carrier = delivered = None
            approved = None if status == "created" else approved
        order.delivered = delivered
        self.rows["olist_orders_dataset.csv"].append(
            [
                order.order_id,
                customer_id,
                status,
                *map(stamp, [purchase, approved, carrier, delivered, estimated]),
            ]
        )

        # items: none for created orders, rarely for unavailable ones, most canceled orders have some
        has_items = (
            status != "created"
            and (status != "unavailable" or rng.chance(0.1))
            and (status != "canceled" or rng.chance(0.75))
        )
        total = 0
        if has_items:
            limit = (approved or purchase) + timedelta(seconds=rng.between(2 * DAY, 7 * DAY))
            for product, units in self.basket(order, buckets):
                price = product.price if rng.chance(0.85) else product.price * rng.between(80, 99) // 100
                freight = (
                    600
                    + min(product.grams // 40, 15_000)
                    + (rng.between(0, 600) if product.seller_state == here.state else rng.between(600, 3000))
                )
                freight = 0 if rng.chance(0.01) else freight
                for _ in range(units):  # one row per unit: order_item_id 1..n, the product repeated
                    order.items.append(
                        [
                            order.order_id,
                            str(len(order.items) + 1),
                            product.product_id,
                            product.seller_id,
                            stamp(limit),
                            money(price),
                            money(freight),
                        ]
                    )
                    total += price + freight
        else:
            total = rng.skewed(1500, 60_000)
        self.rows["olist_order_items_dataset.csv"] += order.items
        self.payments(order, total)
        self.reviews(order, estimated)

    def payments(self, order: Order, total: int) -> None:
        rng = self.rng
        if order.status in ("delivered", "shipped", "canceled") and rng.chance(0.003):
            return  # no payment row at all
        if order.status == "canceled" and rng.chance(0.2):
            rows = [("not_defined", 1, 0)]
        else:
            method = rng.weighted(
                ["credit_card", "boleto", "debit_card", "voucher", "voucher+card"],
                [7400, 1900, 150, 200, 250],
            )
            vouchers: list[int] = []
            if method.startswith("voucher"):
                covered = total if method == "voucher" else total * rng.between(5, 60) // 100
                cuts = sorted(
                    rng.between(1, covered - 1) for _ in range(rng.between(0, 3) if covered > 5 else 0)
                )
                vouchers = [b - a for a, b in zip([0, *cuts], [*cuts, covered], strict=True) if b > a]
                total -= covered
            rows = [("voucher", 1, v) for v in vouchers]
            if method in ("credit_card", "voucher+card"):
                installments = min(rng.weighted(INSTALLMENTS, INSTALLMENT_WEIGHTS), max(1, total // 1000))
                if installments > 1 and rng.chance(0.3):
                    total += total * rng.between(5, 90) // 1000  # interest: paid more than price + freight
                rows.insert(rng.between(0, len(rows)), ("credit_card", installments, total))
            elif method in ("boleto", "debit_card"):
                rows = [(method, 1, total)]
        for sequential, (kind, installments, value) in enumerate(rows, start=1):
            self.rows["olist_order_payments_dataset.csv"].append(
                [order.order_id, str(sequential), kind, str(installments), money(value)]
            )

    def review_row(self, order_id: str, score: int, created: datetime) -> list[str]:
        rng = self.rng
        titles, messages = REVIEW_TEXTS["good" if score >= 4 else "so-so" if score == 3 else "bad"]
        title = rng.pick(titles) if rng.chance(0.1) else ""
        message = rng.pick(messages) if rng.chance(0.3) else ""
        answered = created + timedelta(seconds=rng.between(3 * 3600, 6 * DAY))
        return [self.new_id("review"), order_id, str(score), title, message, stamp(created), stamp(answered)]

    def reviews(self, order: Order, estimated: datetime) -> None:
        rng, out = self.rng, self.rows["olist_order_reviews_dataset.csv"]
        main = order.main
        if main is not None and main.review is not None and rng.chance(0.75):
            out.append([main.review[0], order.order_id, *main.review[2:]])  # one review_id on two orders
            return
        if rng.chance(0.015):
            return  # never reviewed
        # the survey goes out on delivery (or when it was due); late or failed orders score low
        if order.status in ("canceled", "unavailable"):
            weights = [60, 8, 10, 7, 15]
            created = midnight(order.purchase.date()) + timedelta(days=rng.between(2, 25))
        elif order.delivered is None:
            weights, created = [45, 10, 15, 12, 18], estimated + timedelta(days=rng.between(0, 3))
        else:
            weights = [45, 10, 15, 12, 18] if order.late else [6, 2, 7, 21, 64]
            created = midnight(order.delivered.date()) + timedelta(days=rng.between(0, 2))
        scores = [1, 2, 3, 4, 5]
        row = self.review_row(order.order_id, rng.weighted(scores, weights), created)
        out.append(row)
        if rng.chance(0.008):  # reviewed twice: another review_id, a later date
            later = created + timedelta(days=rng.between(1, 40))
            out.append(self.review_row(order.order_id, rng.weighted(scores, weights), later))
        else:
            order.review = row


def generate(out_dir: Path, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Write the sample CSVs into out_dir (created if missing); return the number of rows per file."""
    b = Builder(seed)
    sellers = b.sellers(150)
    products = b.products(700, sellers)
    buckets: dict[str, list[Product]] = {"cheap": [], "mid": [], "high": []}
    for p in products:
        buckets["cheap" if p.price < 15_000 else "mid" if p.price < 50_000 else "high"].append(p)
    for order in b.people({"small": 1700, "big": 170, "lost": 30, "repeat": 310, "vip": 30}):
        b.order(order, buckets)
    used = {p.category for p in products}
    b.rows["product_category_name_translation.csv"] = [
        [name, english] for name, english, *_ in CATEGORIES if english is not None and name in used
    ]
    # the originals are in no useful order; neither are these (items stay grouped by order, as there)
    for name in (
        "olist_customers_dataset.csv",
        "olist_orders_dataset.csv",
        "olist_order_payments_dataset.csv",
        "olist_order_reviews_dataset.csv",
        "olist_products_dataset.csv",
        "olist_sellers_dataset.csv",
    ):
        b.rng.shuffle(b.rows[name])
    b.rows["olist_order_items_dataset.csv"].sort(key=lambda r: (r[0], int(r[1])))

    out_dir.mkdir(parents=True, exist_ok=True)
    for name, table in TABLES.items():
        write_table(out_dir, table, b.rows[name])
    return {name: len(rows) for name, rows in b.rows.items()}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out_dir", type=Path, help="folder to write the CSVs into (e.g. seeds/olist_sample)")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )


def main(args: argparse.Namespace) -> int:
    try:
        counts = generate(args.out_dir, args.seed)
    except OSError as exc:
        print(f"generate-sample: cannot write into {args.out_dir}: {exc}")
        return 1
    for name, rows in counts.items():
        size = (args.out_dir / name).stat().st_size
        print(f"{name:<42} {rows:>6} rows {size:>9,} bytes")
    return 0
