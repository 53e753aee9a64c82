{{ config(
    enabled=var('sequin_self_hosted_enabled', false),
    materialized='incremental',
    unique_key=['backfill_id', 'observed_at'],
    full_refresh=false,
) }}
-- The server keeps only a backfill's latest counts and the loaded `backfills` table is
-- upserted, so this model keeps every run's: each dbt run appends the rows loaded since the
-- last one (one per backfill per load). It is never rebuilt, not even by --full-refresh,
-- because the past counts exist nowhere else.
select
    id as backfill_id,
    extracted_at as observed_at,
    sink_id,
    state,
    rows_initial_count,
    rows_processed_count,
    rows_ingested_count
from {{ ref('stg_sequin__backfills') }}
where not is_deleted
{% if is_incremental() %}
  and extracted_at > (select coalesce(max(observed_at), '-infinity') from {{ this }})
{% endif %}
