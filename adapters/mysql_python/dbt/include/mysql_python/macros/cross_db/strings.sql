{#-
    length(expression) -> char_length(): MySQL's length() counts BYTES ('ação' is 6, not 4).
    escape_single_quotes(expression) -> also doubles backslashes: MySQL string literals treat \ as an escape
    character, so dbt's default (only ' -> '') lets "\'" end the literal early.
-#}
{% macro mysql__length(expression) -%}
    char_length({{ expression }})
{%- endmacro %}

{% macro mariadb__length(expression) -%}
    {{ mysql__length(expression) }}
{%- endmacro %}

{% macro mysql__escape_single_quotes(expression) -%}
    {{ expression | replace('\\', '\\\\') | replace("'", "''") }}
{%- endmacro %}

{% macro mariadb__escape_single_quotes(expression) -%}
    {{ mysql__escape_single_quotes(expression) }}
{%- endmacro %}
