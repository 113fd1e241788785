{#- Movements between segments from one snapshot generation to the next. A generation is one snapshot that
    recorded changes (all its versions share dbt_valid_from and come from one run); a run that changes nothing
    adds no generation. Per generation: `new` customers, customers that `moved`, and customers that `stayed`
    (derived from the segment populations, so the table stays small however many customers there are). -#}

with

moves as (

    select * from {{ ref('int_segment_moves_aggregated_to_generations') }}

),

generations as (

    select distinct
        generation,
        snapshot_at,
        run_id
    from moves

),

-- each segment's population change per generation: + customers in, - customers out
flows as (

    select
        generation,
        to_segment_id as segment_id,
        to_segment_name as segment_name,
        customers as delta
    from moves

    union all

    select
        generation,
        from_segment_id as segment_id,
        from_segment_name as segment_name,
        -customers as delta
    from moves
    where from_segment_id is not null

),

-- customers in each segment right after each generation
populations as (

    select
        generations.generation,
        flows.segment_id,
        flows.segment_name,
        sum(flows.delta) as customers
    from generations
    inner join flows
        on generations.generation >= flows.generation
    group by generations.generation, flows.segment_id, flows.segment_name

),

leavers as (

    select
        generation,
        from_segment_id as segment_id,
        from_segment_name as segment_name,
        sum(customers) as customers
    from moves
    where from_segment_id is not null
    group by generation, from_segment_id, from_segment_name

),

stays as (

    select
        populations.generation + 1 as generation,
        populations.segment_id as from_segment_id,
        populations.segment_name as from_segment_name,
        populations.segment_id as to_segment_id,
        populations.segment_name as to_segment_name,
        populations.customers - coalesce(leavers.customers, 0) as customers
    from populations
    left join leavers
        on
            populations.generation + 1 = leavers.generation
            and populations.segment_id = leavers.segment_id
            and populations.segment_name = leavers.segment_name
    where
        populations.generation < (select max(generations.generation) from generations)
        and populations.customers > coalesce(leavers.customers, 0)

),

transitions as (

    select
        generation,
        case when from_segment_id is null then 'new' else 'moved' end as transition_type,
        from_segment_id,
        coalesce(from_segment_name, 'new') as from_segment_name,
        to_segment_id,
        to_segment_name,
        customers
    from moves

    union all

    select
        generation,
        'stayed' as transition_type,
        from_segment_id,
        from_segment_name,
        to_segment_id,
        to_segment_name,
        customers
    from stays

)

select
    transitions.generation,
    generations.snapshot_at,
    generations.run_id,
    previous_generations.run_id as previous_run_id,
    transitions.transition_type,
    transitions.from_segment_id,
    transitions.from_segment_name,
    transitions.to_segment_id,
    transitions.to_segment_name,
    cast(transitions.customers as signed) as customers
from transitions
inner join generations
    on transitions.generation = generations.generation
left join generations as previous_generations
    on transitions.generation = previous_generations.generation + 1
