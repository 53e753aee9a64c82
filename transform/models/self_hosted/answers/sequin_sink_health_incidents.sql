{{ config(enabled=var('sequin_self_hosted_enabled', false)) }}
with observed as (
    select
        sink_id,
        observed_at,
        health_status,
        is_unhealthy,
        -- Runs not unhealthy so far: constant along a stretch of unhealthy runs.
        count(*) filter (where not is_unhealthy)
            over (partition by sink_id order by observed_at) as stretch
    from {{ ref('stg_sequin__sink_health_history') }}
    -- A run in which the server sent no health neither starts nor ends an incident.
    where health_status is not null
),
incidents as (
    select
        sink_id,
        stretch,
        min(observed_at) as started_at,
        count(*) as unhealthy_runs,
        bool_or(health_status = 'error') as reached_error
    from observed
    where is_unhealthy
    group by sink_id, stretch
),
ends as (
    -- The run that ends stretch n is the first run of stretch n + 1.
    select distinct on (sink_id, stretch)
        sink_id, stretch - 1 as stretch, observed_at as ended_at, health_status
    from observed
    order by sink_id, stretch, observed_at
),
failed_checks as (
    select
        i.sink_id,
        i.stretch,
        string_agg(distinct c.check_name, ', ' order by c.check_name) as failing_checks
    from incidents as i
    join observed as o on o.sink_id = i.sink_id and o.stretch = i.stretch and o.is_unhealthy
    join {{ ref('stg_sequin__sink_check_history') }} as c
      on c.sink_id = o.sink_id and c.observed_at = o.observed_at and c.is_failing
    group by i.sink_id, i.stretch
),
latest as (
    select sink_id, max(observed_at) as observed_at
    from {{ ref('stg_sequin__sink_health_history') }}
    group by sink_id
),
runs as (
    select distinct observed_at from {{ ref('stg_sequin__sink_health_history') }}
),
gone as (
    -- A sink deleted from the server: the first run that no longer saw it ends its open
    -- incident (the time of the deletion mark if no later run was recorded).
    select
        l.sink_id,
        coalesce(
            (select min(r.observed_at) from runs as r where r.observed_at > l.observed_at),
            s.deleted_at
        ) as gone_at
    from latest as l
    join {{ ref('stg_sequin__sinks') }} as s on s.id = l.sink_id and s.is_deleted
)
select
    i.sink_id,
    n.name as sink_name,
    i.started_at,
    coalesce(e.ended_at, g.gone_at) as ended_at,
    case
        when e.ended_at is not null then 'healthy again'
        when g.gone_at is not null then 'sink gone'
    end as ended_by,
    e.health_status as ended_with_status,
    coalesce(e.ended_at, g.gone_at, l.observed_at) - i.started_at as duration,
    i.unhealthy_runs,
    case when i.reached_error then 'error' else 'warning' end as worst_status,
    f.failing_checks
from incidents as i
join latest as l on l.sink_id = i.sink_id
left join ends as e on e.sink_id = i.sink_id and e.stretch = i.stretch
left join gone as g on g.sink_id = i.sink_id
left join failed_checks as f on f.sink_id = i.sink_id and f.stretch = i.stretch
left join {{ ref('stg_sequin__sinks') }} as n on n.id = i.sink_id
