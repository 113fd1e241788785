-- The segmentation step needs at least as many customers as its largest k (var segment_max_k, the top of its
-- default k range). Checked here, on the parent of fct_orders and customer_features, so that data too small to
-- segment fails the upstream build before those marts are rebuilt: published marts stay as they were.
select count(distinct customer_unique_id) as customers_with_valid_orders
from {{ ref('int_orders_joined_to_customers') }}
where is_valid_purchase
having count(distinct customer_unique_id) < {{ var('segment_max_k') }}
