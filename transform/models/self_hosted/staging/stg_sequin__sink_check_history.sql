{{ config(enabled=var('sequin_self_hosted_enabled', false)) }}
-- One row per check of each sink's health in each run; a run in which the server sent no
-- health for the sink has no rows here (its checks are unknown, not healthy).
select
    h.sink_id,
    h.observed_at,
    h.sink_name,
    c.position::integer as check_position,
    c.item ->> 'name' as check_name,
    c.item ->> 'status' as check_status,
    c.item ->> 'error' as check_error,
    {{ sequin_in_list("c.item ->> 'status'", var('sequin_sink_failing_check_statuses')) }} as is_failing
from {{ ref('stg_sequin__sink_health_history') }} as h
cross join lateral jsonb_array_elements(coalesce(h.health_checks, '[]'::jsonb))
    with ordinality as c(item, position)
