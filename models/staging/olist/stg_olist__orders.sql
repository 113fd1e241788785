with

source as (

    select * from {{ ref('olist_orders_dataset') }}

),

renamed as (

    select
        order_id,
        customer_id,
        nullif(lower(trim(order_status)), '') as order_status,
        order_purchase_timestamp as purchased_at,
        order_approved_at as approved_at,
        order_delivered_carrier_date as delivered_to_carrier_at,
        order_delivered_customer_date as delivered_to_customer_at,
        -- Always midnight in the data: a date, kept as the promised delivery day.
        cast(order_estimated_delivery_date as date) as estimated_delivery_date
    from source

)

select * from renamed
