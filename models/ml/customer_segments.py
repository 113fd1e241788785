"""customer_segments: every customer of customer_features in a KMeans segment with a stable id and name.

A dbt Python model, run in the dbt process by the mysql_python / mariadb_python adapter (adapters/mysql_python).
The work is olist_segments.segmentation's: the validation gate, log1p + standard scaling, k by the elbow
(kneedle) with the silhouette beside it, segment ids ranked by centre spend and names from
segment_definitions. It yields the customers chunk by chunk (memory stays bounded); the adapter loads them
into a new table and swaps it in with the run's row of segment_model_runs in one RENAME TABLE.
Settings: the dbt vars segment_* (dbt_project.yml), e.g. `dbt build -s customer_segments+ --vars '{segment_k: 5}'`.
"""

from olist_segments.segmentation import SegmentOptions, segment


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
        silhouette_sample=dbt.config.get("silhouette_sample"),
    )
    return segment(dbt.ref("customer_features"), dbt.ref("segment_definitions"), session, options)
