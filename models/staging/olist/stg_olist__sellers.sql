with

source as (

    select * from {{ ref('olist_sellers_dataset') }}

),

renamed as (

    select
        seller_id,
        lpad(nullif(trim(seller_zip_code_prefix), ''), 5, '0') as seller_zip_code_prefix,
        nullif(lower(trim(seller_city)), '') as seller_city,
        nullif(upper(trim(seller_state)), '') as seller_state
    from source

)

select * from renamed
