{#-
    rename_relation never drops first. dbt-mysql's version runs `drop table if exists <to>` and then the
    rename: a window in which the relation is gone (or, if the rename then fails, lost). A plain RENAME TABLE
    fails instead when <to> exists, and changes nothing.
-#}
{% macro mysql__rename_relation(from_relation, to_relation) -%}
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
{% macro mysql__create_table_as(temporary, relation, compiled_code, language='sql') -%}
    {%- if language == 'python' -%}
        {{ return(py_write_table(compiled_code, relation)) }}
    {%- endif -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {{ sql_header if sql_header is not none }}
    create {% if temporary -%} temporary {% endif -%} table {{ relation.include(database=False) }}
    {%- if config.get('contract').enforced %}
        {{ get_assert_columns_equivalent(compiled_code) }}
        {{ get_table_columns_and_constraints() }}
        {%- set compiled_code = get_select_subquery(compiled_code) %}
    {%- endif %}
    {{ compiled_code }}
{%- endmacro %}

{% macro mariadb__create_table_as(temporary, relation, compiled_code, language='sql') -%}
    {{ return(mysql__create_table_as(temporary, relation, compiled_code, language)) }}
{%- endmacro %}


{#-
    A Python model's code as the adapter runs it (dbt.adapters.mysql_python.python_models): the model, dbt's
    postfix and where to write what model() returns. When every column in the model's YAML declares a
    `data_type`, the new table is created with those columns and their constraints (primary key, not null...)
    and the model's DataFrames must have exactly those columns: the contract of a Python model (dbt 1.7
    refuses `contract: enforced` on Python models at parse time). Otherwise the types follow the DataFrame.
-#}
{% macro py_write_table(compiled_code, target_relation) -%}
    {%- set columns = model['columns'].values() | list -%}
    {%- set declared = columns and columns | selectattr('data_type') | list | length == columns | length -%}
{{ compiled_code }}

dbt_target = {{ tojson({
    'schema': target_relation.schema,
    'identifier': target_relation.identifier,
    'columns_sql': (get_table_columns_and_constraints() if declared else '') | trim,
}) }}
{%- endmacro %}


{#- New schemas take the profile's character set and collation (adapter.schema_options). -#}
{% macro mysql__create_schema(relation) -%}
    {%- call statement('create_schema') -%}
        create schema if not exists {{ relation.without_identifier() }} {{ adapter.schema_options() }}
    {%- endcall -%}
{%- endmacro %}

{% macro mariadb__create_schema(relation) -%}
    {{ mysql__create_schema(relation) }}
{%- endmacro %}
