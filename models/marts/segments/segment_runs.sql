-- One row per segmentation run, newest first in BI: what it did (refit or frozen scoring), how it compares
-- with the run it replaced (agreement, ARI, input drift, segment sizes) and whether it went live.
with

model_runs as (

    select * from {{ ref('stg_ml__segment_model_runs') }}

),

live as (

    select distinct run_id from {{ ref('customer_segments') }}

)

select
    model_runs.run_id,
    model_runs.status,
    json_unquote(json_extract(model_runs.metrics, '$.mode')) as run_mode,
    json_unquote(json_extract(model_runs.metrics, '$.mode_reason')) as mode_reason,
    model_runs.k as segment_count,
    model_runs.silhouette,
    model_runs.n_customers,
    model_runs.data_as_of,
    model_runs.started_at,
    model_runs.finished_at,
    cast(json_extract(model_runs.metrics, '$.agreement.customers') as signed) as customers_compared,
    cast(json_extract(model_runs.metrics, '$.agreement.same_segment') as double) as share_same_segment,
    cast(json_extract(model_runs.metrics, '$.agreement.ari') as double) as adjusted_rand_index,
    cast(json_extract(model_runs.metrics, '$.max_input_psi') as double) as max_input_psi,
    cast(json_extract(model_runs.metrics, '$.largest_size_change') as double) as largest_size_change,
    json_unquote(json_extract(model_runs.metrics, '$.accepted')) as accepted_drift,
    json_unquote(json_extract(model_runs.metrics, '$.error')) as error_message,
    live.run_id is not null as is_live
from model_runs
left join live
    on model_runs.run_id = live.run_id
