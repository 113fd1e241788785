-- listagg: values in the given order, custom delimiters, a limit, NULLs skipped, NULL when there are no rows.
{%- set data_rows = [(1, "'b'", 2), (1, "'a'", 1), (1, "'c'", 3), (1, 'null', 4), (2, "'x'", 1)] %}
{%- set cases = [
    (listagg('val', "'|'", 'order by val desc'), 'grp = 1', "'c|b|a'"),
    (listagg('val', "', '", 'order by ord', 2), 'grp = 1', "'a, b'"),
    (listagg('val', "', '", 'order by ord', 10), 'grp = 1', "'a, b, c'"),
    (listagg('val', order_by_clause='order by ord'), 'grp = 1', "'a,b,c'"),
    (listagg("concat(grp, ':', val)", "' / '", 'order by grp desc, ord'), 'true', "'2:x / 1:a / 1:b / 1:c'"),
    (listagg('val'), 'grp = 3', 'null'),
] %}

with data as (
    {%- for grp, val, ord in data_rows %}
        select
            {{ grp }} as grp,
            {{ val }} as val,
            {{ ord }} as ord
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

cases as (
    {%- for aggregate, condition, expected in cases %}
        select
            {{ loop.index }} as case_number,
            (
                select {{ aggregate }}
                from data
                where {{ condition }}
            ) as actual,
            {{ expected }} as expected
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select *
from cases
where not (cast(actual as binary) <=> cast(expected as binary))
