-- any_value returns one of the group's non-NULL values; bool_or is 1 if any row is true, 0 if none, NULL if all
-- rows are NULL. Each group lists its rows and the expected results.
{%- set groups = [
    (1, [("'a'", '0'), ("'a'", '2')], "'a'", '1'),
    (2, [("'b'", '0'), ('null', '1')], "'b'", '0'),
    (3, [('null', 'null'), ('null', 'null')], 'null', 'null'),
    (4, [("'d'", 'null'), ("'d'", '5')], "'d'", '1'),
] %}

with data as (
    {%- for grp, data_rows, _, _ in groups %}
        {%- set outer = loop %}
        {%- for val, num in data_rows %}
            select
                {{ grp }} as grp,
                {{ val }} as val,
                {{ num }} as num
            {% if not (outer.last and loop.last) %}union all{% endif %}
        {%- endfor %}
    {%- endfor %}
),

expected as (
    {%- for grp, _, any_val, any_above_one in groups %}
        select
            {{ grp }} as grp,
            {{ any_val }} as any_val,
            {{ any_above_one }} as any_above_one
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

aggregated as (
    select
        grp,
        {{ any_value('val') }} as any_val,
        {{ bool_or('num > 1') }} as any_above_one
    from data
    group by grp
)

select
    e.grp,
    a.any_val,
    e.any_val as expected_any_val,
    a.any_above_one,
    e.any_above_one as expected_any_above_one
from expected as e
left join aggregated as a on e.grp = a.grp
where
    not (cast(a.any_val as binary) <=> cast(e.any_val as binary))
    or not (a.any_above_one <=> e.any_above_one)
