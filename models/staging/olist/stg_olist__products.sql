with

source as (

    select * from {{ ref('olist_products_dataset') }}

),

renamed as (

    select
        product_id,
        nullif(lower(trim(product_category_name)), '') as product_category_name,
        -- Olist's column names say "lenght".
        product_name_lenght as product_name_length,
        product_description_lenght as product_description_length,
        product_photos_qty as product_photos_count,
        product_weight_g,
        product_length_cm,
        product_height_cm,
        product_width_cm
    from source

)

select * from renamed
