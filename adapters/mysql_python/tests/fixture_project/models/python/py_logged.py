"""A model that publishes a row into a log table in the same RENAME TABLE as itself (Session.stage_copy),
and records its failures in `py_failures` (Session.on_failure). var py_fail: fail after staging the row."""

import pandas as pd


def model(dbt, session):
    numbers = dbt.ref("numbers")
    schema = dbt.this.schema
    session.execute(f"create table if not exists `{schema}`.`py_log` (run int primary key)")
    session.execute(f"create table if not exists `{schema}`.`py_failures` (error text)")
    session.on_failure(
        lambda error: session.execute(f"insert into `{schema}`.`py_failures` values (%s)", (str(error),))
    )
    log = session.stage_copy("py_log")
    (run,) = session.execute(f"select coalesce(max(run), 0) + 1 from {log.name}")[0]
    session.execute(f"insert into {log.name} values (%s)", (run,))
    if dbt.config.get("fail"):
        raise RuntimeError(f"injected failure of run {run}")
    return pd.DataFrame({"run": [run], "customers": [numbers.count()]})
