{#-
    Indexes for a snapshot table, from the snapshot's `indexes` config (entries as for table models, each with a
    `name`), as both hooks: `pre_hook` indexes a table made before (the run's joins need them), `post_hook` the
    table the first run creates.

    dbt-mysql creates snapshot tables without any index, yet every snapshot run joins the table to the source
    on the unique key and updates it by dbt_scd_id: without indexes each run is a nested-loop join, quadratic in
    rows (over 10 minutes for Olist's 95k customers; 11 s with them). The table persists across runs, so only
    missing indexes are added (MySQL 8 has no CREATE INDEX IF NOT EXISTS). Returns '' when nothing is missing.
-#}
{% macro snapshot_indexes() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {#- information_schema rather than dbt's relation cache, which does not see a table the snapshot created -#}
    {%- set existing_sql -%}
        select lower(coalesce(indexes.index_name, '')) from information_schema.tables as tables_
        left join information_schema.statistics as indexes
            on tables_.table_schema = indexes.table_schema and tables_.table_name = indexes.table_name
        where tables_.table_schema = '{{ this.schema }}' and tables_.table_name = '{{ this.identifier }}'
    {%- endset -%}
    {%- set existing = run_query(existing_sql).columns[0].values() -%}
    {%- if not existing -%}
        {{ return('') }}  {#- no table yet: the post_hook indexes it -#}
    {%- endif -%}
    {%- set clauses = [] -%}
    {%- for index_dict in config.get('indexes', default=[]) -%}
        {%- if not index_dict.get('name') -%}
            {{ exceptions.raise_compiler_error(model.unique_id ~ ': snapshot indexes need a name; got ' ~ index_dict) }}
        {%- endif -%}
        {%- if index_dict['name'] | lower not in existing -%}
            {%- do clauses.append(index_clause(index_dict)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('alter table ' ~ this ~ ' ' ~ clauses | join(', ') if clauses else '') }}
{%- endmacro %}
