{#-
    datediff(first_date, second_date, datepart) -> second - first, counted in date-part BOUNDARIES crossed, like
    dbt's other adapters: datediff('2018-01-01 23:00', '2018-01-02 01:00', 'day') = 1, although only two hours
    passed (MySQL's own timestampdiff() counts whole elapsed units and would say 0). Weeks start on Monday,
    like date_trunc('week'). dbt-core's default `datediff(day, a, b)` is not MySQL syntax.
-#}
{% macro mysql__datediff(first_date, second_date, datepart) -%}
    {%- set part = datepart | lower | trim -%}
    {%- if part == 'day' -%}
        datediff({{ second_date }}, {{ first_date }})
    {%- elif part in ('year', 'quarter', 'month', 'week', 'hour', 'minute', 'second') -%}
        timestampdiff({{ part }}, {{ mysql__date_trunc(part, first_date) }}, {{ mysql__date_trunc(part, second_date) }})
    {%- elif part == 'millisecond' -%}
        timestampdiff(
            microsecond, {{ mysql__date_trunc(part, first_date) }}, {{ mysql__date_trunc(part, second_date) }}
        ) div 1000
    {%- elif part == 'microsecond' -%}
        timestampdiff(microsecond, cast({{ first_date }} as datetime(6)), cast({{ second_date }} as datetime(6)))
    {%- else -%}
        {{ exceptions.raise_compiler_error("datediff: unsupported datepart '" ~ datepart ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{% macro mariadb__datediff(first_date, second_date, datepart) -%}
    {{ mysql__datediff(first_date, second_date, datepart) }}
{%- endmacro %}
