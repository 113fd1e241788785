{#- cast_bool_to_text(field) -> 'true' / 'false' / NULL like Postgres (MySQL's cast gives '1' / '0'). -#}
{% macro mysql__cast_bool_to_text(field) -%}
    case when ({{ field }}) is null then null when ({{ field }}) then 'true' else 'false' end
{%- endmacro %}

{% macro mariadb__cast_bool_to_text(field) -%}
    {{ mysql__cast_bool_to_text(field) }}
{%- endmacro %}
