{#- Items rolled up to one row per order, before any join: joining items and payments directly fans out. -#}
with

order_items as (

    select * from {{ ref('stg_olist__order_items') }}

),

aggregated as (

    select
        order_id,
        count(*) as item_count,
        count(distinct product_id) as distinct_product_count,
        count(distinct seller_id) as distinct_seller_count,
        sum(price) as items_price,
        sum(freight_value) as items_freight,
        sum(gmv) as items_gmv
    from order_items
    group by order_id

)

select * from aggregated
-- in key order: the joins that read this table by key then read its pages in sequence
order by order_id
