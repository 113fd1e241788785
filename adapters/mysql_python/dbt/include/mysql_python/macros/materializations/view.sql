{#-
    Views rebuilt atomically: `create or replace view` swaps the definition in one statement (dbt's stock view
    materialization renames target -> backup and tmp -> target: a moment without the view), waiting for
    metadata locks as lock_wait_policy() says. Replacing a TABLE by a view goes through <name>__dbt_tmp and
    the same single RENAME TABLE swap as table models.
    MySQL keeps no comments on views: persist_docs does nothing for them.
-#}

{% materialization view, adapter='mysql_python' %}
    {{ return(atomic_view_materialization()) }}
{% endmaterialization %}

{% materialization view, adapter='mariadb_python' %}
    {{ return(atomic_view_materialization()) }}
{% endmaterialization %}


{% macro atomic_view_materialization() %}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='view') -%}
    {%- set replaces_table = existing_relation is not none and not existing_relation.is_view -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set backup_relation = make_backup_relation(target_relation, 'table') -%}
    {%- set grant_config = config.get('grants') -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {%- if replaces_table -%}
        {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}
        {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}
    {%- endif -%}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set built = intermediate_relation if replaces_table else target_relation -%}
    {%- do adapter.run_ddl(get_create_view_as_sql(built, sql), built, lock_wait_policy()) -%}
    {%- do store_raw_result('main', message='CREATE VIEW', code='CREATE VIEW', rows_affected=0) -%}
    {%- if replaces_table -%}
        {%- do adapter.swap_relations(
            intermediate_relation, target_relation, existing_relation, backup_relation, lock_wait_policy()) -%}
    {%- endif -%}

    {%- set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) -%}
    {%- do apply_grants(target_relation, grant_config, should_revoke=should_revoke) -%}
    {{ run_hooks(post_hooks, inside_transaction=True) }}

    {{ drop_relation_if_exists(backup_relation if replaces_table else none) }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmacro %}


{#- `create or replace view`, checking an enforced contract's columns first (MySQL views have no constraints). -#}
{% macro mysql__create_view_as(relation, sql) -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {{ sql_header if sql_header is not none }}
    {%- if config.get('contract').enforced %}
        {{ get_assert_columns_equivalent(sql) }}
    {%- endif %}
    create or replace view {{ relation }} as
    {{ sql }}
{%- endmacro %}

{% macro mariadb__create_view_as(relation, sql) -%}
    {{ mysql__create_view_as(relation, sql) }}
{%- endmacro %}
