-- Every customer's segment is one of the segments its run recorded (ids are kept across runs, not 1..k).
select
    segments.customer_unique_id,
    segments.segment_id,
    segments.run_id
from {{ ref('customer_segments') }} as segments
left join {{ ref('stg_ml__run_segments') }} as run_segments
    on
        segments.run_id = run_segments.run_id
        and segments.segment_id = run_segments.segment_id
where run_segments.segment_id is null
