-- dbt's type_* macros must work in CAST (dbt-core's `string`, `timestamp`, `int`, `numeric(28,6)`... do not).
{%- set cases = [
    "cast('42' as " ~ type_int() ~ ") = 42",
    "cast('9007199254740993' as " ~ type_bigint() ~ ") = 9007199254740993",
    "cast(cast(12 as " ~ type_string() ~ ") as binary) = cast('12' as binary)",
    "cast('2018-01-01 10:00:00' as " ~ type_timestamp() ~ ") = timestamp '2018-01-01 10:00:00'",
    "cast('1.5' as " ~ type_float() ~ ") = 1.5e0",
    "cast('12.3456789' as " ~ type_numeric() ~ ") = 12.345679",
] %}

with cases as (
    {%- for condition in cases %}
        select
            {{ loop.index }} as case_number,
            {{ condition }} as ok
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select *
from cases
where not ok or ok is null
