{{ config(indexes=[{'columns': ['segment_id', 'rfm_segment'], 'unique': true}]) }}

{#- One row per (KMeans segment, RFM segment) pair that has customers, for the live segmentation run:
    how the clusters and the marketers' RFM vocabulary line up. See _segments__models.yml. -#}
with

customer_segments as (

    select * from {{ ref('customer_segments') }}

),

customer_rfm as (

    select * from {{ ref('customer_rfm') }}

),

model_runs as (

    select * from {{ ref('stg_ml__segment_model_runs') }}

),

customers as (

    select
        customer_segments.run_id,
        customer_segments.segment_id,
        customer_segments.segment_name,
        customer_rfm.rfm_segment,
        customer_rfm.rfm_segment_priority,
        customer_rfm.recency_days,
        customer_rfm.frequency,
        customer_rfm.monetary
    from customer_segments
    inner join customer_rfm
        on customer_segments.customer_unique_id = customer_rfm.customer_unique_id

),

pairs as (

    select
        run_id,
        segment_id,
        segment_name,
        rfm_segment,
        rfm_segment_priority,
        count(*) as customers,
        sum(monetary) as revenue,
        avg(recency_days) as mean_recency_days,
        avg(frequency) as mean_frequency,
        avg(monetary) as mean_monetary
    from customers
    group by run_id, segment_id, segment_name, rfm_segment, rfm_segment_priority

),

shares as (

    select
        pairs.run_id,
        pairs.segment_id,
        pairs.segment_name,
        pairs.rfm_segment,
        pairs.rfm_segment_priority,
        pairs.customers,
        pairs.revenue,
        pairs.mean_recency_days,
        pairs.mean_frequency,
        pairs.mean_monetary,
        sum(pairs.customers) over (partition by pairs.segment_id) as segment_customers,
        sum(pairs.customers) over (partition by pairs.rfm_segment) as rfm_segment_customers,
        sum(pairs.revenue) over (partition by pairs.segment_id) as segment_revenue
    from pairs

)

select
    shares.run_id,
    model_runs.k as segment_count,
    shares.segment_id,
    shares.segment_name,
    shares.rfm_segment,
    shares.rfm_segment_priority,
    cast(shares.customers as signed) as customers,
    cast(shares.customers as double) / shares.segment_customers as segment_share,
    cast(shares.customers as double) / shares.rfm_segment_customers as rfm_segment_share,
    cast(shares.revenue as decimal(16, 2)) as revenue,
    cast(shares.revenue as double) / nullif(shares.segment_revenue, 0) as segment_revenue_share,
    round(shares.mean_recency_days, 1) as mean_recency_days,
    round(shares.mean_frequency, 3) as mean_frequency,
    round(shares.mean_monetary, 2) as mean_monetary
from shares
left join model_runs
    on shares.run_id = model_runs.run_id
