with

source as (

    select * from {{ ref('olist_customers_dataset') }}

),

renamed as (

    select
        customer_id,
        customer_unique_id,
        -- Zip prefixes are text: restore leading zeros a spreadsheet round-trip may have dropped.
        lpad(nullif(trim(customer_zip_code_prefix), ''), 5, '0') as customer_zip_code_prefix,
        nullif(lower(trim(customer_city)), '') as customer_city,
        nullif(upper(trim(customer_state)), '') as customer_state
    from source

)

select * from renamed
