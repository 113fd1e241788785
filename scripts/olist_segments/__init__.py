"""olist-segments: Olist orders → dbt customer mart → KMeans customer segments on MySQL/MariaDB."""

__version__ = "0.1.0"
