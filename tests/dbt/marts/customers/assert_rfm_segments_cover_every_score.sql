-- The rfm_segments rules are exhaustive: each of the 125 (R, F, M) score combinations matches at least one
-- rule. A row is a combination no rule covers (an edit of the seed that left a hole).
with

rfm_segments as (

    select * from {{ ref('rfm_segments') }}

),

cells as (

    {{ rfm_score_cells() }}

)

select
    cells.r_score,
    cells.f_score,
    cells.m_score
from cells
left join rfm_segments
    on
        cells.r_score between rfm_segments.r_min and rfm_segments.r_max
        and cells.f_score between rfm_segments.f_min and rfm_segments.f_max
        and cells.m_score between rfm_segments.m_min and rfm_segments.m_max
group by cells.r_score, cells.f_score, cells.m_score
having count(rfm_segments.priority) = 0
