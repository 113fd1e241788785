{#-
    dbt's type_* macros end up in CAST(... AS type), and MySQL's CAST accepts only a few names: `string`,
    `timestamp`, `int`, `bigint` and `numeric(28,6)` (dbt's defaults) are all syntax errors there.
    type_string() is `char` (a varchar in CAST; as a column type it would be char(1): use varchar(n) there).
-#}
{% macro mysql__type_string() %}{{ return('char') }}{% endmacro %}
{% macro mariadb__type_string() %}{{ return('char') }}{% endmacro %}

{% macro mysql__type_timestamp() %}{{ return('datetime') }}{% endmacro %}
{% macro mariadb__type_timestamp() %}{{ return('datetime') }}{% endmacro %}

{% macro mysql__type_int() %}{{ return('signed') }}{% endmacro %}
{% macro mariadb__type_int() %}{{ return('signed') }}{% endmacro %}

{% macro mysql__type_bigint() %}{{ return('signed') }}{% endmacro %}
{% macro mariadb__type_bigint() %}{{ return('signed') }}{% endmacro %}

{% macro mysql__type_numeric() %}{{ return('decimal(28,6)') }}{% endmacro %}
{% macro mariadb__type_numeric() %}{{ return('decimal(28,6)') }}{% endmacro %}

{% macro mysql__type_float() %}{{ return('double') }}{% endmacro %}
{% macro mariadb__type_float() %}{{ return('double') }}{% endmacro %}
