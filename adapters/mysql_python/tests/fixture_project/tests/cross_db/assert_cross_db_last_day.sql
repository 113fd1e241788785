-- last_day returns the date of the period's last day: month ends, leap years, quarters, years, weeks (Sunday).
{%- set cases = [
    ('month', "date '2020-02-10'", "date '2020-02-29'"),
    ('month', "date '2019-02-10'", "date '2019-02-28'"),
    ('month', "date '2000-02-01'", "date '2000-02-29'"),
    ('month', "date '1900-02-01'", "date '1900-02-28'"),
    ('month', "date '2018-12-31'", "date '2018-12-31'"),
    ('month', "timestamp '2018-04-10 23:00:00'", "date '2018-04-30'"),
    ('quarter', "date '2018-01-01'", "date '2018-03-31'"),
    ('quarter', "date '2018-05-05'", "date '2018-06-30'"),
    ('quarter', "date '2018-11-01'", "date '2018-12-31'"),
    ('year', "date '2018-05-05'", "date '2018-12-31'"),
    ('week', "date '2018-07-11'", "date '2018-07-15'"),
    ('week', "date '2018-07-15'", "date '2018-07-15'"),
    ('month', 'null', 'null'),
] %}

with cases as (
    {%- for datepart, value, expected in cases %}
        select
            {{ loop.index }} as case_number,
            '{{ datepart }}: {{ value | replace("'", "") }}' as case_label,
            {{ last_day(value, datepart) }} as actual,
            {{ expected }} as expected
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select *
from cases
where not (actual <=> expected)
