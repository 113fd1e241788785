-- hash is the md5 of the value's UTF-8 text: 32 lower-case hex digits (compared as bytes, so case matters).
{%- set cases = [
    ("'abc'", "'900150983cd24fb0d6963f7d28e17f72'"),
    ("''", "'d41d8cd98f00b204e9800998ecf8427e'"),
    ("1", "'c4ca4238a0b923820dcc509a6f75849b'"),
    ("'ação'", "'ce762a2c8073e0b6ad5d9bc99283af67'"),
    ("date '2018-01-01'", "'2576c96285e66bb8420c4278cad2b186'"),
    ("cast(12.5 as decimal(4, 2))", "'4bc129be882d904ee70110a444945e9a'"),
    ("null", "null"),
] %}

with cases as (
    {%- for field, expected in cases %}
        select
            {{ loop.index }} as case_number,
            {{ hash(field) }} as actual,
            {{ expected }} as expected
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select *
from cases
where not (cast(actual as binary) <=> cast(expected as binary))
