{#-
    listagg(measure, delimiter_text, order_by_clause, limit_num) -> group_concat(... order by ... separator ...).
    delimiter_text must be a string literal (MySQL's SEPARATOR takes no expression). MySQL 8 has no LIMIT inside
    group_concat, so limit_num keeps the text before the limit_num-th delimiter (exact unless a value contains
    the delimiter). The result is cut at @@group_concat_max_len bytes: 1 MiB on MariaDB, only 1024 on MySQL 8
    (raise it with `set session group_concat_max_len = ...` in a pre-hook for long lists).
-#}
{% macro mysql__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- set aggregate -%}
        group_concat({{ measure }}{% if order_by_clause %} {{ order_by_clause }}{% endif %} separator {{ delimiter_text }})
    {%- endset -%}
    {%- if limit_num -%}
        substring_index({{ aggregate }}, {{ delimiter_text }}, {{ limit_num }})
    {%- else -%}
        {{ aggregate }}
    {%- endif -%}
{%- endmacro %}

{% macro mariadb__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {{ mysql__listagg(measure, delimiter_text, order_by_clause, limit_num) }}
{%- endmacro %}
