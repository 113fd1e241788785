-- datediff counts date-part boundaries crossed (dbt's cross-adapter semantics), weeks starting on Monday.
-- Returns the cases where mysql__datediff/mariadb__datediff disagree with the hand-computed answer.
{%- set cases = [
    ("timestamp '2018-01-01 23:00:00'", "timestamp '2018-01-02 01:00:00'", 'day', '1'),
    ("timestamp '2018-01-02 01:00:00'", "timestamp '2018-01-01 23:00:00'", 'day', '-1'),
    ("timestamp '2018-01-01 01:00:00'", "timestamp '2018-01-02 01:00:00'", 'day', '1'),
    ("timestamp '2019-12-31 00:00:00'", "timestamp '2019-12-31 23:59:59'", 'day', '0'),
    ("date '2020-02-28'", "date '2020-03-01'", 'day', '2'),
    ("date '2019-02-28'", "date '2019-03-01'", 'day', '1'),
    ("date '2000-02-28'", "date '2000-03-01'", 'day', '2'),
    ("date '1900-02-28'", "date '1900-03-01'", 'day', '1'),
    ("'2018-01-01'", "'2018-03-01'", 'day', '59'),
    ("timestamp '2018-01-01 01:00:00'", "timestamp '2018-02-01 01:00:00'", 'month', '1'),
    ("date '2018-01-31'", "date '2018-02-01'", 'month', '1'),
    ("date '2018-01-01'", "date '2018-01-31'", 'month', '0'),
    ("date '2018-03-31'", "date '2017-12-01'", 'month', '-3'),
    ("date '2018-03-31'", "date '2018-04-01'", 'quarter', '1'),
    ("date '2018-01-01'", "date '2018-03-31'", 'quarter', '0'),
    ("date '2017-11-15'", "date '2018-02-15'", 'quarter', '1'),
    ("timestamp '2018-12-31 23:59:59'", "timestamp '2019-01-01 00:00:00'", 'year', '1'),
    ("date '2018-01-01'", "date '2018-12-31'", 'year', '0'),
    ("timestamp '2018-01-01 01:00:00'", "timestamp '2018-01-01 02:00:00'", 'hour', '1'),
    ("timestamp '2018-01-01 01:59:59'", "timestamp '2018-01-01 02:00:00'", 'hour', '1'),
    ("date '2018-01-01'", "timestamp '2018-01-01 12:30:00'", 'hour', '12'),
    ("timestamp '2018-01-01 01:00:00'", "timestamp '2018-01-01 02:01:00'", 'minute', '61'),
    ("timestamp '2018-01-01 01:00:00'", "timestamp '2018-01-01 02:00:01'", 'second', '3601'),
    ("timestamp '2019-12-31 00:00:00'", "timestamp '2019-12-27 00:00:00'", 'week', '-1'),
    ("timestamp '2019-12-31 00:00:00'", "timestamp '2019-12-30 00:00:00'", 'week', '0'),
    ("timestamp '2019-12-31 00:00:00'", "timestamp '2020-01-02 00:00:00'", 'week', '0'),
    ("timestamp '2019-12-31 00:00:00'", "timestamp '2020-01-06 02:00:00'", 'week', '1'),
    ("date '2019-12-29'", "date '2019-12-30'", 'week', '1'),
    ("timestamp '1999-12-31 23:59:59.999999'", "timestamp '2000-01-01 00:00:00'", 'microsecond', '1'),
    ("timestamp '1999-12-31 23:59:59.999999'", "timestamp '2000-01-01 00:00:00'", 'millisecond', '1'),
    ("timestamp '1999-12-31 23:59:59.999999'", "timestamp '2000-01-01 00:00:00'", 'second', '1'),
    ("timestamp '1999-12-31 23:59:59.999999'", "timestamp '2000-01-01 00:00:00'", 'minute', '1'),
    ("timestamp '1999-12-31 23:59:59.999999'", "timestamp '2000-01-01 00:00:00'", 'hour', '1'),
    ("timestamp '1999-12-31 23:59:59.999999'", "timestamp '2000-01-01 00:00:00'", 'day', '1'),
    ("timestamp '1999-12-31 23:59:59.999999'", "timestamp '2000-01-01 00:00:00'", 'week', '0'),
    ("timestamp '1999-12-31 23:59:59.999999'", "timestamp '2000-01-01 00:00:00'", 'month', '1'),
    ("timestamp '1999-12-31 23:59:59.999999'", "timestamp '2000-01-01 00:00:00'", 'quarter', '1'),
    ("timestamp '1999-12-31 23:59:59.999999'", "timestamp '2000-01-01 00:00:00'", 'year', '1'),
    ("null", "timestamp '2018-01-01 02:00:00'", 'hour', 'null'),
    ("timestamp '2018-01-01 02:00:00'", "null", 'day', 'null'),
] %}

with cases as (
    {%- for first_date, second_date, datepart, expected in cases %}
        select
            {{ loop.index }} as case_number,
            '{{ datepart }}: {{ (first_date ~ " -> " ~ second_date) | replace("'", "") }}' as case_label,
            {{ datediff(first_date, second_date, datepart) }} as actual,
            {{ expected }} as expected
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select *
from cases
where not (actual <=> expected)
