-- sqlfluff:ignore:templating
{#- (sqlfluff's jinja templater does not know the snapshot tag: this file is not linted.) -#}
{#- Each customer's segment over time. `check` strategy on the assignment only: a new run that gives a customer
    the same segment (id and name) adds no version, so versions are real changes and the table grows with
    changes, not with runs. run_id and scored_at of a version are those of the run that made the change.
    dbt-mysql/mariadb do not implement invalidate_hard_deletes: a customer that leaves customer_segments keeps
    its last version open. Indexes: each snapshot run joins on the customer and updates by dbt_scd_id, and
    segment_transitions reads each customer's versions in order (snapshot_indexes(): the adapter's
    macros/relations/snapshot_indexes.sql). -#}
{% snapshot customer_segments_snapshot %}

    {{
        config(
            unique_key='customer_unique_id',
            strategy='check',
            check_cols=['segment_id', 'segment_name'],
            indexes=[
                {'columns': ['customer_unique_id', 'dbt_valid_from'], 'name': 'ix_customer_valid_from'},
                {'columns': ['dbt_scd_id'], 'name': 'ix_dbt_scd_id'},
            ],
            pre_hook="{{ snapshot_indexes() }}",
            post_hook="{{ snapshot_indexes() }}",
        )
    }}

    select
        customer_unique_id,
        segment_id,
        segment_name,
        run_id,
        scored_at
    from {{ ref('customer_segments') }}

{% endsnapshot %}
