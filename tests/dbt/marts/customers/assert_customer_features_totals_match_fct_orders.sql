{#- No fan-out or loss between orders and customers: the customer totals add up to the valid orders' totals. -#}
with

orders as (

    select
        count(*) as frequency,
        sum(paid_amount) as monetary,
        sum(gmv) as gmv
    from {{ ref('fct_orders') }}
    where is_valid_purchase = 1

),

customers as (

    select
        sum(frequency) as frequency,
        sum(monetary) as monetary,
        sum(gmv) as gmv
    from {{ ref('customer_features') }}

)

select
    orders.frequency as orders_frequency,
    customers.frequency as customers_frequency,
    orders.monetary as orders_monetary,
    customers.monetary as customers_monetary,
    orders.gmv as orders_gmv,
    customers.gmv as customers_gmv
from orders
cross join customers
where
    orders.frequency != customers.frequency
    or coalesce(orders.monetary, 0) != coalesce(customers.monetary, 0)
    or coalesce(orders.gmv, 0) != coalesce(customers.gmv, 0)
