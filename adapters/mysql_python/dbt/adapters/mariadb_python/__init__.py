"""dbt adapter type `mariadb_python`: dbt-mysql's `mariadb` adapter with local Python models."""

from dbt.adapters.base import AdapterPlugin

from dbt.adapters.mysql_python.connections import MariaDBPythonCredentials
from dbt.adapters.mysql_python.impl import MariaDBPythonAdapter
from dbt.include import mysql_python

Plugin = AdapterPlugin(
    adapter=MariaDBPythonAdapter,  # type: ignore[arg-type]
    credentials=MariaDBPythonCredentials,
    include_path=mysql_python.PACKAGE_PATH,
    dependencies=["mariadb"],
)
