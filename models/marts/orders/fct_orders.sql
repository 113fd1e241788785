{{
    config(
        indexes=[
            {'columns': ['order_id'], 'unique': true},
            {'columns': ['customer_unique_id']},
        ]
    )
}}

{#- One row per order. Items, payments and reviews are each at order grain before these joins: no fan-out.
    Money is cast to decimal(14,2) (the sums would otherwise be decimal(34,2)). The customer's purchase
    sequence is numbered here, once, for the marts that need a customer's first or latest purchase. -#}
with

orders as (

    select * from {{ ref('int_orders_joined_to_customers') }}

),

order_items as (

    select * from {{ ref('int_order_items_aggregated_to_orders') }}

),

order_payments as (

    select * from {{ ref('int_order_payments_aggregated_to_orders') }}

),

order_reviews as (

    select * from {{ ref('stg_olist__order_reviews') }}

),

joined as (

    select
        orders.order_id,
        orders.customer_id,
        orders.customer_unique_id,
        orders.order_status,
        orders.is_valid_purchase,
        orders.purchased_at,
        orders.approved_at,
        orders.delivered_to_carrier_at,
        orders.delivered_to_customer_at,
        orders.estimated_delivery_date,
        orders.order_status = 'delivered' and orders.delivered_to_customer_at is not null as is_delivered,
        case
            when orders.order_status = 'delivered' and orders.delivered_to_customer_at is not null
                then cast(orders.delivered_to_customer_at as date) > orders.estimated_delivery_date
        end as is_late,
        orders.customer_zip_code_prefix,
        orders.customer_city,
        orders.customer_state,
        coalesce(order_items.item_count, 0) as item_count,
        coalesce(order_items.distinct_product_count, 0) as distinct_product_count,
        coalesce(order_items.distinct_seller_count, 0) as distinct_seller_count,
        cast(coalesce(order_items.items_price, 0) as decimal(14, 2)) as items_price,
        cast(coalesce(order_items.items_freight, 0) as decimal(14, 2)) as items_freight,
        cast(coalesce(order_items.items_gmv, 0) as decimal(14, 2)) as gmv,
        coalesce(order_payments.payment_count, 0) as payment_count,
        cast(coalesce(order_payments.paid_amount, 0) as decimal(14, 2)) as paid_amount,
        cast(coalesce(order_payments.voucher_amount, 0) as decimal(14, 2)) as voucher_amount,
        order_payments.max_installments,
        cast(order_payments.payment_types as char(100)) as payment_types,
        order_reviews.review_id,
        order_reviews.review_score
    from orders
    left join order_items
        on orders.order_id = order_items.order_id
    left join order_payments
        on orders.order_id = order_payments.order_id
    left join order_reviews
        on orders.order_id = order_reviews.order_id

),

-- the customer's valid purchases numbered 1, 2, … in time (order_id breaks ties); NULL for other orders
numbered as (

    select
        joined.*,
        case when joined.is_valid_purchase = 1 then row_number() over customer_orders end as purchase_number,
        case
            when joined.is_valid_purchase = 1
                then row_number() over customer_orders = count(*) over customer_order_counts
        end as is_latest_purchase
    from joined
    window
        customer_order_counts as (partition by joined.customer_unique_id, joined.is_valid_purchase),
        customer_orders as (
            partition by joined.customer_unique_id, joined.is_valid_purchase
            order by joined.purchased_at, joined.order_id
        )

)

select * from numbered
