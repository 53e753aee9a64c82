{{ config(enabled=var('sequin_v1_enabled', true)) }}
with observed as (
    select sync_id, observed_at, health_status, is_unhealthy
    from {{ ref('stg_sequin__sync_health_history') }}
),
latest as (
    select distinct on (sync_id) sync_id, observed_at, health_status, is_unhealthy
    from observed
    order by sync_id, observed_at desc
),
last_healthy as (
    select sync_id, max(observed_at) as observed_at
    from observed
    where not is_unhealthy
    group by sync_id
)
select
    l.sync_id,
    l.health_status,
    min(o.observed_at) as unhealthy_since,
    l.observed_at - min(o.observed_at) as unhealthy_for,
    count(*) as unhealthy_runs,
    h.observed_at is null as unhealthy_when_first_seen
from latest as l
left join last_healthy as h on h.sync_id = l.sync_id
join observed as o
  on o.sync_id = l.sync_id
 and o.observed_at > coalesce(h.observed_at, '-infinity')
where l.is_unhealthy
  -- A sync gone from Sequin is not unhealthy now, whatever it was when last seen.
  and not exists (
      select 1 from {{ ref('stg_sequin__syncs') }} as s
      where s.id = l.sync_id and s.is_deleted
  )
group by l.sync_id, l.health_status, l.observed_at, h.observed_at
