"""One DataFrame built in Python, with no declared column types: the adapter infers them from the dtypes.
Values that break naive loaders: quotes, backslashes, tabs, newlines, emoji, NULLs, NaN, tiny floats."""

import datetime

import pandas as pd


def model(dbt, session):
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "label": ["x'); drop table t; --", "back\\slash\\", "tab\there", "new\nline", "ção 🚀", None],
            "ratio": [0.0, 1e-300, 1 / 3, 2**0.5, 123456.789, float("nan")],
            "flag": [True, False, True, False, True, False],
            "at": pd.to_datetime(["2018-01-01 23:59:59", "2020-02-29 00:00:00", None, "1999-12-31 12:00:00",
                                  "2018-06-30 12:00:00.250000", "2018-06-30 00:00:00"], format="ISO8601"),
            "day": [datetime.date(2018, 1, d) for d in range(1, 7)],
        }
    )  # fmt: skip
