-- The segments hold every customer of customer_features once: their sizes add up to its row count.
with

summary as (

    select coalesce(sum(customers), 0) as customers from {{ ref('segment_summary') }}

),

features as (

    select count(*) as customers from {{ ref('customer_features') }}

)

select
    summary.customers as segmented_customers,
    features.customers as feature_customers
from summary
cross join features
where summary.customers <> features.customers
