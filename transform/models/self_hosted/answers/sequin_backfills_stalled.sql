{{ config(enabled=var('sequin_self_hosted_enabled', false)) }}
with observed as (
    select
        h.*,
        row_number() over (partition by h.backfill_id order by h.observed_at desc) as age,
        -- Observations so far at which the processed count differed from the one before:
        -- constant along a stretch of runs with the same count.
        count(*) filter (where h.rows_processed_count is distinct from h.previous_count)
            over (partition by h.backfill_id order by h.observed_at) as stretch
    from (
        select
            *,
            lag(rows_processed_count)
                over (partition by backfill_id order by observed_at) as previous_count
        from {{ ref('int_sequin__backfill_history') }}
    ) as h
),
latest as (
    select * from observed where age = 1
),
stuck as (
    select backfill_id, stretch, min(observed_at) as stalled_since, count(*) as runs_at_count
    from observed
    group by backfill_id, stretch
)
select
    b.id,
    b.sink_id,
    b.sink_name,
    b.table_name,
    b.rows_processed_count,
    b.rows_initial_count,
    b.percent_done,
    s.stalled_since,
    l.observed_at as last_observed_at,
    s.runs_at_count - 1 as runs_without_progress
from latest as l
join stuck as s on s.backfill_id = l.backfill_id and s.stretch = l.stretch
join {{ ref('sequin_backfills_in_progress') }} as b on b.id = l.backfill_id
where l.rows_processed_count = l.previous_count
