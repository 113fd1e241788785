{#-
    concat(fields) -> concat(a, b, ...). dbt-core's default joins with `||`, which MySQL and MariaDB read as
    logical OR (unless sql_mode has PIPES_AS_CONCAT): 'a' || 'b' silently returns 0. NULL in, NULL out, as in
    every other adapter.
-#}
{% macro mysql__concat(fields) -%}
    concat({{ fields | join(', ') }})
{%- endmacro %}

{% macro mariadb__concat(fields) -%}
    {{ mysql__concat(fields) }}
{%- endmacro %}
