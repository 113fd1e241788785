{#-
    dbt's seed materialization, with one fix: it must never overwrite the seed's own CSV.

    Stock dbt writes the seed's SQL to target/run/<package>/<original_file_path>. With an absolute seed path
    (seed-paths: ["{{ env_var('OLIST_DATA_DIR') }}"]) os.path.join drops the target prefix and dbt 1.7
    REPLACES THE DATA FILE ITSELF with `create table ...; insert ...`. We only write that file for seeds that
    live inside the project. Everything else is dbt 1.7's default seed materialization.
-#}

{% materialization seed, adapter='mysql_python' %}
    {{ return(seed_materialization()) }}
{% endmaterialization %}

{% materialization seed, adapter='mariadb_python' %}
    {{ return(seed_materialization()) }}
{% endmaterialization %}


{% macro seed_materialization() %}
    {%- set identifier = model['alias'] -%}
    {%- set full_refresh_mode = should_full_refresh() -%}
    {%- set old_relation = adapter.get_relation(database=database, schema=schema, identifier=identifier) -%}
    {%- set exists_as_table = (old_relation is not none and old_relation.is_table) -%}
    {%- set exists_as_view = (old_relation is not none and old_relation.is_view) -%}
    {%- set grant_config = config.get('grants') -%}
    {%- set agate_table = load_agate_table() -%}
    {%- do store_result('agate_table', response='OK', agate_table=agate_table) -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- if exists_as_view -%}
        {{ exceptions.raise_compiler_error("Cannot seed to '{}', it is a view".format(old_relation)) }}
    {%- elif exists_as_table -%}
        {%- set create_table_sql = reset_csv_table(model, full_refresh_mode, old_relation, agate_table) -%}
    {%- else -%}
        {%- set create_table_sql = create_csv_table(model, agate_table) -%}
    {%- endif -%}

    {%- set code = 'CREATE' if full_refresh_mode else 'INSERT' -%}
    {%- set rows_affected = agate_table.rows | length -%}
    {%- set sql = load_csv_rows(model, agate_table) -%}

    {%- if modules.re.match('^([A-Za-z]:)?[/\\\\]', model.original_file_path) -%}
        {{ log('not writing target/run SQL for ' ~ model.unique_id ~ ': its CSV path is absolute') }}
        {%- do store_raw_result('main', message=code ~ ' ' ~ rows_affected, code=code, rows_affected=rows_affected) -%}
    {%- else -%}
        {%- call noop_statement('main', code ~ ' ' ~ rows_affected, code, rows_affected) -%}
            {{ get_csv_sql(create_table_sql, sql) }};
        {%- endcall -%}
    {%- endif -%}

    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set should_revoke = should_revoke(old_relation, full_refresh_mode) -%}
    {%- do apply_grants(target_relation, grant_config, should_revoke=should_revoke) -%}
    {%- do persist_docs(target_relation, model) -%}
    {%- if full_refresh_mode or not exists_as_table -%}
        {%- do create_indexes(target_relation) -%}
    {%- endif -%}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmacro %}
