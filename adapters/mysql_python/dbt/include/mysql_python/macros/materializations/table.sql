{#-
    Table models, SQL or Python, rebuilt without a gap for readers (MySQL 8 / MariaDB).

    dbt's stock table materialization renames target -> backup, then tmp -> target, and dbt-mysql's
    rename_relation even drops the target first: between those statements the table does not exist and BI
    queries fail. Here the new table is built as <name>__dbt_tmp (by SQL, or by the Python model's rows:
    mysql__py_write_table), indexed, commented and analyzed, then swapped in with ONE statement,
    `rename table target to backup, tmp to target`, which MySQL and MariaDB perform atomically
    (adapter.swap_relations, waiting for metadata locks as lock_wait_policy() says). The backup is dropped
    afterwards. If the build fails, the live table is untouched.

    dbt runs a Python model only from a statement called by the materialization itself, hence the body below
    is repeated per adapter type and the rest lives in the two macros it calls. (The gap of the stock types
    `mysql`/`mariadb` is demonstrated in tests/test_materializations.py.)
-#}

{% materialization table, adapter='mysql_python', supported_languages=['sql', 'python'] %}
    {%- set inputs = table_inputs() -%}
    {%- if inputs and table_is_current(inputs) -%}
        {{ return(unchanged_table_result()) }}
    {%- endif -%}
    {%- set relations = atomic_table_begin() -%}
    {%- call statement('main', language=model.language) -%}
        {{ create_table_as(False, relations.new, compiled_code, model.language) }}
    {%- endcall -%}
    {{ return(atomic_table_finish(relations, inputs)) }}
{% endmaterialization %}

{% materialization table, adapter='mariadb_python', supported_languages=['sql', 'python'] %}
    {%- set inputs = table_inputs() -%}
    {%- if inputs and table_is_current(inputs) -%}
        {{ return(unchanged_table_result()) }}
    {%- endif -%}
    {%- set relations = atomic_table_begin() -%}
    {%- call statement('main', language=model.language) -%}
        {{ create_table_as(False, relations.new, compiled_code, model.language) }}
    {%- endcall -%}
    {{ return(atomic_table_finish(relations, inputs)) }}
{% endmaterialization %}


{#- Drops leftovers of an interrupted run and runs the pre-hooks; the relations the build works with. -#}
{% macro atomic_table_begin() %}
    {%- set existing = load_cached_relation(this) -%}
    {%- set target = this.incorporate(type='table') -%}
    {%- set new = make_intermediate_relation(target) -%}
    {%- set backup = make_backup_relation(target, 'table' if existing is none else existing.type) -%}
    {{ drop_relation_if_exists(load_cached_relation(new)) }}
    {{ drop_relation_if_exists(load_cached_relation(backup)) }}
    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {{ return({'existing': existing, 'target': target, 'new': new, 'backup': backup}) }}
{% endmacro %}


{#- Everything readers will see is put in place before the swap; then the swap, grants and post-hooks; the
    inputs the table was built from, when given, are recorded last (table_inputs). -#}
{% macro atomic_table_finish(relations, inputs='') %}
    {%- do create_indexes(relations.new) -%}
    {%- do persist_docs(relations.new, model) -%}
    {%- do run_query('analyze table ' ~ relations.new) -%}

    {%- do adapter.swap_relations(
        relations.new, relations.target, relations.existing, relations.backup, lock_wait_policy()) -%}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {%- set should_revoke = should_revoke(relations.existing, full_refresh_mode=True) -%}
    {%- do apply_grants(relations.target, config.get('grants'), should_revoke=should_revoke) -%}
    {{ adapter.commit() }}

    {{ drop_relation_if_exists(relations.backup if relations.existing is not none else none) }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}
    {%- if inputs -%}
        {%- do adapter.record_table_inputs(relations.target, inputs) -%}
    {%- endif -%}

    {{ return({'relations': [relations.target]}) }}
{% endmacro %}


{#-
    What a SQL table model is built from, as one SHA-256 (the adapter's unchanged.py): its definition and the
    state of every relation it reads (tables by content checksum, views by definition and what they read).
    Only with var skip_unchanged_tables: true (off by default: dbt rebuilds every table, as users expect
    unless they ask); never for Python models (always run: a model decides itself what a run does).
-#}
{% macro table_inputs() %}
    {%- if model.language != 'sql' or not var('skip_unchanged_tables', false) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set definition = tojson({
        'code': compiled_code, 'indexes': config.get('indexes'), 'contract': model.contract,
        'grants': config.get('grants'), 'persist_docs': config.get('persist_docs'),
        'description': model.description, 'docs': model.columns,
        'pre_hooks': config.get('pre_hook'), 'post_hooks': config.get('post_hook')}) -%}
    {{ return(adapter.table_inputs(definition, model.depends_on.nodes, graph)) }}
{% endmacro %}


{#- The live table was built from these inputs and still holds what it held then (not with --full-refresh). -#}
{% macro table_is_current(inputs) %}
    {%- set existing = load_cached_relation(this) -%}
    {{ return(existing is not none and existing.is_table and not should_full_refresh()
              and adapter.table_unchanged(this, inputs)) }}
{% endmacro %}


{% macro unchanged_table_result() %}
    {{ log(this ~ ' unchanged (same definition and inputs, same content): not rebuilt') }}
    {%- do store_raw_result('main', message='UNCHANGED', code='UNCHANGED', rows_affected=0) -%}
    {{ return({'relations': [this.incorporate(type='table')]}) }}
{% endmacro %}
