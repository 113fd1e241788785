{#- Customers' segment changes per snapshot generation, from customer_segments_snapshot: one row per generation
    and (from segment, to segment), with the number of customers that made that move (from NULL: customers new
    in that generation). A table: segment_transitions reads it several times (MariaDB would evaluate a CTE's
    window over every snapshot version once per reference). -#}
with

snapshot as (

    select * from {{ ref('customer_segments_snapshot') }}

),

-- a generation is one snapshot that recorded changes: all its versions share dbt_valid_from and one run
generations as (

    select
        dbt_valid_from as snapshot_at,
        max(run_id) as run_id,
        row_number() over (order by dbt_valid_from) as generation
    from snapshot
    group by dbt_valid_from

),

versions as (

    select
        customer_unique_id,
        segment_id,
        segment_name,
        dbt_valid_from,
        lag(segment_id) over customer_history as from_segment_id,
        lag(segment_name) over customer_history as from_segment_name
    from snapshot
    window customer_history as (partition by customer_unique_id order by dbt_valid_from)

)

select
    generations.generation,
    generations.snapshot_at,
    generations.run_id,
    versions.from_segment_id,
    versions.from_segment_name,
    versions.segment_id as to_segment_id,
    versions.segment_name as to_segment_name,
    count(*) as customers
from versions
inner join generations
    on versions.dbt_valid_from = generations.snapshot_at
group by
    generations.generation,
    generations.snapshot_at,
    generations.run_id,
    versions.from_segment_id,
    versions.from_segment_name,
    versions.segment_id,
    versions.segment_name
