{% macro rfm_score_cells() %}
    {%- set scores -%}
        {%- for score in range(1, 6) %}select {{ score }} as score{{ ' union all ' if not loop.last }}{% endfor -%}
    {%- endset -%}
    select
        r.score as r_score,
        f.score as f_score,
        m.score as m_score
    from ({{ scores }}) as r
    cross join ({{ scores }}) as f
    cross join ({{ scores }}) as m
{% endmacro %}
