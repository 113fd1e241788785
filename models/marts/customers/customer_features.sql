{{
    config(
        indexes=[
            {'columns': ['customer_state']},
        ]
    )
}}

{#-
    One row per customer_unique_id with at least one valid purchase (fct_orders.is_valid_purchase, i.e. the
    valid_purchase macro). Every aggregate is over the customer's valid orders only. The contract (names and
    types) is in _customers__models.yml; the final select casts every column to its contract type.
-#}
with

valid_orders as (

    select * from {{ ref('fct_orders') }}
    where is_valid_purchase = 1

),

order_items as (

    select * from {{ ref('int_order_items_joined_to_products_and_sellers') }}

),

-- state and city come from the customer's most recent valid order (fct_orders.is_latest_purchase)
customer_orders as (

    select
        customer_unique_id,
        count(distinct order_id) as frequency,
        sum(paid_amount) as monetary,
        sum(gmv) as gmv,
        min(purchased_at) as first_purchase_at,
        max(purchased_at) as last_purchase_at,
        avg(review_score) as avg_review_score,
        sum(case when is_late then 1 else 0 end) as late_deliveries,
        sum(case when is_delivered then 1 else 0 end) as delivered_orders,
        max(case when is_latest_purchase = 1 then customer_state end) as customer_state,
        max(case when is_latest_purchase = 1 then customer_city end) as customer_city
    from valid_orders
    group by customer_unique_id

),

customer_categories as (

    select
        valid_orders.customer_unique_id,
        count(distinct order_items.product_category_name) as distinct_categories
    from valid_orders
    inner join order_items
        on valid_orders.order_id = order_items.order_id
    group by valid_orders.customer_unique_id

),

as_of as (

    select {{ as_of_date() }} as as_of_date

),

final as (

    select
        cast(customer_orders.customer_unique_id as char(32)) as customer_unique_id,
        cast(customer_orders.customer_state as char(2)) as customer_state,
        cast(customer_orders.customer_city as char(100)) as customer_city,
        cast(customer_orders.frequency as signed) as frequency,
        cast(customer_orders.monetary as decimal(14, 2)) as monetary,
        cast(customer_orders.gmv as decimal(14, 2)) as gmv,
        cast(customer_orders.monetary / customer_orders.frequency as decimal(14, 2)) as avg_order_value,
        cast(customer_orders.first_purchase_at as datetime) as first_purchase_at,
        cast(customer_orders.last_purchase_at as datetime) as last_purchase_at,
        cast(datediff(as_of.as_of_date, cast(customer_orders.last_purchase_at as date)) as signed) as recency_days,
        cast(datediff(as_of.as_of_date, cast(customer_orders.first_purchase_at as date)) as signed) as tenure_days,
        cast(customer_orders.avg_review_score as decimal(4, 2)) as avg_review_score,
        cast(
            customer_orders.late_deliveries / nullif(customer_orders.delivered_orders, 0) as decimal(5, 4)
        ) as late_delivery_share,
        cast(coalesce(customer_categories.distinct_categories, 0) as signed) as distinct_categories,
        cast(as_of.as_of_date as date) as as_of_date
    from customer_orders
    left join customer_categories
        on customer_orders.customer_unique_id = customer_categories.customer_unique_id
    cross join as_of

)

select * from final
