{#- Item grain (one row per order line) with the product's category (Portuguese and English) and the seller's
    location. Products and sellers are unique, so these joins keep the line grain. -#}
with

order_items as (

    select * from {{ ref('stg_olist__order_items') }}

),

products as (

    select * from {{ ref('stg_olist__products') }}

),

translations as (

    select * from {{ ref('stg_olist__category_translations') }}

),

sellers as (

    select * from {{ ref('stg_olist__sellers') }}

),

joined as (

    select
        order_items.order_id,
        order_items.order_item_id,
        order_items.product_id,
        order_items.seller_id,
        products.product_category_name,
        translations.product_category_name_english,
        sellers.seller_city,
        sellers.seller_state,
        order_items.price,
        order_items.freight_value,
        order_items.gmv
    from order_items
    left join products
        on order_items.product_id = products.product_id
    left join translations
        on products.product_category_name = translations.product_category_name
    left join sellers
        on order_items.seller_id = sellers.seller_id

)

select * from joined
-- in key order: the joins that read this table by key then read its pages in sequence
order by order_id, order_item_id
