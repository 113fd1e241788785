-- Makes a refused or failed segmentation run visible in `dbt build` (a warning): the newest run should be
-- the one that is live. A refused run names its figures in `error_message`; the previous segments stay published.
{{ config(severity='warn') }}

select
    run_id,
    status,
    error_message
from {{ ref('segment_runs') }}
where
    started_at = (select max(newest.started_at) from {{ ref('segment_runs') }} as newest)
    and not is_live
