{#-
    Table models rebuilt without a gap for readers (MySQL 8 / MariaDB).

    dbt's stock table materialization renames target -> backup, then tmp -> target, and dbt-mysql's
    rename_relation even drops the target first: between those statements the table does not exist and BI
    queries fail. Here the new table is built as <name>__dbt_tmp, indexed, commented and analyzed, then swapped
    in with ONE statement, `rename table target to backup, tmp to target`, which MySQL and MariaDB perform
    atomically (readers wait on the metadata lock, then see the new table). The backup is dropped afterwards.
    If the build fails, the live table is untouched.
    `--vars '{atomic_swaps: false}'` falls back to dbt's stock materialization and dbt-mysql's drop-then-rename
    (only to demonstrate the gap: tests/python/test_materializations.py).
-#}

{% materialization table, adapter='mysql' %}
    {{ return(atomic_table_materialization()) }}
{% endmaterialization %}

{% materialization table, adapter='mariadb' %}
    {{ return(atomic_table_materialization()) }}
{% endmaterialization %}


{% macro atomic_table_materialization() %}
    {%- if not var('atomic_swaps', true) -%}
        {{ return(dbt.materialization_table_default()) }}
    {%- endif -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set backup_relation_type = 'table' if existing_relation is none else existing_relation.type -%}
    {%- set backup_relation = make_backup_relation(target_relation, backup_relation_type) -%}
    {%- set grant_config = config.get('grants') -%}

    {#- Leftovers of an interrupted run. -#}
    {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}
    {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- call statement('main') -%}
        {{ get_create_table_as_sql(False, intermediate_relation, sql) }}
    {%- endcall -%}

    {#- Everything readers will see is in place before the swap. -#}
    {%- do create_indexes(intermediate_relation) -%}
    {%- do persist_docs(intermediate_relation, model) -%}
    {%- do run_query('analyze table ' ~ intermediate_relation) -%}

    {%- do swap_relations(intermediate_relation, target_relation, existing_relation, backup_relation) -%}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {%- set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) -%}
    {%- do apply_grants(target_relation, grant_config, should_revoke=should_revoke) -%}
    {{ adapter.commit() }}

    {{ drop_relation_if_exists(backup_relation if existing_relation is not none else none) }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmacro %}


{#-
    Put `new_relation` in place of `target_relation` in one atomic RENAME TABLE; the relation it replaces (if
    any) moves to `backup_relation`. Keeps dbt's relation cache in step.
-#}
{% macro swap_relations(new_relation, target_relation, existing_relation, backup_relation) %}
    {%- set moves = [] -%}
    {%- if existing_relation is not none -%}
        {%- do moves.append(target_relation ~ ' to ' ~ backup_relation) -%}
    {%- endif -%}
    {%- do moves.append(new_relation ~ ' to ' ~ target_relation) -%}
    {%- call statement('swap_relations') -%}
        rename table {{ moves | join(', ') }}
    {%- endcall -%}
    {%- if existing_relation is not none -%}
        {%- do adapter.cache_renamed(existing_relation, backup_relation) -%}
    {%- endif -%}
    {%- do adapter.cache_renamed(new_relation, target_relation) -%}
{% endmacro %}
