"""customer_segments: every customer of customer_features in a KMeans segment with a stable id and name.

A dbt Python model, run in the dbt process by the mysql_python / mariadb_python adapter (adapters/mysql_python).
The work is olist_segments.segmentation's: the validation gate; scoring with the approved (published) model,
or a refit (log1p + standard scaling, k by the elbow with the silhouette beside it) whose segments keep the
published ids and names and whose new segments are named from their profile (segment_definitions); the
drift and stability gate against the published run. Its two passes over the mart run over key ranges
(`Table.map_ranges`: in the dbt process, or on a Dask cluster with submission_method dask) and load the
scored customers chunk by chunk (memory stays bounded); the adapter swaps the new table in with the run's
row of segment_model_runs in one RENAME TABLE.
Settings: the dbt vars segment_* (dbt_project.yml), e.g. `dbt build -s customer_segments+ --vars '{segment_k: 5}'`.
"""

from olist_segments.segment_options import SegmentOptions
from olist_segments.segmentation import segment


def model(dbt, session):
    options = SegmentOptions.from_config(
        features=dbt.config.get("features"),
        k=dbt.config.get("k"),
        k_range=dbt.config.get("k_range"),
        random_state=dbt.config.get("random_state"),
        n_init=dbt.config.get("n_init"),
        max_iter=dbt.config.get("max_iter"),
        chunk_size=dbt.config.get("chunk_size"),
        max_fit_rows=dbt.config.get("max_fit_rows"),
        k_search_rows=dbt.config.get("k_search_rows"),
        silhouette_sample=dbt.config.get("silhouette_sample"),
        refit=dbt.config.get("refit"),
        refit_after_days=dbt.config.get("refit_after_days"),
        k_switch_margin=dbt.config.get("k_switch_margin"),
        match_max_distance=dbt.config.get("match_max_distance"),
        max_psi=dbt.config.get("max_psi"),
        refit_psi=dbt.config.get("refit_psi"),
        min_ari=dbt.config.get("min_ari"),
        max_size_change=dbt.config.get("max_size_change"),
        accept_drift=dbt.config.get("accept_drift"),
    )
    customers = dbt.ref("customer_features")
    definitions = dbt.ref("segment_definitions")
    published = session.table(str(dbt.this))
    return segment(customers, definitions, published, session, options)
