with

source as (

    select * from {{ ref('olist_order_items_dataset') }}

),

renamed as (

    select
        order_id,
        order_item_id,
        product_id,
        seller_id,
        shipping_limit_date as shipping_limit_at,
        price,
        freight_value,
        price + freight_value as gmv
    from source

)

select * from renamed
