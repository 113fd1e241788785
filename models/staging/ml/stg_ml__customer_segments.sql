with

source as (

    select * from {{ source('ml', 'customer_segments') }}

)

select
    customer_unique_id,
    segment_id,
    segment_name,
    distance_to_centroid,
    run_id,
    scored_at
from source
