{#-
    The one definition of a valid purchase: an order whose status is not in var('invalid_order_statuses')
    (default: canceled, unavailable; a single string is read as one status). Every other status (delivered,
    shipped, invoiced, processing, approved, created) counts: the customer bought, even if the parcel has not
    arrived yet. Returns a boolean SQL expression; a NULL status is not a valid purchase.
-#}
{% macro valid_purchase(status_column) -%}
    {%- set invalid_statuses = var('invalid_order_statuses', []) -%}
    {%- if invalid_statuses is string -%}
        {%- set invalid_statuses = [invalid_statuses] -%}
    {%- endif -%}
    {%- set quoted = [] -%}
    {%- for status in invalid_statuses -%}
        {%- do quoted.append("'" ~ (status | string | trim | lower | replace("'", "''")) ~ "'") -%}
    {%- endfor -%}
    {%- if quoted | length == 0 -%}
        ({{ status_column }} is not null)
    {%- else -%}
        (coalesce({{ status_column }} not in ({{ quoted | join(', ') }}), false))
    {%- endif -%}
{%- endmacro %}
