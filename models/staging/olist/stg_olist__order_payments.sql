with

source as (

    select * from {{ ref('olist_order_payments_dataset') }}

),

renamed as (

    select
        order_id,
        payment_sequential,
        nullif(lower(trim(payment_type)), '') as payment_type,
        payment_installments,
        payment_value
    from source

)

select * from renamed
