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
    {%- set relations = atomic_table_begin() -%}
    {%- call statement('main', language=model.language) -%}
        {{ create_table_as(False, relations.new, compiled_code, model.language) }}
    {%- endcall -%}
    {{ return(atomic_table_finish(relations)) }}
{% endmaterialization %}

{% materialization table, adapter='mariadb_python', supported_languages=['sql', 'python'] %}
    {%- set relations = atomic_table_begin() -%}
    {%- call statement('main', language=model.language) -%}
        {{ create_table_as(False, relations.new, compiled_code, model.language) }}
    {%- endcall -%}
    {{ return(atomic_table_finish(relations)) }}
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


{#- Everything readers will see is put in place before the swap; then the swap, grants and post-hooks. -#}
{% macro atomic_table_finish(relations) %}
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

    {{ return({'relations': [relations.target]}) }}
{% endmacro %}
