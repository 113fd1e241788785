{#-
    any_value(expression) -> min(): MariaDB has no any_value(); min() picks a non-NULL value deterministically.
    bool_or(expression) -> 1 if any row is true, 0 if none is (NULLs ignored), NULL if all are NULL.
-#}
{% macro mysql__any_value(expression) -%}
    min({{ expression }})
{%- endmacro %}

{% macro mariadb__any_value(expression) -%}
    {{ mysql__any_value(expression) }}
{%- endmacro %}

{% macro mysql__bool_or(expression) -%}
    max(case when ({{ expression }}) then 1 when not ({{ expression }}) then 0 end)
{%- endmacro %}

{% macro mariadb__bool_or(expression) -%}
    {{ mysql__bool_or(expression) }}
{%- endmacro %}
