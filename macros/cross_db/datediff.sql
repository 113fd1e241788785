{#- dbt-core's default datediff is not MySQL syntax. Whole units between two timestamps, like other adapters. -#}
{% macro mysql__datediff(first_date, second_date, datepart) -%}
    timestampdiff({{ datepart }}, {{ first_date }}, {{ second_date }})
{%- endmacro %}

{% macro mariadb__datediff(first_date, second_date, datepart) -%}
    {{ mysql__datediff(first_date, second_date, datepart) }}
{%- endmacro %}
