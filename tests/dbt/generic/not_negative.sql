{#- Rows where the column is below zero fail; NULLs pass (pair with not_null where needed). -#}
{% test not_negative(model, column_name) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} < 0

{% endtest %}
