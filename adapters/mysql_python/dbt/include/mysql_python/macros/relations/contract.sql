{#-
    Contract pre-flight check that tolerates MySQL's wire types.

    dbt compares the wire type of each column of the model's query with that of `cast(null as <declared type>)`
    (the casts come from mysql__get_empty_schema_sql in contract_types.sql, beside this file). Wire types are
    coarser and noisier than column types: a text column arrives as BLOB while any string cast is VAR_STRING,
    a tinyint as TINY, a decimal literal as NEWDECIMAL or DECIMAL. So both sides are compared by type family
    (integer, decimal, float, string, date, datetime, time); the exact declared types (varchar(100),
    decimal(14,2)...) are enforced by the CREATE TABLE column definitions, where strict mode rejects values that
    do not fit.
-#}
{% macro mysql__format_column(column) -%}
    {%- set families = {
        'INTEGER': 'integer', 'TINY': 'integer', 'SHORT': 'integer', 'INT24': 'integer', 'LONG': 'integer',
        'LONGLONG': 'integer', 'YEAR': 'integer', 'BIT': 'integer',
        'DECIMAL': 'decimal', 'NEWDECIMAL': 'decimal', 'FLOAT': 'float', 'DOUBLE': 'float',
        'TEXT': 'string', 'STRING': 'string', 'VAR_STRING': 'string', 'VARCHAR': 'string', 'BLOB': 'string',
        'TINY_BLOB': 'string', 'MEDIUM_BLOB': 'string', 'LONG_BLOB': 'string', 'ENUM': 'string', 'SET': 'string',
        'JSON': 'string', 'DATETIME': 'datetime', 'TIMESTAMP': 'datetime', 'DATE': 'date', 'NEWDATE': 'date',
        'TIME': 'time'} -%}
    {%- set data_type = families.get(column.dtype | upper, column.dtype) -%}
    {{ return({'name': column.name, 'data_type': data_type, 'formatted': column.column | lower ~ ' ' ~ data_type}) }}
{%- endmacro %}

{% macro mariadb__format_column(column) -%}
    {{ return(mysql__format_column(column)) }}
{%- endmacro %}
