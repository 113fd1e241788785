-- concat joins strings. dbt-core's default__concat renders 'a' || 'b', which MySQL and MariaDB evaluate as a
-- logical OR (0 or 1), so this test fails unless the root project's mysql__concat/mariadb__concat win dbt's
-- dispatch. Strings are compared as bytes (the connection collation would call 'ação' and 'acao' equal).
{%- set cases = [
    (["'a'", "'b'"], "'ab'"),
    (["'1'", "'0'"], "'10'"),
    (["'ação'", "'-'", "cast(12 as char)"], "'ação-12'"),
    (["'A'", "'b'", "'C'"], "'AbC'"),
    (["'x'", "null"], "null"),
] %}

with cases as (
    {%- for fields, expected in cases %}
        select
            {{ loop.index }} as case_number,
            {{ concat(fields) }} as actual,
            {{ expected }} as expected
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select *
from cases
where not (cast(actual as binary) <=> cast(expected as binary))
