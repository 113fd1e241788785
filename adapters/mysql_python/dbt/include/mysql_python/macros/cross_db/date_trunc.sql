{#-
    date_trunc(datepart, date) -> datetime at the start of the period (like Postgres: a timestamp, weeks start
    on Monday). dbt-core's default `date_trunc('month', x)` does not exist in MySQL/MariaDB.
    The value is read as datetime(6), so date and datetime columns and ISO strings all work.
-#}
{% macro mysql__date_trunc(datepart, date) -%}
    {%- set part = datepart | lower | trim -%}
    {%- set value = 'cast(' ~ date ~ ' as datetime(6))' -%}
    {%- set formats = {
        'year': '%Y-01-01', 'month': '%Y-%m-01', 'day': '%Y-%m-%d', 'hour': '%Y-%m-%d %H:00:00',
        'minute': '%Y-%m-%d %H:%i:00', 'second': '%Y-%m-%d %H:%i:%s'} -%}
    {%- if part in formats -%}
        cast(date_format({{ value }}, '{{ formats[part] }}') as datetime)
    {%- elif part == 'quarter' -%}
        cast(makedate(year({{ value }}), 1) + interval (quarter({{ value }}) - 1) quarter as datetime)
    {%- elif part == 'week' -%}
        cast(date({{ value }}) - interval weekday({{ value }}) day as datetime)
    {%- elif part == 'millisecond' -%}
        cast(left(date_format({{ value }}, '%Y-%m-%d %H:%i:%s.%f'), 23) as datetime(3))
    {%- else -%}
        {{ exceptions.raise_compiler_error("date_trunc: unsupported datepart '" ~ datepart ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{% macro mariadb__date_trunc(datepart, date) -%}
    {{ mysql__date_trunc(datepart, date) }}
{%- endmacro %}
