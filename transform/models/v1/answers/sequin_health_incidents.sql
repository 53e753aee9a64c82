{{ config(enabled=var('sequin_v1_enabled', true)) }}
with observed as (
    select
        sync_id,
        observed_at,
        is_unhealthy,
        -- Healthy runs so far: constant along a stretch of unhealthy runs.
        count(*) filter (where not is_unhealthy)
            over (partition by sync_id order by observed_at) as stretch
    from {{ ref('stg_sequin__sync_health_history') }}
),
incidents as (
    select sync_id, stretch, min(observed_at) as started_at, count(*) as unhealthy_runs
    from observed
    where is_unhealthy
    group by sync_id, stretch
),
ends as (
    -- The healthy run that ends stretch n is the first run of stretch n + 1.
    select sync_id, stretch - 1 as stretch, min(observed_at) as ended_at
    from observed
    group by sync_id, stretch
),
latest as (
    select sync_id, max(observed_at) as observed_at
    from observed
    group by sync_id
),
gone as (
    -- A sync gone from Sequin: the first run that no longer saw it ends its open incident
    -- (the time of the deletion mark if no later run was recorded).
    select
        l.sync_id,
        coalesce(
            (select min(r.observed_at) from observed as r where r.observed_at > l.observed_at),
            s.deleted_at
        ) as gone_at
    from latest as l
    join {{ ref('stg_sequin__syncs') }} as s on s.id = l.sync_id and s.is_deleted
)
select
    i.sync_id,
    i.started_at,
    coalesce(e.ended_at, g.gone_at) as ended_at,
    case
        when e.ended_at is not null then 'healthy again'
        when g.gone_at is not null then 'sync gone'
    end as ended_by,
    coalesce(e.ended_at, g.gone_at, l.observed_at) - i.started_at as duration,
    i.unhealthy_runs
from incidents as i
join latest as l on l.sync_id = i.sync_id
left join ends as e on e.sync_id = i.sync_id and e.stretch = i.stretch
left join gone as g on g.sync_id = i.sync_id
