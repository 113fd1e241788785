{#-
    This project's customer_segments is a Python model, which only the mysql_python / mariadb_python adapter
    types run (dbt-mysql's own mysql / mariadb types have no Python models). On any other type, a table model in
    Python fails with the fix instead of dbt's "only supports languages ['sql']"; SQL tables build as dbt's
    default materialization builds them.
-#}
{% materialization table, default, supported_languages=['sql', 'python'] %}
    {%- if model.language == 'python' -%}
        {{ exceptions.raise_compiler_error(
            "profile type '" ~ adapter.type() ~ "' cannot run the Python model " ~ model.name ~ ": set `type: "
            ~ ('mysql_python' if 'mysql' == adapter.type() else 'mariadb_python') ~ "` in profiles.yml (see"
            ~ " profiles.yml.example; the adapter is adapters/mysql_python, installed by `make setup`)") }}
    {%- endif -%}
    {{ return(dbt.materialization_table_default()) }}
{% endmaterialization %}
