{#-
    Seeds for MySQL 8 / MariaDB.

    When every column has a configured type (column_types) and the server allows LOAD DATA LOCAL, the server
    parses the file itself (the adapter's seeds.py): the CSV is loaded into <seed>__dbt_tmp, indexed,
    commented, and swapped in like a table model (atomic_table_begin/finish: readers never see an empty or
    partial seed), and an unchanged file is not reloaded at all (same SHA-256, definition and row count;
    --full-refresh reloads). Otherwise, or with var seed_load_by_server: false, dbt's own agate path below runs
    (with our fast multi-row INSERTs, load_csv_rows.sql).

    The agate path is dbt 1.7's default seed materialization with one fix: it must never overwrite the seed's
    own CSV. Stock dbt writes the seed's SQL to target/run/<package>/<original_file_path>. With an absolute seed
    path (seed-paths: ["{{ env_var('OLIST_DATA_DIR') }}"]) os.path.join drops the target prefix and dbt 1.7
    REPLACES THE DATA FILE ITSELF with `create table ...; insert ...`. We only write that file for seeds that
    live inside the project.
-#}

{% materialization seed, adapter='mysql_python' %}
    {{ return(seed_materialization()) }}
{% endmaterialization %}

{% materialization seed, adapter='mariadb_python' %}
    {{ return(seed_materialization()) }}
{% endmaterialization %}


{% macro seed_materialization() %}
    {%- set delimiter = config.get('delimiter') or ',' -%}
    {%- set seed_file = none if not var('seed_load_by_server', true) else adapter.seed_file(
        model.root_path, model.original_file_path, delimiter, config.get('column_types') or {}) -%}
    {%- if seed_file is none -%}
        {{ return(agate_seed_materialization()) }}
    {%- endif -%}
    {{ return(server_seed_materialization(seed_file, delimiter)) }}
{% endmacro %}


{% macro server_seed_materialization(seed_file, delimiter) %}
    {%- set column_types = config.get('column_types') -%}
    {%- set existing = load_cached_relation(this) -%}
    {%- if existing is not none and existing.is_view -%}
        {{ exceptions.raise_compiler_error("Cannot seed to '{}', it is a view".format(existing)) }}
    {%- endif -%}
    {#- What the loaded table depends on besides the file: a change of any of these reloads it. -#}
    {%- set definition = tojson({
        'columns': seed_file.columns, 'types': column_types, 'indexes': config.get('indexes'),
        'description': model.description, 'docs': model.columns, 'grants': config.get('grants')}) -%}
    {%- if existing is not none and not should_full_refresh()
          and adapter.seed_unchanged(this, seed_file, definition) -%}
        {{ log(model.original_file_path ~ ' unchanged (sha256 ' ~ seed_file.sha256[:12] ~ '): not reloaded') }}
        {%- do store_raw_result('main', message='UNCHANGED', code='UNCHANGED', rows_affected=0) -%}
        {%- do store_result('agate_table', response='OK', agate_table=run_query(
            'select * from ' ~ this ~ ' limit 0')) -%}
        {{ return({'relations': [this.incorporate(type='table')]}) }}
    {%- endif -%}

    {%- set relations = atomic_table_begin() -%}
    {%- set columns = [] -%}
    {%- for name in seed_file.columns -%}
        {%- do columns.append(adapter.quote(name) ~ ' ' ~ column_types[name]) -%}
    {%- endfor -%}
    {#- Never statement('main') here: dbt writes its SQL to target/run/<original_file_path>, which for an
        absolute seed path IS the data file (see above). -#}
    {%- call statement('create_seed_table') -%}
        create table {{ relations.new }} ({{ columns | join(', ') }})
    {%- endcall -%}
    {%- set rows = adapter.load_seed_file(relations.new, seed_file, delimiter) -%}
    {#- What dbt reports for the node: the load, not the create; its (empty) agate table has the columns. -#}
    {%- do store_raw_result('main', message='LOAD ' ~ rows, code='LOAD', rows_affected=rows) -%}
    {%- do store_result('agate_table', response='OK', agate_table=run_query(
        'select * from ' ~ relations.new ~ ' limit 0')) -%}
    {%- set result = atomic_table_finish(relations) -%}
    {%- do adapter.record_seed_file(this, seed_file, definition, rows) -%}
    {{ return(result) }}
{% endmacro %}


{% macro agate_seed_materialization() %}
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
