-- customer_share and revenue_share each add up to 1 over the segments (within 1e-6).
select
    sum(customer_share) as customer_share_total,
    sum(revenue_share) as revenue_share_total
from {{ ref('segment_summary') }}
having
    abs(sum(customer_share) - 1) > 1e-6
    or abs(sum(revenue_share) - 1) > 1e-6
