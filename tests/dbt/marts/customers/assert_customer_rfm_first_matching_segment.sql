-- Every customer of customer_features has exactly one row in customer_rfm (its primary key: at most one), and
-- its segment is the one of the first rule (lowest priority) of rfm_segments that matches its scores, derived
-- here from the rules. A row is a customer missing from customer_rfm, an extra customer, or a wrong segment.
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

-- the expected segment of every score combination present (at most 5 x 5 x 5): its first matching rule
score_combinations as (

    select distinct
        r_score,
        f_score,
        m_score
    from customer_rfm

),

first_matches as (

    select
        score_combinations.r_score,
        score_combinations.f_score,
        score_combinations.m_score,
        min(rfm_segments.priority) as priority
    from score_combinations
    inner join rfm_segments
        on
            score_combinations.r_score between rfm_segments.r_min and rfm_segments.r_max
            and score_combinations.f_score between rfm_segments.f_min and rfm_segments.f_max
            and score_combinations.m_score between rfm_segments.m_min and rfm_segments.m_max
    group by score_combinations.r_score, score_combinations.f_score, score_combinations.m_score

)

select
    customer_features.customer_unique_id,
    rfm_segments.rfm_segment as expected_segment,
    customer_rfm.rfm_segment as actual_segment
from customer_features
left join customer_rfm
    on customer_features.customer_unique_id = customer_rfm.customer_unique_id
left join first_matches
    on
        customer_rfm.r_score = first_matches.r_score
        and customer_rfm.f_score = first_matches.f_score
        and customer_rfm.m_score = first_matches.m_score
left join rfm_segments
    on first_matches.priority = rfm_segments.priority
where
    customer_rfm.customer_unique_id is null
    or rfm_segments.rfm_segment is null
    or customer_rfm.rfm_segment is null
    or rfm_segments.rfm_segment <> customer_rfm.rfm_segment

union all

select
    customer_rfm.customer_unique_id,
    null as expected_segment,
    customer_rfm.rfm_segment as actual_segment
from customer_rfm
left join customer_features
    on customer_rfm.customer_unique_id = customer_features.customer_unique_id
where customer_features.customer_unique_id is null
