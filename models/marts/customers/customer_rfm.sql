{{
    config(
        indexes=[
            {'columns': ['rfm_segment']},
        ]
    )
}}

{#-
    One row per customer of customer_features: R, F and M scores, the RFM score and the named segment of the
    first matching rule of the rfm_segments seed. R and M are quintiles from the empirical distribution:
    a customer's score is s when the share of customers whose value is as bad as theirs or worse (ties
    included) is in ((s - 1) / 5, s / 5]; integer arithmetic, so no rounding decides a boundary.
    F is absolute (1 order → 1, 2 → 2, 3 → 3, 4-5 → 4, 6+ → 5). See _customers__models.yml.
-#}
with

customer_features as (

    select * from {{ ref('customer_features') }}

),

rfm_segments as (

    select * from {{ ref('rfm_segments') }}

),

ranked as (

    select
        customer_unique_id,
        recency_days,
        frequency,
        monetary,
        last_purchase_at,
        as_of_date,
        count(*) over () as customers,
        -- customers who bought as long ago or longer (ties included): the cume_dist numerator, by recency
        count(*) over (
            order by recency_days desc
            range between unbounded preceding and current row
        ) as recency_position,
        -- customers who paid as little or less (ties included)
        count(*) over (
            order by monetary
            range between unbounded preceding and current row
        ) as monetary_position
    from customer_features

),

scored as (

    select
        customer_unique_id,
        recency_days,
        frequency,
        monetary,
        last_purchase_at,
        as_of_date,
        case
            when 5 * recency_position <= customers then 1
            when 5 * recency_position <= 2 * customers then 2
            when 5 * recency_position <= 3 * customers then 3
            when 5 * recency_position <= 4 * customers then 4
            else 5
        end as r_score,
        case
            when frequency <= 1 then 1
            when frequency = 2 then 2
            when frequency = 3 then 3
            when frequency <= 5 then 4
            else 5
        end as f_score,
        case
            when 5 * monetary_position <= customers then 1
            when 5 * monetary_position <= 2 * customers then 2
            when 5 * monetary_position <= 3 * customers then 3
            when 5 * monetary_position <= 4 * customers then 4
            else 5
        end as m_score
    from ranked

),

-- the 125 possible (r, f, m) score combinations
cells as (

    {{ rfm_score_cells() }}

),

-- each combination's segment: the matching rule with the lowest priority
cell_matches as (

    select
        cells.r_score,
        cells.f_score,
        cells.m_score,
        rfm_segments.priority,
        rfm_segments.rfm_segment,
        row_number() over (
            partition by cells.r_score, cells.f_score, cells.m_score
            order by rfm_segments.priority
        ) as match_rank
    from cells
    inner join rfm_segments
        on
            cells.r_score between rfm_segments.r_min and rfm_segments.r_max
            and cells.f_score between rfm_segments.f_min and rfm_segments.f_max
            and cells.m_score between rfm_segments.m_min and rfm_segments.m_max

),

cell_segments as (

    select
        r_score,
        f_score,
        m_score,
        priority,
        rfm_segment
    from cell_matches
    where match_rank = 1

),

final as (

    select
        cast(scored.customer_unique_id as char(32)) as customer_unique_id,
        cast(scored.recency_days as signed) as recency_days,
        cast(scored.frequency as signed) as frequency,
        cast(scored.monetary as decimal(14, 2)) as monetary,
        cast(scored.last_purchase_at as datetime) as last_purchase_at,
        cast(scored.as_of_date as date) as as_of_date,
        cast(scored.r_score as signed) as r_score,
        cast(scored.f_score as signed) as f_score,
        cast(scored.m_score as signed) as m_score,
        cast(concat(scored.r_score, scored.f_score, scored.m_score) as char(3)) as rfm_score,
        cast(100 * scored.r_score + 10 * scored.f_score + scored.m_score as signed) as rfm_cell,
        cast(cell_segments.rfm_segment as char(32)) as rfm_segment,
        cast(cell_segments.priority as signed) as rfm_segment_priority
    from scored
    left join cell_segments
        on
            scored.r_score = cell_segments.r_score
            and scored.f_score = cell_segments.f_score
            and scored.m_score = cell_segments.m_score

)

select * from final
