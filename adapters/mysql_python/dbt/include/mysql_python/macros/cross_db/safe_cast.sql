{#-
    safe_cast(field, type) -> the value as `type`, or NULL when it does not convert cleanly.

    MySQL has no try_cast, and a plain CAST is not safe: cast('abc' as signed) is 0 and cast('2019-02-30' as
    date) is NULL, both with a warning that strict mode turns into an ERROR inside CREATE TABLE ... SELECT (a
    dbt table model). Here the text is checked first (regexp, and the calendar for dates), so nothing ever
    warns:
      integers            optional sign and digits, or a decimal number (rounded, like CAST of a number)
      decimal/float       plain decimal notation (no exponent)
      date                YYYY-MM-DD with a real month and day (a time part is allowed and dropped)
      datetime/timestamp  YYYY-MM-DD[( |T)HH:MM:SS[.ffffff]] with a real calendar day and clock time
      text types          cast as char (never fails; a length such as varchar(10) is not applied)
    Other types get a plain CAST.
-#}
{% macro mysql__safe_cast(field, type) -%}
    {%- set t = type | lower | trim -%}
    {%- set base = t.split('(')[0].replace(' unsigned', '').replace(' signed', '').strip() -%}
    {%- set text = 'trim(cast(' ~ field ~ ' as char))' -%}
    {%- set number = "'^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)$'" -%}
    {%- if base in ('tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'signed', 'unsigned') -%}
        {%- set target = 'unsigned' if 'unsigned' in t else 'signed' -%}
        case when {{ text }} regexp {{ number }} then cast(cast({{ text }} as decimal(65, 30)) as {{ target }}) end
    {%- elif base in ('decimal', 'numeric', 'dec', 'fixed') -%}
        case when {{ text }} regexp {{ number }} then cast({{ text }} as {{ t | replace(base, 'decimal', 1) }}) end
    {%- elif base in ('float', 'double', 'real', 'double precision') -%}
        case when {{ text }} regexp {{ number }} then cast({{ text }} as double) end
    {%- elif base == 'date' -%}
        case when {{ safe_cast_is_date(text) }} then cast(left({{ text }}, 10) as date) end
    {%- elif base in ('datetime', 'timestamp') -%}
        {%- set target = 'datetime' ~ (t[t.index('('):] if '(' in t else '') -%}
        case
            when {{ safe_cast_is_date(text) }}
                and {{ text }} regexp '^.{10}([ T]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,6})?)?$'
                then cast(replace({{ text }}, 'T', ' ') as {{ target }})
        end
    {%- elif base in ('char', 'varchar', 'text', 'tinytext', 'mediumtext', 'longtext', 'string') -%}
        cast({{ field }} as char)
    {%- else -%}
        cast({{ field }} as {{ type }})
    {%- endif -%}
{%- endmacro %}

{% macro mariadb__safe_cast(field, type) -%}
    {{ mysql__safe_cast(field, type) }}
{%- endmacro %}


{#- SQL condition: `text` starts with YYYY-MM-DD naming a real calendar day (CASE keeps last_day() from warning). -#}
{% macro safe_cast_is_date(text) -%}
    case
        when {{ text }} regexp '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])($|[ T])'
            then substring({{ text }}, 9, 2) + 0 <= dayofmonth(last_day(concat(left({{ text }}, 7), '-01')))
        else false
    end
{%- endmacro %}
