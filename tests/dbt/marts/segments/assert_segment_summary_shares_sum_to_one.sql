-- customer_share and revenue_share each add up to 1 over the segments (within 1e-6), and segment_summary is
-- not empty while dim_customers has segmented customers (an empty table would otherwise pass: no sums).
with

summary as (

    select
        count(*) as segments,
        sum(customer_share) as customer_share_total,
        sum(revenue_share) as revenue_share_total
    from {{ ref('segment_summary') }}

),

segmented as (

    select count(*) as customers
    from {{ ref('dim_customers') }}
    where segment_id is not null

)

select
    summary.segments,
    segmented.customers as segmented_customers,
    summary.customer_share_total,
    summary.revenue_share_total
from summary
cross join segmented
where
    (summary.segments = 0 and segmented.customers > 0)
    or abs(summary.customer_share_total - 1) > 1e-6
    or abs(summary.revenue_share_total - 1) > 1e-6
