{#-
    persist_docs for MySQL 8 / MariaDB (dbt-mysql has none): what BI tools see in information_schema.

    Enabled per model by `persist_docs: {relation: true, columns: true}`. One `alter table` sets the table
    comment (model description, first 2048 characters: MySQL's limit) and each documented column's comment
    (first 1024 characters) with `modify column`, which must restate the column's whole definition: it is
    rebuilt from information_schema.columns (type, character set and collation, NULL / NOT NULL, default,
    auto_increment / on update, MariaDB's column checks), so nothing changes but the comment. Comments are bound
    parameters, never spliced into the SQL. Generated columns are skipped. MySQL has no comments on views.
-#}

{% macro mysql__persist_docs(relation, model, for_relation, for_columns) -%}
    {%- if relation.is_view -%}
        {{ return('') }}
    {%- endif -%}
    {%- set clauses = [] -%}
    {%- set bindings = [] -%}
    {%- if for_relation and config.persist_relation_docs() and model.description -%}
        {%- do clauses.append('comment = %s') -%}
        {%- do bindings.append(model.description[:2048]) -%}
    {%- endif -%}
    {%- if for_columns and config.persist_column_docs() and model.columns -%}
        {%- set descriptions = {} -%}
        {%- for name, column in model.columns.items() if column.description -%}
            {%- do descriptions.update({name | lower: column.description}) -%}
        {%- endfor -%}
        {%- for col in (column_definitions(relation) if descriptions else []) -%}
            {%- set description = descriptions.get(col.name | lower) -%}
            {%- if description and not col.skip -%}
                {%- do clauses.append(('modify column ' ~ col.definition ~ ' comment %s ' ~ col.check) | trim) -%}
                {%- do bindings.extend(col.bindings + [description[:1024]]) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if clauses -%}
        {%- do adapter.add_query('alter table ' ~ relation ~ ' ' ~ clauses | join(', '), bindings=bindings) -%}
    {%- endif -%}
{%- endmacro %}

{% macro mariadb__persist_docs(relation, model, for_relation, for_columns) -%}
    {{ return(mysql__persist_docs(relation, model, for_relation, for_columns)) }}
{%- endmacro %}


{#-
    Each column of `relation` as {name, definition, bindings, check, skip}: `definition` restates the column
    for MODIFY COLUMN (its `%s` placeholders take `bindings`); `check` must follow the column's COMMENT.
    COLUMN_DEFAULT is an SQL expression on MariaDB ('abc' quoted, NULL as the word NULL) but a bare value on
    MySQL, where expression defaults are flagged DEFAULT_GENERATED in EXTRA. MariaDB also drops a column-level
    CHECK that MODIFY does not restate (MySQL keeps all checks at table level), so those are restated. `skip`:
    generated columns (MODIFY would need their expression), and columns whose default or check contains `%s`,
    which parameter binding would mangle.
-#}
{% macro column_definitions(relation) -%}
    {%- set query -%}
        select
            column_name,
            column_type,
            is_nullable,
            column_default,
            extra,
            character_set_name,
            collation_name,
            version() like %s as is_mariadb
        from information_schema.columns
        where table_schema = %s and table_name = %s
        order by ordinal_position
    {%- endset -%}
    {%- set names = ['column_name', 'column_type', 'is_nullable', 'column_default', 'extra', 'character_set_name',
        'collation_name', 'is_mariadb'] -%}
    {%- set _, cursor = adapter.add_query(query, bindings=['%MariaDB%', relation.schema, relation.identifier]) -%}
    {%- set rows = [] -%}
    {%- for values in cursor.fetchall() -%}
        {%- do rows.append(dict(zip(names, values))) -%}
    {%- endfor -%}
    {%- set checks = {} -%}
    {%- if rows and rows[0]['is_mariadb'] -%}
        {%- set check_query -%}
            select constraint_name, check_clause
            from information_schema.check_constraints
            where constraint_schema = %s and table_name = %s and level = 'Column'
        {%- endset -%}
        {%- set _, cursor = adapter.add_query(check_query, bindings=[relation.schema, relation.identifier]) -%}
        {%- for name, clause in cursor.fetchall() -%}
            {%- do checks.update({name: clause}) -%}
        {%- endfor -%}
    {%- endif -%}

    {%- set columns = [] -%}
    {%- for row in rows -%}
        {%- set extra = (row['extra'] or '') | lower -%}
        {%- set parts = [adapter.quote(row['column_name'] | replace('`', '``')), row['column_type']] -%}
        {%- set raw = [] -%}
        {%- set bindings = [] -%}
        {%- if row['character_set_name'] -%}
            {%- do parts.append('character set ' ~ row['character_set_name'] ~ ' collate ' ~ row['collation_name']) -%}
        {%- endif -%}
        {%- do parts.append('not null' if row['is_nullable'] == 'NO' else 'null') -%}
        {%- set default = row['column_default'] -%}
        {%- if default is none or (row['is_mariadb'] and default == 'NULL') -%}
            {#- no default, or DEFAULT NULL: both implicit -#}
        {%- elif row['is_mariadb'] -%}
            {%- do raw.append('default ' ~ default) -%}
            {%- do parts.append(raw[-1]) -%}
        {%- elif 'default_generated' in extra -%}
            {%- do raw.append('default ' ~ (default if modules.re.match('(?i)^current_timestamp(\\(\\d*\\))?$', default)
                else '(' ~ default ~ ')')) -%}
            {%- do parts.append(raw[-1]) -%}
        {%- else -%}
            {%- do parts.append('default %s') -%}
            {%- do bindings.append(default) -%}
        {%- endif -%}
        {%- if 'auto_increment' in extra -%}
            {%- do parts.append('auto_increment') -%}
        {%- endif -%}
        {%- set on_update = modules.re.search('on update ([a-z_]+(\\([0-9]*\\))?)', extra) -%}
        {%- if on_update -%}
            {%- do parts.append('on update ' ~ on_update.group(1)) -%}
        {%- endif -%}
        {%- if 'invisible' in extra -%}
            {%- do parts.append('invisible') -%}
        {%- endif -%}
        {#- MariaDB wants the column's CHECK after its COMMENT. -#}
        {%- set check = 'check (' ~ checks[row['column_name']] ~ ')' if row['column_name'] in checks else '' -%}
        {%- do raw.append(check) -%}
        {%- set generated = 'generated' in extra.replace('default_generated', '') or extra in ('virtual', 'persistent') -%}
        {%- do columns.append({
            'name': row['column_name'],
            'definition': parts | join(' '),
            'bindings': bindings,
            'check': check,
            'skip': generated or '%s' in raw | join(' ')}) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}
