{#- Like `relationships`, restricted to the child rows matching from_condition and parent rows matching
    to_condition: every such child value must exist among such parent values. -#}
{% test relationships_where(model, column_name, to, field, from_condition='1 = 1', to_condition='1 = 1') %}

with

child as (

    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
        and ({{ from_condition }})

),

parent as (

    select {{ field }} as to_field
    from {{ to }}
    where {{ to_condition }}

)

select child.from_field
from child
left join parent
    on child.from_field = parent.to_field
where parent.to_field is null

{% endtest %}
