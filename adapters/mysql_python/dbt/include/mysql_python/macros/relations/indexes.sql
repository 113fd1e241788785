{#-
    `indexes` model config for MySQL 8 / MariaDB (dbt-mysql ignores it):
        indexes: [{columns: [customer_state, segment_id], unique: false, name: optional}]
    A column may carry a prefix length for text columns: "review_comment_message(100)". All of a relation's
    indexes are added by ONE `alter table`. Default names: ix_<col>__<col> / ux_... (unique); longer than 64
    characters: ix_<md5 of the columns>.
-#}

{% macro mysql__create_indexes(relation) -%}
    {%- set clauses = [] -%}
    {%- for index_dict in config.get('indexes', default=[]) -%}
        {%- do clauses.append(index_clause(index_dict)) -%}
    {%- endfor -%}
    {%- if clauses -%}
        {%- do run_query('alter table ' ~ relation ~ ' ' ~ clauses | join(', ')) -%}
    {%- endif -%}
{%- endmacro %}

{% macro mariadb__create_indexes(relation) -%}
    {{ mysql__create_indexes(relation) }}
{%- endmacro %}


{% macro mysql__get_create_index_sql(relation, index_dict) -%}
    {{ return('alter table ' ~ relation ~ ' ' ~ index_clause(index_dict)) }}
{%- endmacro %}

{% macro mariadb__get_create_index_sql(relation, index_dict) -%}
    {{ return(mysql__get_create_index_sql(relation, index_dict)) }}
{%- endmacro %}


{#- `add [unique] index <name> (<columns>)` for one `indexes` entry; a malformed entry is a compile error. -#}
{% macro index_clause(index_dict) -%}
    {%- set columns = index_dict.get('columns') if index_dict is mapping else none -%}
    {%- if columns is string -%}
        {%- set columns = [columns] -%}
    {%- endif -%}
    {%- set unknown = (index_dict.keys() | list | reject('in', ['columns', 'unique', 'name']) | list)
        if index_dict is mapping else [] -%}
    {%- if not columns or columns is not sequence or unknown -%}
        {{ exceptions.raise_compiler_error(
            model.unique_id ~ ': each `indexes` entry needs `columns` (a list) and may have `unique` and `name`;'
            ~ ' got ' ~ index_dict) }}
    {%- endif -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- set m = modules.re.match('^\\s*([A-Za-z0-9_$]+)\\s*(\\(\\s*[0-9]+\\s*\\))?\\s*$', column | string) -%}
        {%- if not m -%}
            {{ exceptions.raise_compiler_error(model.unique_id ~ ': invalid index column ' ~ column) }}
        {%- endif -%}
        {%- do parts.append(adapter.quote(m.group(1)) ~ (m.group(2) or '') | replace(' ', '')) -%}
    {%- endfor -%}
    {%- set unique = index_dict.get('unique', false) -%}
    {%- set prefix = 'ux_' if unique else 'ix_' -%}
    {%- set name = index_dict.get('name') or prefix ~ columns | map('string') | map('lower') | join('__') -%}
    {%- set name = modules.re.sub('[^a-z0-9_$]', '', name | lower) -%}
    {%- if name | length > 64 -%}
        {%- set name = prefix ~ local_md5(columns | join(',')) -%}
    {%- endif -%}
    {%- set kind = 'unique index ' if unique else 'index ' -%}
    {{ return('add ' ~ kind ~ adapter.quote(name) ~ ' (' ~ parts | join(', ') ~ ')') }}
{%- endmacro %}
