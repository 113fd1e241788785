-- The registry is written by the customer_segments Python model: read it after that model ran.
-- depends_on: {{ ref('customer_segments') }}
with

source as (

    select * from {{ source('ml', 'segment_model_runs') }}

)

select
    run_id,
    status,
    k,
    k_selection,
    n_customers,
    data_as_of,
    silhouette,
    started_at,
    finished_at,
    features,
    params,
    metrics,
    centroids,
    scaler,
    library_versions
from source
