{#-
    Model contracts on MySQL/MariaDB: dbt checks a contract by selecting `cast(null as <declared type>)` and
    comparing the result's column types with the model's. Neither server accepts every column type in CAST
    (no `cast(x as varchar(n))`, no `cast(x as int)` on MySQL 8), so declared types are mapped to the CAST type
    that yields the same result type: varchar(n) → char(n), int/integer/bigint… → signed. The table DDL still uses
    the declared type (varchar(100), int, …).
-#}
{% macro contract_cast_type(data_type) -%}
    {%- set declared = data_type | trim | lower -%}
    {%- set varchar = modules.re.match('^varchar\\s*(\\(\\s*[0-9]+\\s*\\))$', declared) -%}
    {%- if varchar -%}
        char{{ varchar.group(1) }}
    {%- elif modules.re.match('^(tinyint|smallint|mediumint|int|integer|bigint)(\\s*\\([0-9]+\\))?$', declared) -%}
        signed
    {%- elif modules.re.match('^(tinyint|smallint|mediumint|int|integer|bigint)(\\s*\\([0-9]+\\))?\\s+unsigned$', declared) -%}
        unsigned
    {%- else -%}
        {{ data_type }}
    {%- endif -%}
{%- endmacro %}

{% macro mysql__get_empty_schema_sql(columns) -%}
    {%- set missing = [] -%}
    {%- set expressions = [] -%}
    {%- for name in columns -%}
        {%- set col = columns[name] -%}
        {%- set declared = (col.get('data_type') or '') | trim | lower -%}
        {%- set col_name = adapter.quote(col['name']) if col.get('quote') else col['name'] -%}
        {%- if declared == '' -%}
            {%- do missing.append(col['name']) -%}
        {%- elif declared in ('text', 'mediumtext', 'longtext') -%}
            {%- do expressions.append("'' as " ~ col_name) -%}
        {%- else -%}
            {%- do expressions.append(
                'cast(null as ' ~ contract_cast_type(col['data_type']) ~ ') as ' ~ col_name
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if missing | length > 0 -%}
        {{ exceptions.column_type_missing(column_names=missing) }}
    {%- endif -%}
    select {{ expressions | join(', ') }}
{%- endmacro %}

{% macro mariadb__get_empty_schema_sql(columns) -%}
    {{ return(mysql__get_empty_schema_sql(columns)) }}
{%- endmacro %}
