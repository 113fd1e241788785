{#-
    How long DDL that replaces a relation readers use (table swaps, views) waits for metadata locks held by
    open transactions (dbt.adapters.mysql_python.locks): at most swap_lock_wait_seconds per attempt, so no
    reader queues behind it longer, retrying until swap_timeout_seconds have passed; then the run fails naming
    the sessions that blocked it, and nothing has changed. swap_kill_blockers_of_user (off by default): kill
    that user's blocking sessions, e.g. a BI user's forgotten transactions.
-#}
{% macro lock_wait_policy() -%}
    {{ return({
        'lock_wait_seconds': var('swap_lock_wait_seconds', 1),
        'timeout_seconds': var('swap_timeout_seconds', 300),
        'kill_blockers_of_user': var('swap_kill_blockers_of_user', none),
    }) }}
{%- endmacro %}
