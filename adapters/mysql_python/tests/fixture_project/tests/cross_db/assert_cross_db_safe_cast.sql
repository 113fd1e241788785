-- safe_cast converts clean values and gives NULL (never 0, a warning or an error) for anything else.
{%- set cases = [
    ("'42'", 'signed', '42'),
    ("' -7 '", 'int', '-7'),
    ("'12.7'", 'bigint', '13'),
    ("'abc'", 'int', 'null'),
    ("''", 'integer', 'null'),
    ("'1e3'", 'int', 'null'),
    ("'12.345'", 'decimal(10,2)', '12.35'),
    ("'.5'", 'numeric(4,2)', '0.50'),
    ("'1,5'", 'decimal(10,2)', 'null'),
    ("'2.5'", 'double', '2.5e0'),
    ("'2020-02-29'", 'date', "date '2020-02-29'"),
    ("'2019-02-29'", 'date', 'null'),
    ("'2018-13-01'", 'date', 'null'),
    ("'2018-04-31'", 'date', 'null'),
    ("'2018-01-01 10:00:00'", 'date', "date '2018-01-01'"),
    ("'01/02/2018'", 'date', 'null'),
    ("date '2018-06-30'", 'date', "date '2018-06-30'"),
    ("'2018-01-01 23:59:59'", 'datetime', "timestamp '2018-01-01 23:59:59'"),
    ("'2018-01-01T10:00:00'", 'timestamp', "timestamp '2018-01-01 10:00:00'"),
    ("'2018-01-01'", 'datetime', "timestamp '2018-01-01 00:00:00'"),
    ("'2018-01-01 24:00:00'", 'datetime', 'null'),
    ("'2018-02-30 10:00:00'", 'datetime', 'null'),
    ("'2018-01-01 10:00:00.123456'", 'datetime(6)', "timestamp '2018-01-01 10:00:00.123456'"),
    ("'not a date'", 'datetime', 'null'),
    ('null', 'int', 'null'),
    ('123', 'varchar(10)', "'123'"),
] %}

with cases as (
    {%- for field, type, expected in cases %}
        select
            {{ loop.index }} as case_number,
            '{{ field | replace("'", "") }} as {{ type }}' as case_label,
            cast({{ safe_cast(field, type) }} as char) as actual,
            ({{ safe_cast(field, type) }}) <=> ({{ expected }}) as ok
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select *
from cases
where not ok
