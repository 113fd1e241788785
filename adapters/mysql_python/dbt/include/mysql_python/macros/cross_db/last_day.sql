{#- last_day(date, datepart) -> the date of the period's last day: month, quarter, year, week (Sunday) or day. -#}
{% macro mysql__last_day(date, datepart) -%}
    {%- set part = datepart | lower | trim -%}
    {%- if part == 'month' -%}
        last_day({{ date }})
    {%- elif part == 'quarter' -%}
        last_day(makedate(year({{ date }}), 1) + interval (quarter({{ date }}) * 3 - 1) month)
    {%- elif part == 'year' -%}
        makedate(year({{ date }}) + 1, 1) - interval 1 day
    {%- elif part == 'week' -%}
        date({{ date }}) + interval (6 - weekday({{ date }})) day
    {%- elif part == 'day' -%}
        date({{ date }})
    {%- else -%}
        {{ exceptions.raise_compiler_error("last_day: unsupported datepart '" ~ datepart ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{% macro mariadb__last_day(date, datepart) -%}
    {{ mysql__last_day(date, datepart) }}
{%- endmacro %}
