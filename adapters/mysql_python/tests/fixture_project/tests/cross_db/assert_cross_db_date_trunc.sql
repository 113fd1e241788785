-- date_trunc returns the datetime at which the period starts; weeks start on Monday (like Postgres).
{%- set cases = [
    ('year', "timestamp '2018-07-15 13:14:15'", "timestamp '2018-01-01 00:00:00'"),
    ('quarter', "timestamp '2018-07-15 13:14:15'", "timestamp '2018-07-01 00:00:00'"),
    ('quarter', "date '2018-03-31'", "timestamp '2018-01-01 00:00:00'"),
    ('quarter', "timestamp '2018-12-31 23:59:59'", "timestamp '2018-10-01 00:00:00'"),
    ('month', "timestamp '2018-07-15 13:14:15'", "timestamp '2018-07-01 00:00:00'"),
    ('month', "timestamp '2020-02-29 10:00:00'", "timestamp '2020-02-01 00:00:00'"),
    ('month', "date '2018-07-15'", "timestamp '2018-07-01 00:00:00'"),
    ('month', "'2018-07-15 13:14:15'", "timestamp '2018-07-01 00:00:00'"),
    ('week', "timestamp '2018-07-15 13:14:15'", "timestamp '2018-07-09 00:00:00'"),
    ('week', "timestamp '2018-07-16 10:00:00'", "timestamp '2018-07-16 00:00:00'"),
    ('week', "date '2019-01-01'", "timestamp '2018-12-31 00:00:00'"),
    ('day', "timestamp '2018-07-15 13:14:15'", "timestamp '2018-07-15 00:00:00'"),
    ('hour', "timestamp '2018-07-15 13:14:15'", "timestamp '2018-07-15 13:00:00'"),
    ('minute', "timestamp '2018-07-15 13:14:15'", "timestamp '2018-07-15 13:14:00'"),
    ('second', "timestamp '2018-07-15 13:14:15.987654'", "timestamp '2018-07-15 13:14:15'"),
    ('millisecond', "timestamp '2018-07-15 13:14:15.987654'", "timestamp '2018-07-15 13:14:15.987'"),
    ('month', 'null', 'null'),
] %}

with cases as (
    {%- for datepart, value, expected in cases %}
        select
            {{ loop.index }} as case_number,
            '{{ datepart }}: {{ value | replace("'", "") }}' as case_label,
            {{ date_trunc(datepart, value) }} as actual,
            {{ expected }} as expected
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select *
from cases
where not (actual <=> expected)
