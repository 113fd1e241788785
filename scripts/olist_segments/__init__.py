"""olist-segments: Olist orders → dbt customer mart → KMeans customer segments on MySQL/MariaDB."""

# Load the connector's C extension before anything else: loaded after matplotlib's Agg backend (which kneed
# pulls in) it fails with "libstdc++.so.6: cannot allocate memory in static TLS block" and connect() refuses.
import mysql.connector  # noqa: F401

__version__ = "0.1.0"
