{#-
    rename_relation never drops first. dbt-mysql's version runs `drop table if exists <to>` and then the
    rename: a window in which the relation is gone (or, if the rename then fails, lost). A plain RENAME TABLE
    fails instead when <to> exists, and changes nothing. (`atomic_swaps: false` restores dbt-mysql's version.)
-#}
{% macro mysql__rename_relation(from_relation, to_relation) -%}
    {%- if not var('atomic_swaps', true) -%}
        {{ return(dbt[adapter.type() ~ '__rename_relation'](from_relation, to_relation)) }}
    {%- endif -%}
    {%- call statement('rename_relation') -%}
        rename table {{ from_relation }} to {{ to_relation }}
    {%- endcall -%}
{%- endmacro %}

{% macro mariadb__rename_relation(from_relation, to_relation) -%}
    {{ mysql__rename_relation(from_relation, to_relation) }}
{%- endmacro %}


{#-
    `create table <relation> [(columns and constraints)] <select>` for both adapter types and both servers.
    dbt-mysql 1.7 differs per adapter type: the mysql one writes `create table t as (<sql>)` and, with a
    contract, `create table t (columns) (<select>)`; the mariadb one writes no parentheses. A statement without
    parentheses is valid on MySQL 8 and MariaDB alike, with or without a WITH clause. With an enforced contract
    the column definitions come first (declared types, not null, primary key...) and the select lists the
    contract's columns in order, so MySQL converts every value to its declared type, in strict mode failing
    the build rather than truncating.
-#}
{% macro mysql__create_table_as(temporary, relation, sql) -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {{ sql_header if sql_header is not none }}
    create {% if temporary -%} temporary {% endif -%} table {{ relation.include(database=False) }}
    {%- if config.get('contract').enforced %}
        {{ get_assert_columns_equivalent(sql) }}
        {{ get_table_columns_and_constraints() }}
        {%- set sql = get_select_subquery(sql) %}
    {%- endif %}
    {{ sql }}
{%- endmacro %}

{% macro mariadb__create_table_as(temporary, relation, sql) -%}
    {{ mysql__create_table_as(temporary, relation, sql) }}
{%- endmacro %}
