-- The cohorts partition the customers of customer_features: cohort_customers is constant within a cohort,
-- each cohort starts at month 0, its customers add up to customer_features' row count, and the cohorts'
-- revenue adds up to their monetary. A row is a broken cohort, or the totals when they differ.
with

cohort_retention as (

    select * from {{ ref('cohort_retention') }}

),

cohorts as (

    select
        cohort_month,
        min(cohort_customers) as cohort_customers,
        max(cohort_customers) as max_cohort_customers,
        min(months_since_first) as first_month,
        sum(revenue) as revenue
    from cohort_retention
    group by cohort_month

),

cohort_totals as (

    select
        coalesce(sum(cohort_customers), 0) as customers,
        coalesce(sum(revenue), 0) as revenue
    from cohorts

),

feature_totals as (

    select
        count(*) as customers,
        coalesce(sum(monetary), 0) as revenue
    from {{ ref('customer_features') }}

)

select
    'cohort size not constant, or no month 0' as problem,
    cohorts.cohort_month,
    cohorts.cohort_customers as actual,
    cohorts.max_cohort_customers as expected
from cohorts
where cohorts.cohort_customers <> cohorts.max_cohort_customers or cohorts.first_month <> 0

union all

select
    'cohort customers <> customer_features rows' as problem,
    null as cohort_month,
    cohort_totals.customers as actual,
    feature_totals.customers as expected
from cohort_totals
cross join feature_totals
where cohort_totals.customers <> feature_totals.customers

union all

select
    'cohort revenue <> customer_features monetary' as problem,
    null as cohort_month,
    cohort_totals.revenue as actual,
    feature_totals.revenue as expected
from cohort_totals
cross join feature_totals
where cohort_totals.revenue <> feature_totals.revenue
