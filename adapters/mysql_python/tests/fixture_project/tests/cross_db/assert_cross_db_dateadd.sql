-- dateadd adds whole date parts with MySQL's date_add(); month ends clamp (Jan 31 + 1 month = end of February).
{%- set cases = [
    ('day', '1', "timestamp '2018-01-01 01:00:00'", "timestamp '2018-01-02 01:00:00'"),
    ('day', '-1', "date '2018-03-01'", "date '2018-02-28'"),
    ('day', '1 + 1', "date '2018-01-01'", "date '2018-01-03'"),
    ('day', '1', "'2018-12-31'", "date '2019-01-01'"),
    ('week', '2', "date '2018-12-25'", "date '2019-01-08'"),
    ('month', '1', "date '2020-01-31'", "date '2020-02-29'"),
    ('month', '1', "date '2019-01-31'", "date '2019-02-28'"),
    ('month', '-1', "date '2018-03-31'", "date '2018-02-28'"),
    ('quarter', '1', "date '2018-11-30'", "date '2019-02-28'"),
    ('year', '1', "date '2020-02-29'", "date '2021-02-28'"),
    ('year', '4', "date '2020-02-29'", "date '2024-02-29'"),
    ('hour', '3', "timestamp '2018-12-31 22:30:00'", "timestamp '2019-01-01 01:30:00'"),
    ('hour', '1', "date '2018-01-01'", "timestamp '2018-01-01 01:00:00'"),
    ('minute', '-90', "timestamp '2018-01-01 00:30:00'", "timestamp '2017-12-31 23:00:00'"),
    ('second', '86400', "timestamp '2020-02-28 12:00:00'", "timestamp '2020-02-29 12:00:00'"),
    ('millisecond', '1500', "timestamp '2018-01-01 00:00:00'", "timestamp '2018-01-01 00:00:01.5'"),
    ('microsecond', '1', "timestamp '1999-12-31 23:59:59.999999'", "timestamp '2000-01-01 00:00:00'"),
    ('day', '1', 'null', 'null'),
] %}

with cases as (
    {%- for datepart, interval, from_date, expected in cases %}
        select
            {{ loop.index }} as case_number,
            '{{ datepart }}: {{ from_date | replace("'", "") }} + {{ interval }}' as case_label,
            {{ dateadd(datepart, interval, from_date) }} as actual,
            {{ expected }} as expected
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select *
from cases
where not (actual <=> expected)
