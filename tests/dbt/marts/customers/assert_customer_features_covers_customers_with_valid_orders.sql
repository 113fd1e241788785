{#- customer_features has exactly the customers with a valid order in fct_orders: none missing, none extra. -#}
with

expected as (

    select distinct customer_unique_id
    from {{ ref('fct_orders') }}
    where is_valid_purchase = 1

),

actual as (

    select customer_unique_id
    from {{ ref('customer_features') }}

),

missing as (

    select
        expected.customer_unique_id,
        'missing from customer_features' as problem
    from expected
    left join actual
        on expected.customer_unique_id = actual.customer_unique_id
    where actual.customer_unique_id is null

),

extra as (

    select
        actual.customer_unique_id,
        'no valid order in fct_orders' as problem
    from actual
    left join expected
        on actual.customer_unique_id = expected.customer_unique_id
    where expected.customer_unique_id is null

)

select * from missing
union all
select * from extra
