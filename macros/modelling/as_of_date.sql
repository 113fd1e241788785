{#-
    The date recency and tenure are measured from, as a SQL date expression.
    var('as_of_date') (YYYY-MM-DD) when set; otherwise the day after the last valid purchase in the data (an
    uncorrelated scalar subquery over the staged orders, evaluated once). Never today's date: a rebuild of the
    same data gives the same features.
-#}
{% macro as_of_date() -%}
    {%- set as_of = var('as_of_date', none) -%}
    {%- set as_of = '' if as_of is none else as_of | string | trim -%}
    {%- if as_of == '' -%}
        (
            select cast(date_add(cast(max(orders.purchased_at) as date), interval 1 day) as date)
            from {{ ref('stg_olist__orders') }} as orders
            where {{ valid_purchase('orders.order_status') }}
        )
    {%- elif is_iso_date(as_of) -%}
        cast('{{ as_of }}' as date)
    {%- elif execute -%}
        {{ exceptions.raise_compiler_error("var as_of_date must be a date written YYYY-MM-DD, got '" ~ as_of ~ "'") }}
    {%- else -%}
        cast(null as date)
    {%- endif -%}
{%- endmacro %}

{#- True for a real calendar date written YYYY-MM-DD (2018-02-30 is refused). -#}
{% macro is_iso_date(value) -%}
    {%- set parts = value.split('-') -%}
    {%- if value | length != 10 or parts | length != 3 or not (parts | join('')).isdigit() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set year, month, day = parts[0] | int, parts[1] | int, parts[2] | int -%}
    {%- set leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 -%}
    {%- set month_days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] -%}
    {{ return(1 <= month <= 12 and 1 <= day <= month_days[month - 1]) }}
{%- endmacro %}
