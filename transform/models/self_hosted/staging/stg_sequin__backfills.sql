{{ config(enabled=var('sequin_self_hosted_enabled', false)) }}
{%- set types = sequin_column_types(source('sequin_self_hosted', 'backfills')) -%}
select
    id,
    sink_id,
    sink_name,
    state,
    "table" as table_name,
    sort_column,
    rows_initial_count,
    rows_processed_count,
    rows_ingested_count,
    round(100.0 * rows_processed_count / nullif(rows_initial_count, 0), 1) as percent_done,
    {{ sequin_instant('inserted_at', types) }} as inserted_at,
    {{ sequin_instant('updated_at', types) }} as updated_at,
    {{ sequin_instant('completed_at', types) }} as completed_at,
    {{ sequin_instant('canceled_at', types) }} as canceled_at,
    {{ sequin_instant('_sdc_extracted_at', types) }} as extracted_at,
    {{ sequin_instant('_sdc_deleted_at', types) }} as deleted_at,
    _sdc_deleted_at is not null as is_deleted
from {{ source('sequin_self_hosted', 'backfills') }}
