{#- Orders with the person behind them: customer_id is per order, customer_unique_id is the customer. -#}
with

orders as (

    select * from {{ ref('stg_olist__orders') }}

),

customers as (

    select * from {{ ref('stg_olist__customers') }}

),

joined as (

    select
        orders.order_id,
        orders.customer_id,
        customers.customer_unique_id,
        orders.order_status,
        {{ valid_purchase('orders.order_status') }} as is_valid_purchase,
        orders.purchased_at,
        orders.approved_at,
        orders.delivered_to_carrier_at,
        orders.delivered_to_customer_at,
        orders.estimated_delivery_date,
        customers.customer_zip_code_prefix,
        customers.customer_city,
        customers.customer_state
    from orders
    left join customers
        on orders.customer_id = customers.customer_id

)

select * from joined
-- in key order: the joins that read this table by key then read its pages in sequence
order by order_id
