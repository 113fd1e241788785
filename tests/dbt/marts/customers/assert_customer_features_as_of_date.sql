{#-
    One as_of_date for the whole table, never before the last purchase; without var as_of_date it is the day
    after the last valid purchase in fct_orders.
-#}
with

features as (

    select
        count(distinct as_of_date) as as_of_dates,
        min(as_of_date) as as_of_date,
        max(last_purchase_at) as last_purchase_at
    from {{ ref('customer_features') }}

),

orders as (

    select max(purchased_at) as last_valid_purchase_at
    from {{ ref('fct_orders') }}
    where is_valid_purchase = 1

)

select
    features.as_of_dates,
    features.as_of_date,
    features.last_purchase_at,
    orders.last_valid_purchase_at
from features
cross join orders
where
    features.as_of_dates > 1
    or features.as_of_date < cast(features.last_purchase_at as date)
    or (
        {{ 'true' if var('as_of_date', none) is none else 'false' }}
        and features.as_of_date != date_add(cast(orders.last_valid_purchase_at as date), interval 1 day)
    )
