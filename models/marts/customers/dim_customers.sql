{#- customer_unique_id is the primary key (contract constraint); BI filters and groups by segment. -#}
{{ config(indexes=[{'columns': ['segment_id']}]) }}

with

customer_features as (

    select * from {{ ref('customer_features') }}

),

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

customer_rfm as (

    select * from {{ ref('customer_rfm') }}

),

model_runs as (

    select * from {{ ref('stg_ml__segment_model_runs') }}

),

run_segments as (

    select * from {{ ref('stg_ml__run_segments') }}

)

select
    customer_features.customer_unique_id,
    customer_features.customer_state,
    customer_features.customer_city,
    customer_features.frequency,
    customer_features.monetary,
    customer_features.gmv,
    customer_features.avg_order_value,
    customer_features.first_purchase_at,
    customer_features.last_purchase_at,
    customer_features.recency_days,
    customer_features.tenure_days,
    customer_features.avg_review_score,
    customer_features.late_delivery_share,
    customer_features.distinct_categories,
    customer_features.as_of_date,
    customer_segments.segment_id,
    customer_segments.segment_name,
    run_segments.segment_description,
    run_segments.suggested_action,
    customer_segments.distance_to_centroid,
    model_runs.k as segment_count,
    customer_segments.run_id,
    customer_segments.scored_at,
    customer_rfm.rfm_segment
from customer_features
left join customer_segments
    on customer_features.customer_unique_id = customer_segments.customer_unique_id
left join customer_rfm
    on customer_features.customer_unique_id = customer_rfm.customer_unique_id
left join model_runs
    on customer_segments.run_id = model_runs.run_id
left join run_segments
    on
        customer_segments.run_id = run_segments.run_id
        and customer_segments.segment_id = run_segments.segment_id
