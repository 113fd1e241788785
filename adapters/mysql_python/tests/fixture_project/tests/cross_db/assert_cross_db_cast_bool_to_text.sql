-- cast_bool_to_text gives 'true' / 'false' / NULL (MySQL's own cast would give '1' / '0').
{%- set cases = [
    ('1 = 1', "'true'"),
    ('1 = 0', "'false'"),
    ('true', "'true'"),
    ('null', 'null'),
    ('null = 1', 'null'),
] %}

with cases as (
    {%- for field, expected in cases %}
        select
            {{ loop.index }} as case_number,
            {{ cast_bool_to_text(field) }} as actual,
            {{ expected }} as expected
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select *
from cases
where not (cast(actual as binary) <=> cast(expected as binary))
