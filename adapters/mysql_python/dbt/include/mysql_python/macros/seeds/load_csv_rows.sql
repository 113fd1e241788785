{#-
    Fast seed loading for MySQL 8 / MariaDB.

    dbt's default__load_csv_rows renders every `%s` of a 10,000-row INSERT through nested Jinja loops: about
    100 s for the 99,441 x 5 customers table. Here the placeholders come from string multiplication, the
    bindings are flattened by itertools.chain and sizes are measured with str.join, so the Jinja work per
    statement is constant; mysql-connector escapes and interpolates the values client-side.

    Statement size: each INSERT must fit in the server's max_allowed_packet. A statement's size is bounded by
    2 x the UTF-8 bytes of its values (escaping at most doubles a byte) + 3 bytes per value (quotes, comma)
    + 3 per row. The first batch size is the one that fills half the budget with average rows; a batch whose
    bound exceeds the budget, min(max_allowed_packet / 2, var('seed_max_statement_bytes', 8 MiB)), is split
    in two until it fits, so no statement can ever exceed the packet limit. Rows are inserted in file order.
-#}

{% macro mysql__load_csv_rows(model, agate_table) -%}
    {{ return(fast_load_csv_rows(model, agate_table)) }}
{%- endmacro %}

{% macro mariadb__load_csv_rows(model, agate_table) -%}
    {{ return(mysql__load_csv_rows(model, agate_table)) }}
{%- endmacro %}


{% macro fast_load_csv_rows(model, agate_table) -%}
    {%- set n_rows = agate_table.rows | length -%}
    {%- set n_cols = agate_table.column_names | length -%}
    {%- if n_rows == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set budget = seed_statement_budget() -%}
    {%- set insert_sql = 'insert into ' ~ this.render() ~ ' ('
        ~ get_seed_column_quoted_csv(model, agate_table.column_names) ~ ') values ' -%}
    {%- set row_sql = '(' ~ (['%s'] * n_cols) | join(',') ~ ')' -%}

    {#- First guess: statements half full of average rows. -#}
    {%- set data = namespace(bytes=0, statements=0) -%}
    {%- for column in agate_table.columns -%}
        {%- set data.bytes = data.bytes + (column.values_without_nulls() | join('')).encode('utf-8') | length -%}
    {%- endfor -%}
    {%- set avg_row_bytes = 2 * data.bytes / n_rows + 3 * n_cols + 3 -%}
    {%- set batch_rows = [(budget / 2 / avg_row_bytes) | int, 1] | max -%}
    {%- set full_sql = insert_sql ~ ([row_sql] * batch_rows) | join(',') -%}

    {%- set spans = [] -%}
    {%- for start in range(0, n_rows, batch_rows) -%}
        {%- do spans.append((start, [start + batch_rows, n_rows] | min)) -%}
    {%- endfor -%}
    {#- `spans` grows while we walk it: an oversized span is replaced by its two halves, right after itself. -#}
    {%- for span in spans -%}
        {%- set chunk = agate_table.rows[span[0]:span[1]] -%}
        {%- set bindings = modules.itertools.chain.from_iterable(chunk) | list -%}
        {%- set bound = (insert_sql | length) + 2 * ((bindings | join('')).encode('utf-8') | length)
            + 3 * (bindings | length) + 3 * (chunk | length) -%}
        {%- if bound <= budget -%}
            {%- set sql = full_sql if chunk | length == batch_rows
                else insert_sql ~ ([row_sql] * (chunk | length)) | join(',') -%}
            {%- do adapter.add_query(sql, bindings=bindings, abridge_sql_log=True) -%}
            {%- set data.statements = data.statements + 1 -%}
        {%- elif chunk | length == 1 -%}
            {{ exceptions.raise_compiler_error(
                'seed ' ~ model.original_file_path ~ ': data row ' ~ (span[0] + 1) ~ ' may need ' ~ bound
                ~ ' bytes, more than the statement budget of ' ~ budget ~ ' bytes; raise the server\'s'
                ~ ' max_allowed_packet (the budget is half of it) or var seed_max_statement_bytes') }}
        {%- else -%}
            {%- set middle = ((span[0] + span[1]) / 2) | int -%}
            {%- do spans.insert(loop.index, (middle, span[1])) -%}
            {%- do spans.insert(loop.index, (span[0], middle)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ log('fast seed load: ' ~ n_rows ~ ' rows in ' ~ data.statements ~ ' statements of <= ' ~ batch_rows
        ~ ' rows (statement budget ' ~ budget ~ ' bytes)') }}
    {#- What dbt shows as the seed's SQL: one row's statement, not megabytes of placeholders. -#}
    {{ return(insert_sql ~ row_sql ~ ' -- ' ~ n_rows ~ ' rows in ' ~ data.statements ~ ' statements') }}
{%- endmacro %}


{#- Bytes one INSERT may use: half the server's max_allowed_packet, at most var seed_max_statement_bytes. -#}
{% macro seed_statement_budget() -%}
    {%- set packet = run_query('select @@max_allowed_packet').columns[0].values()[0] | int -%}
    {{ return([packet // 2, var('seed_max_statement_bytes', 8388608) | int] | min) }}
{%- endmacro %}
