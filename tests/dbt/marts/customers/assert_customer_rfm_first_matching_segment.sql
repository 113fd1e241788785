-- Every customer of customer_features has exactly one row in customer_rfm, and its segment is the one of the
-- first rule (lowest priority) of rfm_segments that matches its scores, derived here by a direct join.
-- A row is a customer missing from customer_rfm, an extra or duplicated customer, or a wrong segment.
with

customer_features as (

    select * from {{ ref('customer_features') }}

),

customer_rfm as (

    select * from {{ ref('customer_rfm') }}

),

rfm_segments as (

    select * from {{ ref('rfm_segments') }}

),

first_matches as (

    select
        customer_rfm.customer_unique_id,
        min(rfm_segments.priority) as priority
    from customer_rfm
    inner join rfm_segments
        on
            customer_rfm.r_score between rfm_segments.r_min and rfm_segments.r_max
            and customer_rfm.f_score between rfm_segments.f_min and rfm_segments.f_max
            and customer_rfm.m_score between rfm_segments.m_min and rfm_segments.m_max
    group by customer_rfm.customer_unique_id

),

expected as (

    select
        customer_features.customer_unique_id,
        rfm_segments.rfm_segment
    from customer_features
    left join first_matches
        on customer_features.customer_unique_id = first_matches.customer_unique_id
    left join rfm_segments
        on first_matches.priority = rfm_segments.priority

),

actual as (

    select
        customer_unique_id,
        max(rfm_segment) as rfm_segment,
        count(*) as customer_rows
    from customer_rfm
    group by customer_unique_id

)

select
    expected.customer_unique_id,
    expected.rfm_segment as expected_segment,
    actual.rfm_segment as actual_segment,
    actual.customer_rows
from expected
left join actual
    on expected.customer_unique_id = actual.customer_unique_id
where
    actual.customer_unique_id is null
    or actual.customer_rows <> 1
    or expected.rfm_segment is null
    or actual.rfm_segment is null
    or expected.rfm_segment <> actual.rfm_segment

union all

select
    actual.customer_unique_id,
    null as expected_segment,
    actual.rfm_segment as actual_segment,
    actual.customer_rows
from actual
left join customer_features
    on actual.customer_unique_id = customer_features.customer_unique_id
where customer_features.customer_unique_id is null
