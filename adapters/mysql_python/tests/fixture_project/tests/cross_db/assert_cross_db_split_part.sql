-- split_part: 1-based parts, negative numbers count from the end, '' past either end, NULL for NULL input.
{%- set cases = [
    ("'a,b,c'", "','", '1', "'a'"),
    ("'a,b,c'", "','", '2', "'b'"),
    ("'a,b,c'", "','", '3', "'c'"),
    ("'a,b,c'", "','", '4', "''"),
    ("'a,b,c'", "','", '-1', "'c'"),
    ("'a,b,c'", "','", '-3', "'a'"),
    ("'a,b,c'", "','", '-4', "''"),
    ("'a,b,c'", "','", '1 + 1', "'b'"),
    ("'a,,c'", "','", '2', "''"),
    ("'abc'", "','", '1', "'abc'"),
    ("'abc'", "','", '2', "''"),
    ("'a--b--c'", "'--'", '2', "'b'"),
    ("'a--b--c'", "'--'", '-2', "'b'"),
    ("'2018-01-15'", "'-'", '2', "'01'"),
    ("'aXbxc'", "'x'", '1', "'aXb'"),
    ("'ação|b'", "'|'", '1', "'ação'"),
    ("null", "','", '1', 'null'),
] %}

with cases as (
    {%- for string_text, delimiter_text, part_number, expected in cases %}
        select
            {{ loop.index }} as case_number,
            '{{ (string_text ~ " / " ~ delimiter_text ~ " / " ~ part_number) | replace("'", "") }}' as case_label,
            {{ split_part(string_text, delimiter_text, part_number) }} as actual,
            {{ expected }} as expected
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select *
from cases
where not (cast(actual as binary) <=> cast(expected as binary))
