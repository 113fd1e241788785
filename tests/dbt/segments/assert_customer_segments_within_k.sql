-- Every segment_id is in 1..k of the run that assigned it.
select
    segments.customer_unique_id,
    segments.segment_id,
    runs.k
from {{ ref('customer_segments') }} as segments
left join {{ ref('stg_ml__segment_model_runs') }} as runs
    on segments.run_id = runs.run_id
where runs.k is null or segments.segment_id not between 1 and runs.k
