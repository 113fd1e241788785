{#-
    hash(field) -> md5 of the value's text (UTF-8), 32 lower-case hex digits, like Postgres/Snowflake.
    dbt-core's default casts to `string`, a type MySQL does not know.
-#}
{% macro mysql__hash(field) -%}
    md5(cast({{ field }} as char))
{%- endmacro %}

{% macro mariadb__hash(field) -%}
    {{ mysql__hash(field) }}
{%- endmacro %}
