-- The latest generation's transitions (new + moved + stayed) account for every customer currently in the
-- snapshot, and each (from, to) pair appears once per generation. An empty segment_transitions accounts for no
-- one: it fails while the snapshot has customers (coalesce: the sum over no rows is NULL, which compares to
-- nothing).
with

transitions as (

    select * from {{ ref('segment_transitions') }}

),

latest as (

    select sum(transitions.customers) as customers
    from transitions
    where transitions.generation = (select max(all_transitions.generation) from transitions as all_transitions)

),

current_versions as (

    select count(*) as customers
    from {{ ref('customer_segments_snapshot') }}
    where dbt_valid_to is null

),

duplicate_pairs as (

    select count(*) as pairs
    from (
        select generation
        from transitions
        group by generation, from_segment_id, from_segment_name, to_segment_id, to_segment_name
        having count(*) > 1
    ) as duplicates

)

select
    latest.customers as transition_customers,
    current_versions.customers as snapshot_customers,
    duplicate_pairs.pairs as duplicate_pairs
from latest
cross join current_versions
cross join duplicate_pairs
where coalesce(latest.customers, 0) <> current_versions.customers or duplicate_pairs.pairs > 0
