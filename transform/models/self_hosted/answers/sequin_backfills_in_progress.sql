{{ config(enabled=var('sequin_self_hosted_enabled', false)) }}
select
    b.id,
    b.sink_id,
    b.sink_name,
    b.table_name,
    b.rows_initial_count,
    b.rows_processed_count,
    b.rows_ingested_count,
    b.percent_done,
    b.inserted_at,
    b.updated_at
from {{ ref('stg_sequin__backfills') }} as b
join {{ ref('stg_sequin__sinks') }} as s on s.id = b.sink_id and not s.is_deleted
where not b.is_deleted
  and b.state = 'active'
