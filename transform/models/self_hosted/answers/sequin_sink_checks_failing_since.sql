{{ config(enabled=var('sequin_self_hosted_enabled', false)) }}
with checks as (
    select sink_id, observed_at, check_name, check_status, check_error, is_failing
    from {{ ref('stg_sequin__sink_check_history') }}
),
latest as (
    -- Each check as the latest run that reported the sink's checks saw it.
    select distinct on (sink_id, check_name)
        sink_id, check_name, observed_at, check_status, check_error, is_failing
    from checks
    order by sink_id, check_name, observed_at desc
),
last_passing as (
    select sink_id, check_name, max(observed_at) as observed_at
    from checks
    where not is_failing
    group by sink_id, check_name
)
select
    l.sink_id,
    s.name as sink_name,
    l.check_name,
    l.check_status,
    l.check_error,
    min(c.observed_at) as failing_since,
    l.observed_at - min(c.observed_at) as failing_for,
    count(*) as failing_runs,
    p.observed_at is null as failing_when_first_seen
from latest as l
join {{ ref('stg_sequin__sinks') }} as s on s.id = l.sink_id and not s.is_deleted
left join last_passing as p on p.sink_id = l.sink_id and p.check_name = l.check_name
join checks as c
  on c.sink_id = l.sink_id
 and c.check_name = l.check_name
 and c.observed_at > coalesce(p.observed_at, '-infinity')
where l.is_failing
group by l.sink_id, s.name, l.check_name, l.check_status, l.check_error, l.observed_at, p.observed_at
