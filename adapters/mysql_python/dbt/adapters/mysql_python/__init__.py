"""dbt adapter type `mysql_python`: dbt-mysql's `mysql` adapter (MySQL 8) with local Python models."""

from dbt.adapters.base import AdapterPlugin

from dbt.include import mysql_python

from .connections import MySQLPythonCredentials
from .impl import MySQLPythonAdapter

Plugin = AdapterPlugin(
    adapter=MySQLPythonAdapter,  # type: ignore[arg-type]
    credentials=MySQLPythonCredentials,
    include_path=mysql_python.PACKAGE_PATH,
    dependencies=["mysql"],
)
