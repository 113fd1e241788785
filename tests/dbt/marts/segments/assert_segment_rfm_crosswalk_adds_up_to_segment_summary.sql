-- Per segment, the crosswalk's customers add up to segment_summary's customers: every segmented customer is
-- in exactly one (segment, RFM segment) pair. A row is a segment whose counts differ, or that is missing on
-- one side (an empty crosswalk fails for every segment).
with

summary as (

    select
        segment_id,
        customers
    from {{ ref('segment_summary') }}

),

crosswalk as (

    select
        segment_id,
        sum(customers) as customers
    from {{ ref('segment_rfm_crosswalk') }}
    group by segment_id

),

both_sides as (

    select
        segment_id,
        customers as summary_customers,
        0 as crosswalk_customers
    from summary

    union all

    select
        segment_id,
        0 as summary_customers,
        customers as crosswalk_customers
    from crosswalk

)

select
    segment_id,
    sum(summary_customers) as summary_customers,
    sum(crosswalk_customers) as crosswalk_customers
from both_sides
group by segment_id
having sum(summary_customers) <> sum(crosswalk_customers)
