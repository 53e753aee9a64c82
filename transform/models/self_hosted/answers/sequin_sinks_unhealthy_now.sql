{{ config(enabled=var('sequin_self_hosted_enabled', false)) }}
with failing as (
    select
        s.id,
        string_agg(c.item ->> 'name', ', ' order by c.position) as failing_checks,
        string_agg(
            (c.item ->> 'name') || ': ' || (c.item ->> 'error'), ' | ' order by c.position
        ) as errors
    from {{ ref('stg_sequin__sinks') }} as s
    cross join lateral jsonb_array_elements(coalesce(s.health_checks, '[]'::jsonb))
        with ordinality as c(item, position)
    where {{ sequin_in_list("c.item ->> 'status'", var('sequin_sink_failing_check_statuses')) }}
    group by s.id
)
select
    s.id,
    s.name,
    s.destination_type,
    s.status,
    s.health_status,
    f.failing_checks,
    f.errors
from {{ ref('stg_sequin__sinks') }} as s
left join failing as f on f.id = s.id
where not s.is_deleted
  and s.is_unhealthy
