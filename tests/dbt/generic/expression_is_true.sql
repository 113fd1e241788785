{#- Rows where `expression` is not true fail (NULL counts as failing). On a column: the expression may use it. -#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
