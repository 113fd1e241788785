{{ config(indexes=[{'columns': ['cohort_month', 'months_since_first'], 'unique': true}]) }}

{#-
    One row per acquisition cohort (month of the customer's first valid purchase) and month since then, from
    month 0 to the last observed month: every month of the grid is present, also those in which no cohort
    customer bought. See _cohorts__models.yml.
-#}
with recursive

orders as (

    select
        customer_unique_id,
        purchase_number,
        paid_amount,
        cast(date_format(purchased_at, '%Y-%m-01') as date) as order_month
    from {{ ref('fct_orders') }}
    where is_valid_purchase = 1

),

-- each customer's cohort: the month of their first valid purchase (fct_orders.purchase_number 1)
first_purchases as (

    select
        customer_unique_id,
        order_month as cohort_month
    from orders
    where purchase_number = 1

),

-- per cohort and month: buyers, orders, revenue, and the customers whose first / second order it holds
activity as (

    select
        first_purchases.cohort_month,
        timestampdiff(month, first_purchases.cohort_month, orders.order_month) as months_since_first,
        count(distinct orders.customer_unique_id) as active_customers,
        sum(case when orders.purchase_number = 2 then 1 else 0 end) as new_repeat_customers,
        count(*) as orders,
        sum(orders.paid_amount) as revenue
    from orders
    inner join first_purchases
        on orders.customer_unique_id = first_purchases.customer_unique_id
    group by first_purchases.cohort_month, months_since_first

),

-- the last month of the grid: the month before as_of_date (so the month of the last valid purchase by
-- default), or the month of the last valid purchase when as_of_date is set earlier
observation as (

    select
        cast(
            greatest(
                cast(date_format(date_sub(as_of.as_of_date, interval 1 day), '%Y-%m-01') as date),
                (select max(orders.order_month) from orders)
            ) as date
        ) as last_month,
        as_of.as_of_date
    from (select {{ as_of_date() }} as as_of_date) as as_of

),

-- every customer's first order is in month 0 of their cohort
cohorts as (

    select
        first_purchases.cohort_month,
        count(*) as cohort_customers,
        timestampdiff(month, first_purchases.cohort_month, observation.last_month) as months_observed
    from first_purchases
    cross join observation
    group by first_purchases.cohort_month, observation.last_month

),

grid_size as (

    select max(months_observed) as months_observed
    from cohorts

),

-- 0, 1, … up to the oldest cohort's months_observed (no aggregate in the recursive part: MySQL forbids it)
month_offsets as (

    select cast(0 as signed) as months_since_first

    union all

    select month_offsets.months_since_first + 1 as months_since_first
    from month_offsets
    cross join grid_size
    where month_offsets.months_since_first < grid_size.months_observed

),

grid as (

    select
        cohorts.cohort_month,
        month_offsets.months_since_first,
        cohorts.cohort_customers,
        coalesce(activity.active_customers, 0) as active_customers,
        coalesce(activity.orders, 0) as orders,
        coalesce(activity.revenue, 0) as revenue,
        sum(coalesce(activity.new_repeat_customers, 0)) over cohort_months as repeat_customers,
        sum(coalesce(activity.revenue, 0)) over cohort_months as cumulative_revenue
    from cohorts
    inner join month_offsets
        on cohorts.months_observed >= month_offsets.months_since_first
    left join activity
        on
            cohorts.cohort_month = activity.cohort_month
            and month_offsets.months_since_first = activity.months_since_first
    window cohort_months as (
        partition by cohorts.cohort_month
        order by month_offsets.months_since_first
        rows between unbounded preceding and current row
    )

),

final as (

    select
        cast(grid.cohort_month as date) as cohort_month,
        cast(grid.months_since_first as signed) as months_since_first,
        cast(date_add(grid.cohort_month, interval grid.months_since_first month) as date) as activity_month,
        cast(grid.cohort_customers as signed) as cohort_customers,
        cast(grid.active_customers as signed) as active_customers,
        cast(grid.active_customers as double) / grid.cohort_customers as retention_rate,
        cast(grid.repeat_customers as signed) as repeat_customers,
        cast(grid.repeat_customers as double) / grid.cohort_customers as repeat_rate,
        cast(grid.orders as signed) as orders,
        cast(grid.revenue as decimal(16, 2)) as revenue,
        cast(grid.cumulative_revenue as decimal(16, 2)) as cumulative_revenue,
        cast(grid.cumulative_revenue / grid.cohort_customers as decimal(14, 2)) as revenue_per_cohort_customer,
        -- the calendar month ended before as_of_date: its figures are final
        cast(
            date_add(grid.cohort_month, interval grid.months_since_first + 1 month) <= observation.as_of_date
            as signed
        ) as is_complete_month,
        cast(observation.as_of_date as date) as as_of_date
    from grid
    cross join observation

)

select * from final
