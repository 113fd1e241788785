{#- Source freshness compares max(loaded_at_field) with "now": the ML step stamps scored_at in UTC, so compare
    with utc_timestamp() rather than the session-time-zone current_timestamp() of the default macro. -#}
{% macro mysql__collect_freshness(source, loaded_at_field, filter) %}
    {% call statement('collect_freshness', fetch_result=True, auto_begin=False) -%}
        select
            max({{ loaded_at_field }}) as max_loaded_at,
            utc_timestamp() as snapshotted_at
        from {{ source }}
        {% if filter %}
            where {{ filter }}
        {% endif %}
    {%- endcall %}
    {{ return(load_result('collect_freshness')) }}
{% endmacro %}

{% macro mariadb__collect_freshness(source, loaded_at_field, filter) %}
    {{ return(mysql__collect_freshness(source, loaded_at_field, filter)) }}
{% endmacro %}
