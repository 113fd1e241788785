-- segment_share sums to 1 over the rows of each segment and rfm_segment_share over the rows of each RFM
-- segment (within 1e-6). Not vacuous: an empty crosswalk fails when customer_segments has customers.
with

crosswalk as (

    select * from {{ ref('segment_rfm_crosswalk') }}

),

segment_totals as (

    select
        'segment_share' as share_column,
        cast(segment_id as char(32)) as group_key,
        sum(segment_share) as total
    from crosswalk
    group by segment_id

),

rfm_totals as (

    select
        'rfm_segment_share' as share_column,
        cast(rfm_segment as char(32)) as group_key,
        sum(rfm_segment_share) as total
    from crosswalk
    group by rfm_segment

),

emptiness as (

    select
        (select count(*) from crosswalk) as crosswalk_rows,
        (select count(*) from {{ ref('customer_segments') }}) as segmented_customers

)

select
    share_column,
    group_key,
    total
from segment_totals
where abs(total - 1) > 1e-6

union all

select
    share_column,
    group_key,
    total
from rfm_totals
where abs(total - 1) > 1e-6

union all

select
    'empty crosswalk' as share_column,
    cast(segmented_customers as char(32)) as group_key,
    crosswalk_rows as total
from emptiness
where crosswalk_rows = 0 and segmented_customers > 0
