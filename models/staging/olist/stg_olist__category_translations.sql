{#- Kaggle's translation table plus our additions for the categories it lacks (Kaggle wins on a clash). -#}
with

kaggle as (

    select
        nullif(lower(trim(product_category_name)), '') as product_category_name,
        nullif(lower(trim(product_category_name_english)), '') as product_category_name_english,
        'kaggle' as translation_source
    from {{ ref('product_category_name_translation') }}

),

additions as (

    select
        nullif(lower(trim(product_category_name)), '') as product_category_name,
        nullif(lower(trim(product_category_name_english)), '') as product_category_name_english,
        'olist_segments' as translation_source
    from {{ ref('product_category_name_translation_additions') }}

),

unioned as (

    select * from kaggle

    union all

    select * from additions
    where product_category_name not in (
        select kaggle.product_category_name from kaggle
        where kaggle.product_category_name is not null
    )

)

select * from unioned
