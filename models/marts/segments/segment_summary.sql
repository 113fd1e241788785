{{ config(indexes=[{'columns': ['segment_id'], 'unique': true}]) }}

with

customers as (

    select * from {{ ref('dim_customers') }}
    where segment_id is not null

),

totals as (

    select
        count(*) as customers,
        sum(monetary) as revenue
    from customers

),

segments as (

    select
        run_id,
        scored_at,
        segment_count,
        segment_id,
        segment_name,
        segment_description,
        suggested_action,
        count(*) as customers,
        sum(monetary) as revenue,
        avg(recency_days) as mean_recency_days,
        avg(frequency) as mean_frequency,
        avg(monetary) as mean_monetary,
        avg(avg_review_score) as mean_review_score
    from customers
    group by
        run_id,
        scored_at,
        segment_count,
        segment_id,
        segment_name,
        segment_description,
        suggested_action

),

state_counts as (

    select
        segment_id,
        customer_state,
        count(*) as customers,
        row_number() over (
            partition by segment_id
            order by count(*) desc, customer_state
        ) as state_rank
    from customers
    where customer_state is not null
    group by segment_id, customer_state

),

top_states as (

    select
        state_counts.segment_id,
        group_concat(
            concat(
                state_counts.customer_state, ' ',
                round(100 * state_counts.customers / segments.customers), '%'
            )
            order by state_counts.state_rank
            separator ', '
        ) as top_states
    from state_counts
    inner join segments
        on state_counts.segment_id = segments.segment_id
    where state_counts.state_rank <= 3
    group by state_counts.segment_id

)

select
    segments.run_id,
    segments.scored_at,
    segments.segment_count,
    segments.segment_id,
    segments.segment_name,
    segments.segment_description,
    segments.suggested_action,
    segments.customers,
    cast(segments.customers as double) / totals.customers as customer_share,
    segments.revenue,
    cast(segments.revenue as double) / totals.revenue as revenue_share,
    round(segments.mean_recency_days, 1) as mean_recency_days,
    round(segments.mean_frequency, 3) as mean_frequency,
    round(segments.mean_monetary, 2) as mean_monetary,
    round(segments.mean_review_score, 2) as mean_review_score,
    top_states.top_states
from segments
cross join totals
left join top_states
    on segments.segment_id = top_states.segment_id
