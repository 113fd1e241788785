{#- No fan-out or loss between staging and fct_orders: every payment and every item is counted exactly once. -#}
with

payments as (

    select coalesce(sum(payment_value), 0) as paid_amount
    from {{ ref('stg_olist__order_payments') }}

),

items as (

    select
        coalesce(sum(gmv), 0) as gmv,
        count(*) as item_count
    from {{ ref('stg_olist__order_items') }}

),

orders as (

    select
        coalesce(sum(paid_amount), 0) as paid_amount,
        coalesce(sum(gmv), 0) as gmv,
        coalesce(sum(item_count), 0) as item_count,
        count(*) as order_count
    from {{ ref('fct_orders') }}

),

staged_orders as (

    select count(*) as order_count
    from {{ ref('stg_olist__orders') }}

)

select
    payments.paid_amount as staged_paid_amount,
    orders.paid_amount as fct_paid_amount,
    items.gmv as staged_gmv,
    orders.gmv as fct_gmv,
    items.item_count as staged_item_count,
    orders.item_count as fct_item_count,
    staged_orders.order_count as staged_order_count,
    orders.order_count as fct_order_count
from payments
cross join items
cross join orders
cross join staged_orders
where
    payments.paid_amount != orders.paid_amount
    or items.gmv != orders.gmv
    or items.item_count != orders.item_count
    or staged_orders.order_count != orders.order_count
