-- length counts characters, not bytes; escape_single_quotes keeps quotes and backslashes literal in MySQL
-- (char(39) is ', char(92) is \; dbt's default escaping would even make this file a syntax error).
{%- set cases = [
    (length("'ação'") ~ ' <=> 4'),
    (length("''") ~ ' <=> 0'),
    (length('null') ~ ' <=> null'),
    ("cast('" ~ escape_single_quotes("it's a \\ path") ~ "' as binary)
        = cast(concat('it', char(39), 's a ', char(92), ' path') as binary)"),
    ("cast('" ~ escape_single_quotes("ends with \\") ~ "' as binary) = cast(concat('ends with ', char(92)) as binary)"),
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
