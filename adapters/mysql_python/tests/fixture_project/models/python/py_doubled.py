"""Each number of `numbers` with its amount doubled, streamed: an iterator of DataFrames of `chunk` rows.

var py_fail_after: raise after yielding that many chunks (a failure in the middle of the load);
var py_extra_column: yield a column the declared table does not have.
"""


def model(dbt, session):
    numbers = dbt.ref("numbers")
    fail_after = dbt.config.get("fail_after")
    extra_column = dbt.config.get("extra_column")
    return doubled(numbers, int(dbt.config.get("chunk")), fail_after, extra_column)


def doubled(numbers, chunk, fail_after, extra_column):
    for i, part in enumerate(numbers.chunks(["n", "bucket", "amount"], size=chunk, order_by=["n"])):
        if fail_after is not None and i == int(fail_after):
            raise RuntimeError(f"injected failure after {i} chunks")
        if part["amount"].dtype != "float64":
            raise TypeError(f"decimal amount arrived as {part['amount'].dtype}")
        part["amount"] = part["amount"] * 2
        if extra_column:
            part["surprise"] = 1
        yield part
