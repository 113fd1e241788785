-- The segmentation model needs at least as many customers as its largest k (var segment_k, or the top of
-- segment_k_range). Checked here, on the parent of fct_orders and customer_features, so that data too small to
-- segment fails the build before those marts are rebuilt: published marts stay as they were.
{%- set k = var('segment_k') | string | trim -%}
{%- set largest_k = (var('segment_k_range') | string).split('-')[-1] if k == 'auto' else k %}
select count(distinct customer_unique_id) as customers_with_valid_orders
from {{ ref('int_orders_joined_to_customers') }}
where is_valid_purchase
having count(distinct customer_unique_id) < {{ largest_k | int }}
