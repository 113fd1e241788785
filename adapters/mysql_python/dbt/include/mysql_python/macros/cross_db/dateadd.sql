{#-
    dateadd(datepart, interval, from_date_or_timestamp) -> date_add(); the type follows MySQL (a date stays a date
    for day and longer parts). Month ends clamp: 2020-01-31 + 1 month = 2020-02-29. dbt-core's default
    `dateadd(day, 1, x)` is not MySQL syntax.
-#}
{% macro mysql__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {%- set part = datepart | lower | trim -%}
    {%- if part in ('year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second', 'microsecond') -%}
        date_add({{ from_date_or_timestamp }}, interval ({{ interval }}) {{ part }})
    {%- elif part == 'millisecond' -%}
        date_add(cast({{ from_date_or_timestamp }} as datetime(6)), interval ({{ interval }}) * 1000 microsecond)
    {%- else -%}
        {{ exceptions.raise_compiler_error("dateadd: unsupported datepart '" ~ datepart ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{% macro mariadb__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {{ mysql__dateadd(datepart, interval, from_date_or_timestamp) }}
{%- endmacro %}
